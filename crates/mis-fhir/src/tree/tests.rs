use super::*;

const BUNDLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Bundle xmlns="http://hl7.org/fhir"><type value="searchset"/><total value="1"/>
<link><relation value="next"/><url value="/Slot?_offset=2&amp;_count=2"/></link>
<entry><resource><Patient><id value="p-1"/><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Иванов <b>И.</b></p><br/></div></text>
<identifier><system value="urn:oms"/><value value="7700000000000001"/></identifier><birthDate value="1980-05-17"/></Patient></resource></entry></Bundle>"#;

#[test]
fn a_bundle_reads_with_its_resources_links_and_values() {
    let bundle = from_xml(BUNDLE.as_bytes()).expect("reads");
    assert_eq!(bundle.name(), "Bundle");
    assert_eq!(bundle.value_at(&["total"]), Some("1"));
    assert_eq!(
        bundle.value_at(&["link", "url"]),
        Some("/Slot?_offset=2&_count=2")
    );
    let patient = bundle
        .at(&["entry", "resource"])
        .and_then(|r| r.resource())
        .expect("a patient");
    assert_eq!(patient.name(), "Patient");
    assert_eq!(patient.value_at(&["birthDate"]), Some("1980-05-17"));
    assert_eq!(patient.value_at(&["text", "status"]), Some("generated"));
    assert!(
        patient.at(&["text", "div"]).is_none(),
        "the narrative is skipped"
    );
}

#[test]
fn json_reads_into_the_same_tree() {
    let json = r#"{"resourceType":"Bundle","type":"searchset","total":1,
        "link":[{"relation":"next","url":"/Slot?_offset=2&_count=2"}],
        "entry":[{"resource":{"resourceType":"Patient","id":"p-1",
          "identifier":[{"system":"urn:oms","value":"7700000000000001"}],"birthDate":"1980-05-17"}}]}"#;
    let from_json = from_json(json.as_bytes()).expect("reads");
    let from_xml = from_xml(BUNDLE.as_bytes()).expect("reads");
    let patient = |b: &Node| {
        b.at(&["entry", "resource"])
            .and_then(|r| r.resource())
            .map(|p| {
                (
                    p.value_at(&["id"]).map(str::to_owned),
                    p.value_at(&["identifier", "value"]).map(str::to_owned),
                )
            })
    };
    assert_eq!(patient(&from_json), patient(&from_xml));
    assert_eq!(from_json.value_at(&["total"]), Some("1"));
}

#[test]
fn a_resource_writes_back_as_it_was_read() {
    let xml = r#"<Slot xmlns="http://hl7.org/fhir"><id value="s-1"/><schedule><reference value="Schedule/a&amp;b"/></schedule><status value="free"/><start value="2026-12-04T08:00:00+03:00"/></Slot>"#;
    let mut slot = from_xml(xml.as_bytes()).expect("reads").to_element();
    assert_eq!(slot.to_xml(), xml);
    assert!(slot.set("status", "busy"));
    assert_eq!(
        from_xml(slot.to_xml().as_bytes())
            .expect("reads")
            .value_at(&["status"]),
        Some("busy")
    );
}

#[test]
fn hostile_documents_are_refused() {
    let dtd = r#"<!DOCTYPE x [<!ENTITY a "aaaa">]><Patient xmlns="http://hl7.org/fhir"><id value="&a;"/></Patient>"#;
    assert_eq!(from_xml(dtd.as_bytes()).err(), Some(TreeError::Dtd));
    let deep = format!("<a xmlns=\"{FHIR_NS}\">")
        + &"<a>".repeat(MAX_DEPTH)
        + &"</a>".repeat(MAX_DEPTH + 1);
    assert_eq!(from_xml(deep.as_bytes()).err(), Some(TreeError::TooDeep));
    let many = format!(
        "<Bundle xmlns=\"{FHIR_NS}\">{}</Bundle>",
        "<x/>".repeat(MAX_ELEMENTS + 1)
    );
    for foreign in [
        "<Patient/>".to_owned(),
        r#"<Patient xmlns="urn:other"/>"#.to_owned(),
        format!(r#"<f:Patient xmlns:f="{FHIR_NS}"/>"#),
        format!(r#"<Patient xmlns="{FHIR_NS}"><id xmlns="urn:other" value="x"/></Patient>"#),
    ] {
        assert_eq!(
            from_xml(foreign.as_bytes()).err(),
            Some(TreeError::Namespace),
            "{foreign}"
        );
    }
    assert_eq!(from_xml(many.as_bytes()).err(), Some(TreeError::TooMany));
    for junk in ["", "<", "<a>", "</a>", "<a></b>", "{", "[]", "\u{0}"] {
        assert!(from_xml(junk.as_bytes()).is_err(), "{junk:?}");
        assert!(from_json(junk.as_bytes()).is_err(), "{junk:?}");
    }
}

#[test]
fn attribute_values_are_read_as_xml_says() {
    let read = |xml: &str| {
        let xml = xml.replace("<r>", &format!("<r xmlns=\"{FHIR_NS}\">"));
        from_xml(xml.as_bytes()).map(|n| n.value_at(&["a"]).map(str::to_owned))
    };
    let value = |v: &str| Ok(Some(v.to_owned()));
    assert_eq!(read(r#"<r><a value="x"/></r>"#), value("x"));
    assert_eq!(read(r#"<r><a id='i' value = 'y' /></r>"#), value("y"));
    assert_eq!(read("<r><a value=\"1\n2\t3\"/></r>"), value("1 2 3"));
    assert_eq!(
        read(r#"<r><a value="&lt;&amp;&#10;&#x41;"/></r>"#),
        value("<&\nA")
    );
    assert_eq!(read(r#"<r><a value="Лесная"></a></r>"#), value("Лесная"));
    assert_eq!(read(r#"<r><a/></r>"#), Ok(None));
    for bad in [
        r#"<r><a value="x" value="y"/></r>"#,
        r#"<r><a value=x/></r>"#,
        r#"<r><a value/></r>"#,
        r#"<r><a value="&bogus;"/></r>"#,
        r#"<r><a value="x"/></r><r/>"#,
    ] {
        assert!(read(bad).is_err(), "{bad}");
    }
    let many: String = (0..=MAX_ATTRIBUTES)
        .map(|i| format!(" a{i}=\"\""))
        .collect();
    assert!(read(&format!("<r><a{many}/></r>")).is_err());
}

#[test]
fn a_written_element_reads_back_the_same() {
    let element = Element::branch(
        "Appointment",
        vec![
            Element::leaf("status", "booked"),
            Element::branch("slot", vec![Element::leaf("reference", "Slot/a&b\"<c>")]),
        ],
    );
    assert_eq!(element.to_node().to_element(), element);
    let read = from_xml(element.to_xml().as_bytes()).expect("reads");
    assert_eq!(read.to_element(), element);
    assert_eq!(read.value_at(&["slot", "reference"]), Some("Slot/a&b\"<c>"));
    let names: Vec<&str> = read.el().children().map(El::name).collect();
    assert_eq!(names, ["status", "slot"]);
}

proptest::proptest! {
    #[test]
    fn no_input_makes_the_readers_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
        let _ = from_xml(&bytes);
        let _ = from_json(&bytes);
    }
}
