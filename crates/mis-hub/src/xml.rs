//! A small namespace-aware XML tree: read with quick-xml, written with its escaping.
//!
//! The hub's messages are small (kilobytes), so reading them whole into a tree and then
//! picking members by name is simpler and safer than a streaming decoder. Reading refuses a
//! DTD (so no entity can expand), unknown entity references, and nesting deeper than
//! [`MAX_DEPTH`]; it never panics on any input.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use std::fmt::Write as _;

/// The XML Schema instance namespace, whose `nil` attribute marks null members.
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// The deepest nesting accepted; the hub's messages nest fewer than 12 levels.
pub const MAX_DEPTH: usize = 64;

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the document is not UTF-8")]
    NotUtf8,
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("a DTD is not allowed")]
    Dtd,
    #[error("unknown entity reference &{0};")]
    UnknownEntity(String),
    #[error("the document nests deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("the document has no root element")]
    Empty,
    #[error("unbound namespace prefix")]
    UnboundPrefix,
}

/// An element: its namespace and local name, whether it is `xsi:nil`, its text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub ns: Option<String>,
    pub name: String,
    pub nil: bool,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// Whether this element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.name == name && self.ns.as_deref() == Some(ns)
    }

    /// The first child named `{ns}name`.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    /// The children named `{ns}name`.
    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }
}

fn malformed(e: impl std::fmt::Display) -> XmlError {
    XmlError::Malformed(e.to_string())
}

fn resolve_ns(r: &ResolveResult<'_>) -> Result<Option<String>, XmlError> {
    match r {
        ResolveResult::Bound(ns) => Ok(Some(ns.as_ref().to_owned())),
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Unknown(_) => Err(XmlError::UnboundPrefix),
    }
}

fn open(
    reader: &NsReader<&[u8]>,
    ns: Option<String>,
    e: &quick_xml::events::BytesStart<'_>,
) -> Result<Element, XmlError> {
    let mut el = Element {
        ns,
        name: e.local_name().as_ref().to_owned(),
        ..Element::default()
    };
    for attr in e.attributes() {
        let attr = attr.map_err(malformed)?;
        let (ans, local) = reader.resolver().resolve_attribute(attr.key);
        if local.as_ref() == "nil" && matches!(ans, ResolveResult::Bound(n) if n.as_ref() == XSI) {
            let v = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(malformed)?;
            el.nil = v.trim() == "true" || v.trim() == "1";
        }
    }
    Ok(el)
}

fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}

/// Reads a whole document into its root element.
pub fn parse(bytes: &[u8]) -> Result<Element, XmlError> {
    let text = std::str::from_utf8(bytes).map_err(|_| XmlError::NotUtf8)?;
    let mut reader = NsReader::from_str(text);
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(malformed)?;
        let ns = match event {
            Event::Start(_) | Event::Empty(_) => resolve_ns(&ns)?,
            _ => None,
        };
        match event {
            Event::Start(e) => {
                if root.is_some() {
                    return Err(XmlError::Malformed("content after the root element".into()));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
                let el = open(&reader, ns, &e)?;
                stack.push(el);
            }
            Event::Empty(e) => {
                if root.is_some() {
                    return Err(XmlError::Malformed("content after the root element".into()));
                }
                let el = open(&reader, ns, &e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(XmlError::Malformed("unbalanced end tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                if let Some(el) = stack.last_mut() {
                    el.text.push_str(&t.xml10_content());
                } else if !t.trim().is_empty() {
                    return Err(XmlError::Malformed("text outside the root element".into()));
                }
            }
            Event::CData(t) => match stack.last_mut() {
                Some(el) => el.text.push_str(&t.xml10_content()),
                None => return Err(XmlError::Malformed("CDATA outside the root element".into())),
            },
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(malformed)?
                } else {
                    predefined_entity(&r)
                };
                let Some(c) = c else {
                    return Err(XmlError::UnknownEntity(r.chars().take(32).collect()));
                };
                match stack.last_mut() {
                    Some(el) => el.text.push(c),
                    None => return Err(XmlError::Malformed("reference outside the root".into())),
                }
            }
            Event::DocType(_) => return Err(XmlError::Dtd),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed(
            "the document ends inside an element".into(),
        ));
    }
    root.ok_or(XmlError::Empty)
}

/// Escapes text for element content and attribute values.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// Builds a document as text. Element names are written as given (with their prefix);
/// text is escaped.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn new() -> Self {
        Self {
            out: String::with_capacity(1024),
        }
    }

    /// `<name attrs...>`; attribute values are escaped.
    pub fn open(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            let _ = write!(self.out, " {k}=\"{}\"", escape(v));
        }
        self.out.push('>');
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        let _ = write!(self.out, "</{name}>");
        self
    }

    /// `<name>text</name>`.
    pub fn leaf(&mut self, name: &str, text: &str) -> &mut Self {
        let _ = write!(self.out, "<{name}>{}</{name}>", escape(text));
        self
    }

    /// `<name i:nil="true"/>`, with `nil_prefix` bound to the XSI namespace in scope.
    pub fn nil(&mut self, name: &str, nil_prefix: &str) -> &mut Self {
        let _ = write!(self.out, "<{name} {nil_prefix}:nil=\"true\"/>");
        self
    }

    /// A leaf when `Some`, a nil element when `None`.
    pub fn opt(&mut self, name: &str, value: Option<&str>, nil_prefix: &str) -> &mut Self {
        match value {
            Some(v) => self.leaf(name, v),
            None => self.nil(name, nil_prefix),
        }
    }

    pub fn raw(&mut self, s: &str) -> &mut Self {
        self.out.push_str(s);
        self
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn namespaces_nil_and_references_are_resolved() {
        let doc = r#"<r xmlns="urn:a" xmlns:b="urn:b" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
            <b:x i:nil="true"/><y>1 &lt; 2 &#x410;&#1041;</y></r>"#;
        let root = parse(doc.as_bytes()).expect("well formed");
        assert!(root.is("urn:a", "r"));
        assert!(root.child("urn:b", "x").expect("x").nil);
        assert_eq!(root.child("urn:a", "y").expect("y").text, "1 < 2 АБ");
    }

    #[test]
    fn a_dtd_and_unknown_entities_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaa">]><r>&a;</r>"#;
        assert_eq!(parse(bomb.as_bytes()), Err(XmlError::Dtd));
        assert!(matches!(
            parse(b"<r>&a;</r>"),
            Err(XmlError::UnknownEntity(_))
        ));
    }

    #[test]
    fn truncated_deep_and_unbound_documents_are_refused() {
        assert!(parse(b"<r><a>").is_err());
        assert!(parse(b"").is_err());
        assert!(matches!(parse(b"<x:r/>"), Err(XmlError::UnboundPrefix)));
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert_eq!(parse(deep.as_bytes()), Err(XmlError::TooDeep));
    }

    proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn written_text_reads_back(s in "\\PC*") {
            let mut w = XmlWriter::new();
            w.leaf("r", &s);
            let root = parse(w.finish().as_bytes()).expect("what we write is well formed");
            prop_assert_eq!(root.text, s);
        }
    }
}
