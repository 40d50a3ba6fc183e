//! A small namespace-aware XML reader and writer, built for answers that may be hostile.
//!
//! Reading turns a whole message into a [`Document`]: one flat arena of elements whose names
//! and text are spans of the input (text is copied only where an entity reference or a
//! carriage return had to be resolved), with every namespace URI interned once per document and
//! each element holding a small index to it. A message of `n` bytes therefore costs about `n`
//! plus 28 bytes per element, and the number of elements, attributes, namespace declarations and
//! distinct namespaces are all capped ([`Limits`]), so no answer under the size limit can make
//! the reader allocate more than a few megabytes. Reading refuses a DTD (so no entity can
//! expand), unknown entity references, and nesting deeper than [`MAX_DEPTH`]; it never panics
//! on any input.
//!
//! Namespaces are resolved here on quick-xml's raw reader rather than with its `NsReader`:
//! resolving from a short stack of bindings that already carry their interned index is both
//! faster and never copies a URI.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::borrow::Cow;
use std::fmt::Write as _;

/// The XML Schema instance namespace, whose `nil` attribute marks null members.
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The namespace the `xml` prefix is bound to by definition.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// The deepest nesting accepted; the hub's messages nest fewer than 12 levels.
pub const MAX_DEPTH: usize = 64;

/// How much one document may hold. The defaults are far above any hub message (a day of
/// tickets has a few hundred elements; a patient's long history a few tens of thousands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Elements in the whole document.
    pub elements: usize,
    /// Attributes (namespace declarations included) on one element.
    pub attributes_per_element: usize,
    /// Namespace declarations in the whole document.
    pub namespace_declarations: usize,
    /// Distinct namespace URIs in the whole document.
    pub namespaces: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            elements: 100_000,
            attributes_per_element: 16,
            namespace_declarations: 256,
            namespaces: 32,
        }
    }
}

/// Bytes of a document per element above [`Limits::default`]'s: no real message of that size
/// spends fewer (a clinic's card is 15 elements in some 600 bytes; a day of tickets 7 in 250).
const BYTES_PER_ELEMENT: usize = 32;

impl Limits {
    /// The limits of a document of `len` bytes: the defaults, and for a document larger than
    /// a hub message usually is (a region's catalogue of 10 000 clinics' cards is some
    /// megabytes and 150 000 elements), one element per 32 bytes. The elements' arena (28
    /// bytes each) then stays within the document's size, which its reader bounded already.
    pub fn for_len(len: usize) -> Self {
        let default = Self::default();
        Self {
            elements: default.elements.max(len / BYTES_PER_ELEMENT),
            ..default
        }
    }
}

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
    #[error("the document has more {0} than allowed")]
    TooMany(&'static str),
}

/// No index: the end of a list of children, or an element in no namespace.
const NONE: u32 = u32::MAX;
const NO_NS: u16 = u16::MAX;

/// One element, in 28 bytes: its name and text are spans of the input (or, for text that had
/// to be rewritten, an index into the document's few owned strings).
#[derive(Debug, Clone, Copy)]
struct Node {
    name_start: u32,
    text_start: u32,
    text_len: u32,
    first_child: u32,
    next_sibling: u32,
    name_len: u16,
    ns: u16,
    nil: bool,
    owned_text: bool,
}

/// A parsed document: its elements in document order, the root first.
#[derive(Debug)]
pub struct Document<'a> {
    input: &'a str,
    nodes: Vec<Node>,
    owned: Vec<String>,
    namespaces: Vec<&'a str>,
}

impl<'a> Document<'a> {
    /// The root element.
    pub fn root(&self) -> Element<'_, 'a> {
        Element { doc: self, id: 0 }
    }

    /// How many elements the document holds.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always false: a document has at least its root.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    fn span(&self, start: u32, len: usize) -> &'a str {
        // Spans are made from slices of the input by `Builder::span_of`.
        self.input
            .get(start as usize..start as usize + len)
            .unwrap_or_default()
    }
}

/// An element of a [`Document`]: its namespace and local name, whether it is `xsi:nil`, its
/// text and its children.
#[derive(Clone, Copy)]
pub struct Element<'d, 'a> {
    doc: &'d Document<'a>,
    id: u32,
}

impl std::fmt::Debug for Element<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Element")
            .field("ns", &self.ns())
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

impl<'d, 'a> Element<'d, 'a> {
    fn node(self) -> &'d Node {
        // Ids come only from the document's own links, which point inside it.
        &self.doc.nodes[self.id as usize]
    }

    /// The local name.
    pub fn name(self) -> &'a str {
        let node = self.node();
        self.doc.span(node.name_start, usize::from(node.name_len))
    }

    /// The namespace URI, if the element is in one.
    pub fn ns(self) -> Option<&'a str> {
        let ns = self.node().ns;
        (ns != NO_NS).then(|| self.doc.namespaces[usize::from(ns)])
    }

    /// Whether the element is marked `xsi:nil="true"`.
    pub fn nil(self) -> bool {
        self.node().nil
    }

    /// The element's text (entity references resolved, line ends normalized).
    pub fn text(self) -> &'d str {
        let node = self.node();
        if node.owned_text {
            self.doc
                .owned
                .get(node.text_start as usize)
                .map_or("", String::as_str)
        } else {
            self.doc.span(node.text_start, node.text_len as usize)
        }
    }

    /// Whether this element is `{ns}name`.
    pub fn is(self, ns: &str, name: &str) -> bool {
        let node = self.node();
        usize::from(node.name_len) == name.len()
            && node.ns != NO_NS
            && self.name() == name
            && self.doc.namespaces[usize::from(node.ns)] == ns
    }

    /// The element's children, in order.
    pub fn children(self) -> Children<'d, 'a> {
        Children {
            doc: self.doc,
            next: self.node().first_child,
        }
    }

    /// The first child named `{ns}name`.
    pub fn child(self, ns: &str, name: &str) -> Option<Element<'d, 'a>> {
        self.children().find(|c| c.is(ns, name))
    }

    /// The children named `{ns}name`.
    pub fn children_named<'n>(
        self,
        ns: &'n str,
        name: &'n str,
    ) -> impl Iterator<Item = Element<'d, 'a>> + 'n
    where
        'd: 'n,
        'a: 'n,
    {
        self.children().filter(move |c| c.is(ns, name))
    }
}

/// The children of an element.
#[derive(Debug, Clone)]
pub struct Children<'d, 'a> {
    doc: &'d Document<'a>,
    next: u32,
}

impl<'d, 'a> Iterator for Children<'d, 'a> {
    type Item = Element<'d, 'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next == NONE {
            return None;
        }
        let el = Element {
            doc: self.doc,
            id: self.next,
        };
        self.next = el.node().next_sibling;
        Some(el)
    }
}

fn malformed(e: impl std::fmt::Display) -> XmlError {
    XmlError::Malformed(e.to_string())
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

/// A namespace prefix in scope (`""` for the default namespace) with its interned URI.
struct Binding<'a> {
    prefix: &'a str,
    ns: u16,
}

/// An open element: its node, its last child so far, and how many bindings it declared.
struct Open {
    id: u32,
    last_child: u32,
    bindings: usize,
}

struct Builder<'a> {
    input: &'a str,
    limits: Limits,
    nodes: Vec<Node>,
    owned: Vec<String>,
    namespaces: Vec<&'a str>,
    bindings: Vec<Binding<'a>>,
    declarations: usize,
    open: Vec<Open>,
    root_done: bool,
}

impl<'a> Builder<'a> {
    fn intern(&mut self, uri: &'a str) -> Result<u16, XmlError> {
        if let Some(i) = self.namespaces.iter().position(|n| *n == uri) {
            // At most `limits.namespaces` (well under u16::MAX) entries.
            return Ok(i as u16);
        }
        if self.namespaces.len() >= self.limits.namespaces.min(usize::from(NO_NS)) {
            return Err(XmlError::TooMany("namespaces"));
        }
        self.namespaces.push(uri);
        Ok((self.namespaces.len() - 1) as u16)
    }

    fn resolve(&self, prefix: &str) -> Result<u16, XmlError> {
        match self.bindings.iter().rev().find(|b| b.prefix == prefix) {
            Some(b) => Ok(b.ns),
            None if prefix.is_empty() => Ok(NO_NS),
            None => Err(XmlError::UnboundPrefix),
        }
    }

    /// Reads an element's attributes: binds the namespaces it declares (they apply to its own
    /// name and attributes), and finds its `…:nil` attribute, if any.
    #[inline]
    fn declare(
        &mut self,
        e: &BytesStart<'a>,
        raw: &'a str,
    ) -> Result<Option<(&'a str, &'a str)>, XmlError> {
        let mut nil_attr: Option<(&'a str, &'a str)> = None;
        if e.attributes_raw().trim().is_empty() {
            return Ok(None);
        }
        for (count, attr) in e.attributes().enumerate() {
            if count >= self.limits.attributes_per_element {
                return Err(XmlError::TooMany("attributes on one element"));
            }
            let attr = attr.map_err(malformed)?;
            let key = sub_of(raw, attr.key.as_ref())?;
            let value = match attr.value {
                Cow::Borrowed(v) => sub_of(raw, v)?,
                // quick-xml hands out raw attribute values from the input.
                Cow::Owned(_) => return Err(XmlError::Malformed("attribute value".into())),
            };
            let prefix = if key == "xmlns" {
                Some("")
            } else {
                key.strip_prefix("xmlns:")
            };
            if let Some(prefix) = prefix {
                self.declarations += 1;
                if self.declarations > self.limits.namespace_declarations {
                    return Err(XmlError::TooMany("namespace declarations"));
                }
                if value.contains('&') {
                    return Err(XmlError::Malformed(
                        "a reference in a namespace name".into(),
                    ));
                }
                let ns = if value.is_empty() {
                    NO_NS
                } else {
                    self.intern(value)?
                };
                self.bindings.push(Binding { prefix, ns });
            } else if key.ends_with(":nil") {
                nil_attr = Some((key, value));
            }
        }
        Ok(nil_attr)
    }

    /// Whether a `…:nil` attribute is `xsi:nil="true"`.
    #[inline]
    fn is_nil(&self, nil_attr: Option<(&str, &str)>) -> Result<bool, XmlError> {
        let Some((key, value)) = nil_attr else {
            return Ok(false);
        };
        let (p, _) = split_name(key);
        let xsi = self.resolve(p)?;
        Ok(xsi != NO_NS
            && self.namespaces[usize::from(xsi)] == XSI
            && matches!(value.trim(), "true" | "1"))
    }

    /// Makes node `id` the last child of the element open (or the root, if it is the first).
    #[inline]
    fn link(&mut self, id: u32) -> Result<(), XmlError> {
        match self.open.last_mut() {
            Some(parent) => {
                if parent.last_child == NONE {
                    self.nodes[parent.id as usize].first_child = id;
                } else {
                    self.nodes[parent.last_child as usize].next_sibling = id;
                }
                parent.last_child = id;
                Ok(())
            }
            None if id != 0 => Err(XmlError::Malformed("content after the root element".into())),
            None => Ok(()),
        }
    }

    /// Opens an element: declares its namespaces, resolves its name and `xsi:nil`.
    fn start(&mut self, e: &BytesStart<'a>, raw: &'a str, empty: bool) -> Result<(), XmlError> {
        if self.root_done {
            return Err(XmlError::Malformed("content after the root element".into()));
        }
        if self.open.len() >= MAX_DEPTH {
            return Err(XmlError::TooDeep);
        }
        if self.nodes.len() >= self.limits.elements {
            return Err(XmlError::TooMany("elements"));
        }
        let declared_before = self.bindings.len();
        let nil_attr = self.declare(e, raw)?;
        let (prefix, local) = split_name(sub_of(raw, e.name().as_ref())?);
        let (name_start, name_len) = self.span_of(local)?;
        let name_len =
            u16::try_from(name_len).map_err(|_| XmlError::TooMany("characters in a name"))?;
        let ns = if prefix == "xml" {
            self.intern(XML_NS)?
        } else {
            self.resolve(prefix)?
        };
        let nil = self.is_nil(nil_attr)?;
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            name_start,
            text_start: 0,
            text_len: 0,
            first_child: NONE,
            next_sibling: NONE,
            name_len,
            ns,
            nil,
            owned_text: false,
        });
        self.link(id)?;
        let bindings = self.bindings.len() - declared_before;
        if empty {
            self.bindings.truncate(declared_before);
            if self.open.is_empty() {
                self.root_done = true;
            }
        } else {
            self.open.push(Open {
                id,
                last_child: NONE,
                bindings,
            });
        }
        Ok(())
    }

    fn end(&mut self) -> Result<(), XmlError> {
        let open = self
            .open
            .pop()
            .ok_or_else(|| XmlError::Malformed("unbalanced end tag".into()))?;
        let keep = self.bindings.len() - open.bindings;
        self.bindings.truncate(keep);
        if self.open.is_empty() {
            self.root_done = true;
        }
        Ok(())
    }

    /// Adds text to the open element. Whitespace between child elements is dropped.
    fn text(&mut self, text: Cow<'a, str>) -> Result<(), XmlError> {
        let Some(open) = self.open.last() else {
            if text.trim().is_empty() {
                return Ok(());
            }
            return Err(XmlError::Malformed("text outside the root element".into()));
        };
        if open.last_child != NONE && text.trim().is_empty() {
            return Ok(());
        }
        let id = open.id as usize;
        let node = self.nodes[id];
        if node.text_len == 0 && !node.owned_text {
            match text {
                Cow::Borrowed(t) => {
                    let (start, len) = self.span_of(t)?;
                    self.nodes[id].text_start = start;
                    self.nodes[id].text_len = len;
                }
                Cow::Owned(t) => self.own_text(id, t),
            }
        } else if node.owned_text {
            if let Some(owned) = self.owned.get_mut(node.text_start as usize) {
                owned.push_str(&text);
            }
        } else {
            let start = node.text_start as usize;
            let mut joined = self
                .input
                .get(start..start + node.text_len as usize)
                .unwrap_or_default()
                .to_owned();
            joined.push_str(&text);
            self.own_text(id, joined);
        }
        Ok(())
    }

    fn own_text(&mut self, id: usize, text: String) {
        // One owned string per element at most, so their count is bounded by the elements'.
        self.nodes[id].owned_text = true;
        self.nodes[id].text_start = self.owned.len() as u32;
        self.nodes[id].text_len = 0;
        self.owned.push(text);
    }

    /// The start and length of a slice of the input.
    fn span_of(&self, part: &str) -> Result<(u32, u32), XmlError> {
        let part = sub_of(self.input, part)?;
        let start = part.as_ptr() as usize - self.input.as_ptr() as usize;
        // The input is at most u32::MAX bytes (checked in `parse_with`).
        Ok((start as u32, part.len() as u32))
    }
}

/// The part of `outer` that `inner` is: quick-xml's events borrow the input, so names and raw
/// values are slices of it, and keeping them as such keeps the input's lifetime.
fn sub_of<'a>(outer: &'a str, inner: &str) -> Result<&'a str, XmlError> {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    match i.checked_sub(o) {
        Some(start) if start + inner.len() <= outer.len() => outer
            .get(start..start + inner.len())
            .ok_or_else(|| XmlError::Malformed("a name outside the input".into())),
        _ => Err(XmlError::Malformed("a name outside the input".into())),
    }
}

fn split_name(qname: &str) -> (&str, &str) {
    qname.split_once(':').unwrap_or(("", qname))
}

/// Reads a whole document within the [`Limits`] of its size ([`Limits::for_len`]).
pub fn parse(bytes: &[u8]) -> Result<Document<'_>, XmlError> {
    parse_with(bytes, Limits::for_len(bytes.len()))
}

/// Reads a whole document within `limits`.
pub fn parse_with(bytes: &[u8], limits: Limits) -> Result<Document<'_>, XmlError> {
    let text = std::str::from_utf8(bytes).map_err(|_| XmlError::NotUtf8)?;
    if u32::try_from(text.len()).is_err() {
        return Err(XmlError::TooMany("bytes"));
    }
    let mut reader = Reader::from_str(text);
    let mut b = Builder {
        input: text,
        owned: Vec::new(),
        limits,
        // Hub messages run 30 to 50 bytes an element; n / 4 is the most any can have.
        nodes: Vec::with_capacity((text.len() / 32).min(limits.elements)),
        namespaces: Vec::new(),
        bindings: Vec::new(),
        declarations: 0,
        open: Vec::new(),
        root_done: false,
    };
    b.intern(XSI)?;
    loop {
        match reader.read_event().map_err(malformed)? {
            Event::Start(e) => b.start(&e, text, false)?,
            Event::Empty(e) => b.start(&e, text, true)?,
            Event::End(_) => b.end()?,
            Event::Text(t) => b.text(t.xml10_content())?,
            Event::CData(t) => {
                if b.open.is_empty() {
                    return Err(XmlError::Malformed("CDATA outside the root element".into()));
                }
                b.text(t.xml10_content())?;
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(malformed)?
                } else {
                    predefined_entity(&r)
                };
                let Some(c) = c else {
                    return Err(XmlError::UnknownEntity(r.chars().take(32).collect()));
                };
                if b.open.is_empty() {
                    return Err(XmlError::Malformed("reference outside the root".into()));
                }
                let mut buf = [0u8; 4];
                b.text(Cow::Owned(c.encode_utf8(&mut buf).to_owned()))?;
            }
            Event::DocType(_) => return Err(XmlError::Dtd),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !b.open.is_empty() {
        return Err(XmlError::Malformed(
            "the document ends inside an element".into(),
        ));
    }
    if b.nodes.is_empty() {
        return Err(XmlError::Empty);
    }
    Ok(Document {
        input: text,
        nodes: b.nodes,
        owned: b.owned,
        namespaces: b.namespaces,
    })
}

pub use mis_http::xml_text::{escape, is_xml_char};

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
mod tests;
