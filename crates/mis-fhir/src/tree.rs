//! FHIR resources as one small tree, read from XML (`application/fhir+xml`, the format the
//! gateway asks for) or JSON (where a server answers it), and written back to XML in the order
//! its elements came in (a server writes them in the specification's order).
//!
//! Reading is bounded as the hub codec's is: a size the client checks first, at most
//! [`MAX_DEPTH`] levels and [`MAX_ELEMENTS`] elements, no DTD (so no entity can expand), and it
//! never panics on any input. The narrative (`text/div`, XHTML) is skipped.

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// The FHIR namespace.
pub const FHIR_NS: &str = "http://hl7.org/fhir";
/// The deepest nesting read.
pub const MAX_DEPTH: usize = 64;
/// The most elements one document may have.
pub const MAX_ELEMENTS: usize = 200_000;

/// One element: its name, its `value`, its children in order. A resource inside a `resource`
/// (or `contained`) element is that element's one child, named by its type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Node {
    pub name: String,
    pub value: Option<String>,
    pub children: Vec<Node>,
}

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("a DTD is not accepted")]
    Dtd,
    #[error("nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("more than {MAX_ELEMENTS} elements")]
    TooMany,
}

fn malformed(e: impl std::fmt::Display) -> TreeError {
    TreeError::Malformed(e.to_string())
}

impl Node {
    pub fn leaf(name: &str, value: &str) -> Self {
        Self {
            name: name.to_owned(),
            value: Some(value.to_owned()),
            children: Vec::new(),
        }
    }

    pub fn branch(name: &str, children: Vec<Node>) -> Self {
        Self {
            name: name.to_owned(),
            value: None,
            children,
        }
    }

    /// The first child named `name`.
    pub fn get(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child named `name`.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Node> + 's {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The node at `path` (each step the first child of that name).
    pub fn at(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, name| node.get(name))
    }

    /// The value at `path`.
    pub fn value_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path)?.value.as_deref()
    }

    /// The resource a `resource` element wraps.
    pub fn resource(&self) -> Option<&Node> {
        self.children.first()
    }

    /// Sets the value of the child `name` (which must exist).
    pub fn set(&mut self, name: &str, value: &str) -> bool {
        match self.children.iter_mut().find(|c| c.name == name) {
            Some(child) => {
                child.value = Some(value.to_owned());
                true
            }
            None => false,
        }
    }

    /// The resource written as FHIR XML, its elements in the order they have.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(512);
        out.push('<');
        out.push_str(&self.name);
        out.push_str(" xmlns=\"");
        out.push_str(FHIR_NS);
        out.push('"');
        write_rest(self, &mut out);
        out
    }
}

fn escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

/// Writes a node's attribute and children, its start tag opened already.
fn write_rest(node: &Node, out: &mut String) {
    if let Some(value) = &node.value {
        out.push_str(" value=\"");
        escape(value, out);
        out.push('"');
    }
    if node.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for child in &node.children {
        out.push('<');
        out.push_str(&child.name);
        write_rest(child, out);
    }
    out.push_str("</");
    out.push_str(&node.name);
    out.push('>');
}

/// The `value` attribute of a start tag, if it has one.
fn value_of(e: &BytesStart<'_>) -> Result<Option<String>, TreeError> {
    for attr in e.attributes() {
        let attr = attr.map_err(malformed)?;
        if attr.key.local_name().as_ref() == "value" {
            let value = attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(malformed)?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn local_name(e: &BytesStart<'_>) -> Result<String, TreeError> {
    let local = e.local_name();
    let name: &str = local.as_ref();
    Ok(name.to_owned())
}

/// Reads a FHIR XML document.
pub fn from_xml(bytes: &[u8]) -> Result<Node, TreeError> {
    let text = std::str::from_utf8(bytes).map_err(malformed)?;
    let mut reader = Reader::from_str(text);
    let mut open: Vec<Node> = Vec::new();
    let mut elements = 0usize;
    // Inside the narrative (XHTML): its depth, skipped whole.
    let mut skipping = 0usize;
    loop {
        let event = reader.read_event().map_err(malformed)?;
        match event {
            Event::DocType(_) => return Err(TreeError::Dtd),
            Event::Start(_) if skipping > 0 => skipping += 1,
            Event::Empty(_) if skipping > 0 => {}
            Event::End(_) if skipping > 0 => skipping -= 1,
            Event::Start(e) => {
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(TreeError::TooMany);
                }
                if open.len() >= MAX_DEPTH {
                    return Err(TreeError::TooDeep);
                }
                let name = local_name(&e)?;
                if name == "div" {
                    skipping = 1;
                    continue;
                }
                open.push(Node {
                    name,
                    value: value_of(&e)?,
                    children: Vec::new(),
                });
            }
            Event::Empty(e) => {
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(TreeError::TooMany);
                }
                let node = Node {
                    name: local_name(&e)?,
                    value: value_of(&e)?,
                    children: Vec::new(),
                };
                match open.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Ok(node),
                }
            }
            Event::End(_) => {
                let Some(done) = open.pop() else {
                    return Err(TreeError::Malformed("an end tag with no start".into()));
                };
                match open.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return Ok(done),
                }
            }
            Event::Eof => return Err(TreeError::Malformed("the document ends early".into())),
            _ => {}
        }
    }
}

/// Reads a FHIR JSON document into the same tree.
pub fn from_json(bytes: &[u8]) -> Result<Node, TreeError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(malformed)?;
    let mut count = 0usize;
    resource_of(&value, 0, &mut count)
}

fn resource_of(
    value: &serde_json::Value,
    depth: usize,
    count: &mut usize,
) -> Result<Node, TreeError> {
    let object = value
        .as_object()
        .ok_or_else(|| TreeError::Malformed("a resource is not an object".into()))?;
    let kind = object
        .get("resourceType")
        .and_then(|t| t.as_str())
        .ok_or_else(|| TreeError::Malformed("a resource without resourceType".into()))?;
    object_of(kind, object, depth, count)
}

fn object_of(
    name: &str,
    object: &serde_json::Map<String, serde_json::Value>,
    depth: usize,
    count: &mut usize,
) -> Result<Node, TreeError> {
    if depth >= MAX_DEPTH {
        return Err(TreeError::TooDeep);
    }
    let mut node = Node::branch(name, Vec::new());
    for (key, value) in object {
        if key == "resourceType" || key.starts_with('_') {
            continue;
        }
        let items: &[serde_json::Value] = match value {
            serde_json::Value::Array(items) => items,
            one => std::slice::from_ref(one),
        };
        for item in items {
            *count += 1;
            if *count > MAX_ELEMENTS {
                return Err(TreeError::TooMany);
            }
            node.children.push(match item {
                serde_json::Value::Object(inner) if inner.contains_key("resourceType") => {
                    Node::branch(key, vec![resource_of(item, depth + 1, count)?])
                }
                serde_json::Value::Object(inner) => object_of(key, inner, depth + 1, count)?,
                serde_json::Value::String(s) => Node::leaf(key, s),
                serde_json::Value::Null => continue,
                other => Node::leaf(key, &other.to_string()),
            });
        }
    }
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUNDLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Bundle xmlns="http://hl7.org/fhir"><type value="searchset"/><total value="1"/>
<link><relation value="next"/><url value="/Slot?_offset=2&amp;_count=2"/></link>
<entry><resource><Patient><id value="p-1"/><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>Иванов <b>И.</b></p><br/></div></text>
<identifier><system value="urn:oms"/><value value="7700000000000001"/></identifier><birthDate value="1980-05-17"/></Patient></resource></entry></Bundle>"#;

    #[test]
    fn a_bundle_reads_with_its_resources_links_and_values() {
        let bundle = from_xml(BUNDLE.as_bytes()).expect("reads");
        assert_eq!(bundle.name, "Bundle");
        assert_eq!(bundle.value_at(&["total"]), Some("1"));
        assert_eq!(
            bundle.value_at(&["link", "url"]),
            Some("/Slot?_offset=2&_count=2")
        );
        let patient = bundle
            .at(&["entry", "resource"])
            .and_then(Node::resource)
            .expect("a patient");
        assert_eq!(patient.name, "Patient");
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
                .and_then(Node::resource)
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
        let mut slot = from_xml(xml.as_bytes()).expect("reads");
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
        assert_eq!(from_xml(dtd.as_bytes()), Err(TreeError::Dtd));
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert_eq!(from_xml(deep.as_bytes()), Err(TreeError::TooDeep));
        let many = format!("<Bundle>{}</Bundle>", "<x/>".repeat(MAX_ELEMENTS + 1));
        assert_eq!(from_xml(many.as_bytes()), Err(TreeError::TooMany));
        for junk in ["", "<", "<a>", "</a>", "<a></b>", "{", "[]", "\u{0}"] {
            assert!(from_xml(junk.as_bytes()).is_err(), "{junk:?}");
            assert!(from_json(junk.as_bytes()).is_err(), "{junk:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn no_input_makes_the_readers_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = from_xml(&bytes);
            let _ = from_json(&bytes);
        }
    }
}
