use super::*;
use proptest::prelude::*;

#[test]
fn namespaces_nil_and_references_are_resolved() {
    let doc = r#"<r xmlns="urn:a" xmlns:b="urn:b" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
        <b:x i:nil="true"/><y>1 &lt; 2 &#x410;&#1041;</y><z xmlns="urn:b">t</z></r>"#;
    let doc = parse(doc.as_bytes()).expect("well formed");
    let root = doc.root();
    assert!(root.is("urn:a", "r"));
    assert!(root.child("urn:b", "x").expect("x").nil());
    assert_eq!(root.child("urn:a", "y").expect("y").text(), "1 < 2 АБ");
    assert_eq!(root.child("urn:b", "z").expect("z").text(), "t");
    assert_eq!(
        root.children().count(),
        3,
        "whitespace between elements is not a child"
    );
}

#[test]
fn line_ends_are_normalized_and_cdata_is_text() {
    let doc = parse(b"<r><a>x\r\ny</a><b><![CDATA[<&>]]></b></r>").expect("well formed");
    let texts: Vec<&str> = doc.root().children().map(|c| c.text()).collect();
    assert_eq!(texts, ["x\ny", "<&>"]);
}

#[test]
fn a_dtd_and_unknown_entities_are_refused() {
    let bomb = r#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaa">]><r>&a;</r>"#;
    assert_eq!(parse(bomb.as_bytes()).err(), Some(XmlError::Dtd));
    assert!(matches!(
        parse(b"<r>&a;</r>"),
        Err(XmlError::UnknownEntity(_))
    ));
}

#[test]
fn truncated_deep_and_unbound_documents_are_refused() {
    assert!(parse(b"<r><a>").is_err());
    assert!(parse(b"").is_err());
    assert!(parse(b"<r/><r/>").is_err());
    assert!(matches!(parse(b"<x:r/>"), Err(XmlError::UnboundPrefix)));
    let deep = "<a>".repeat(100) + &"</a>".repeat(100);
    assert_eq!(parse(deep.as_bytes()).err(), Some(XmlError::TooDeep));
}

#[test]
fn every_count_a_hostile_document_can_grow_is_capped() {
    let limits = Limits::default();
    let many = format!("<r>{}</r>", "<a/>".repeat(limits.elements));
    assert_eq!(
        parse(many.as_bytes()).err(),
        Some(XmlError::TooMany("elements"))
    );
    // A larger document may hold more elements, never more than one per 32 bytes.
    let dense = format!("<r>{}</r>", "<a/>".repeat(8 * limits.elements));
    assert_eq!(
        parse(dense.as_bytes()).err(),
        Some(XmlError::TooMany("elements"))
    );
    let padded = format!(
        "<r>{}</r>",
        "<a>                            </a>".repeat(2 * limits.elements)
    );
    assert_eq!(
        parse(padded.as_bytes()).map(|d| d.len()).ok(),
        Some(2 * limits.elements + 1),
        "a region's catalogue of 200 000 elements in 7 MB is read"
    );
    let attrs: String = (0..=limits.attributes_per_element)
        .map(|i| format!(" a{i}=\"1\""))
        .collect();
    assert_eq!(
        parse(format!("<r{attrs}/>").as_bytes()).err(),
        Some(XmlError::TooMany("attributes on one element"))
    );
    let spaces: String = (0..limits.namespaces)
        .map(|i| format!("<a xmlns=\"urn:{i}\"/>"))
        .collect();
    assert_eq!(
        parse(format!("<r>{spaces}</r>").as_bytes()).err(),
        Some(XmlError::TooMany("namespaces"))
    );
    let declarations: String = (0..=limits.namespace_declarations)
        .map(|_| "<a xmlns=\"urn:x\"/>")
        .collect();
    assert_eq!(
        parse(format!("<r>{declarations}</r>").as_bytes()).err(),
        Some(XmlError::TooMany("namespace declarations"))
    );
}

#[test]
fn a_long_namespace_is_stored_once_however_many_elements_use_it() {
    let ns = "urn:".to_owned() + &"n".repeat(2_000);
    let body = format!("<r xmlns=\"{ns}\">{}</r>", "<a>1</a>".repeat(10_000));
    let doc = parse(body.as_bytes()).expect("well formed");
    assert_eq!(doc.len(), 10_001);
    assert_eq!(doc.namespaces.len(), 2, "XSI and the one URI");
    assert!(doc.root().children().all(|c| c.ns() == Some(ns.as_str())));
}

#[test]
fn characters_xml_cannot_carry_are_written_as_the_replacement_character() {
    let mut w = XmlWriter::new();
    w.leaf("r", "a\u{FFFE}b\u{1}");
    assert_eq!(w.finish(), "<r>a\u{FFFD}b\u{FFFD}</r>");
}

proptest! {
    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn written_text_reads_back(s in "[\\t\\n\\x20-\\u{D7FF}\\u{E000}-\\u{FFFD}]*") {
        let mut w = XmlWriter::new();
        w.leaf("r", &s);
        let written = w.finish();
        let doc = parse(written.as_bytes()).expect("what we write is well formed");
        prop_assert_eq!(doc.root().text(), s.as_str());
    }
}
