//! Text in the XML documents the adapters write (the hub's SOAP envelopes, FHIR's resources):
//! one escape for element content and attribute values alike.

use std::borrow::Cow;

/// Whether XML 1.0 can carry the character at all (its `Char` production); Rust strings hold
/// no surrogates, so what is left to refuse is most C0 controls, U+FFFE and U+FFFF.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Whether a character is written as a reference rather than as itself.
fn needs_escape(c: char) -> bool {
    matches!(c, '&' | '<' | '>' | '"' | '\'' | '\t' | '\n' | '\r') || !is_xml_char(c)
}

/// Appends `s` escaped for element content or an attribute value (quoted with `"` or `'`).
/// Tabs and line ends are written as character references, so that an attribute keeps them
/// (a parser normalizes literal ones to spaces) and a `\r` survives in content. Characters
/// XML cannot carry are replaced by U+FFFD: callers refuse them at input, and this is the
/// last line of defence that keeps every document written well formed.
pub fn escape_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// [`escape_into`] as a value: borrowed when there is nothing to escape.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    escape_into(s, &mut out);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_characters_are_those_of_the_char_production() {
        for c in ['a', 'я', '\t', '\u{FFFD}', '\u{10000}'] {
            assert!(is_xml_char(c), "{c:?}");
        }
        for c in ['\u{0}', '\u{1}', '\u{1F}', '\u{FFFE}', '\u{FFFF}'] {
            assert!(!is_xml_char(c), "{c:?}");
        }
    }

    #[test]
    fn markup_line_ends_and_impossible_characters_are_escaped() {
        assert_eq!(escape("plain текст"), Cow::Borrowed("plain текст"));
        assert_eq!(
            escape("a<b>&\"c'\t\n\r\u{1}\u{FFFE}"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#9;&#10;&#13;\u{FFFD}\u{FFFD}"
        );
    }
}
