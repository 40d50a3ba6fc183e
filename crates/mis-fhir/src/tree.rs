//! FHIR resources as one small tree, read from XML (`application/fhir+xml`, the format the
//! gateway asks for) or JSON (where a server answers it), and written back to XML in the order
//! its elements came in (a server writes them in the specification's order).
//!
//! Reading makes one flat arena per document ([`Node`] is a cheap handle into it): the
//! document's text is kept once, every element name and `value` is a span of it (a value is
//! copied only where an entity or a line end had to be resolved), and each element costs 28
//! bytes, with no allocation of its own. Writing uses [`Element`], an owned tree built by the
//! adapter or copied from a read resource to change it.
//!
//! Reading is bounded as the hub codec's is: a size the client checks first, at most
//! [`MAX_DEPTH`] levels, [`MAX_ELEMENTS`] elements and [`MAX_ATTRIBUTES`] attributes on one
//! element, no DTD (so no entity can expand), and it never panics on any input. It is
//! namespace-aware as FHIR needs: the root declares the FHIR namespace its default, no element
//! has a prefix or another default namespace. The narrative (`text/div`, XHTML, in its own
//! namespace) is skipped.

use mis_http::xml_text::escape_into;
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::sync::Arc;

/// The FHIR namespace.
pub const FHIR_NS: &str = "http://hl7.org/fhir";
/// The deepest nesting read.
pub const MAX_DEPTH: usize = 64;
/// The most elements one document may have.
pub const MAX_ELEMENTS: usize = 200_000;
/// The most attributes one element may have (FHIR's have one or two).
pub const MAX_ATTRIBUTES: usize = 16;

/// No index: no child, no sibling, no value.
const NONE: u32 = u32::MAX;

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
    #[error("an element outside the FHIR namespace")]
    Namespace,
}

fn malformed(e: impl std::fmt::Display) -> TreeError {
    TreeError::Malformed(e.to_string())
}

/// One element of the arena: spans of the text and links to its first child, its last child
/// (to append the next one) and its next sibling.
#[derive(Debug, Clone, Copy)]
struct Raw {
    name_start: u32,
    name_len: u32,
    value_start: u32,
    value_len: u32,
    first_child: u32,
    last_child: u32,
    next: u32,
}

/// A read document: its text (the input, then the values that had to be rewritten) and its
/// elements in document order, the root first.
#[derive(Debug, Default)]
struct Tree {
    text: String,
    nodes: Vec<Raw>,
}

impl Tree {
    fn span(&self, start: u32, len: u32) -> &str {
        // Spans are made only by `Builder` from this text.
        self.text
            .get(start as usize..start as usize + len as usize)
            .unwrap_or_default()
    }

    fn raw(&self, id: u32) -> &Raw {
        // Ids come only from the tree's own links.
        &self.nodes[id as usize]
    }

    fn name(&self, id: u32) -> &str {
        let raw = self.raw(id);
        self.span(raw.name_start, raw.name_len)
    }

    fn value(&self, id: u32) -> Option<&str> {
        let raw = self.raw(id);
        (raw.value_start != NONE).then(|| self.span(raw.value_start, raw.value_len))
    }

    /// The first child of `id` named `name`.
    fn child(&self, id: u32, name: &str) -> Option<u32> {
        let mut next = self.raw(id).first_child;
        while next != NONE {
            if self.name(next) == name {
                return Some(next);
            }
            next = self.raw(next).next;
        }
        None
    }

    /// The element at `path` below `id`.
    fn at(&self, id: u32, path: &[&str]) -> Option<u32> {
        path.iter().try_fold(id, |id, name| self.child(id, name))
    }
}

/// A read resource (or any element): a handle on its document (cloning one is a reference
/// count). Its accessors are [`El`]'s.
#[derive(Clone)]
pub struct Node {
    tree: Arc<Tree>,
    id: u32,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.el().fmt(f)
    }
}

impl Node {
    /// The element, to read.
    pub fn el(&self) -> El<'_> {
        El {
            tree: &self.tree,
            id: self.id,
        }
    }

    /// The element's name.
    pub fn name(&self) -> &str {
        self.el().name()
    }

    /// The first child named `name`.
    pub fn get(&self, name: &str) -> Option<El<'_>> {
        self.el().get(name)
    }

    /// Every child named `name`.
    pub fn all<'s>(&'s self, name: &'s str) -> impl Iterator<Item = El<'s>> + 's {
        self.el().all(name)
    }

    /// The element at `path` (each step the first child of that name).
    pub fn at(&self, path: &[&str]) -> Option<El<'_>> {
        self.el().at(path)
    }

    /// The value at `path`.
    pub fn value_at(&self, path: &[&str]) -> Option<&str> {
        self.el().value_at(path)
    }

    /// The element as an owned [`Element`], to change and write back.
    pub fn to_element(&self) -> Element {
        self.el().to_element()
    }
}

/// An element of a read document: its name, its `value`, its children in order. A resource
/// inside a `resource` (or `contained`) element is that element's one child, named by its type.
#[derive(Clone, Copy)]
pub struct El<'t> {
    tree: &'t Arc<Tree>,
    id: u32,
}

impl std::fmt::Debug for El<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("El")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

impl<'t> El<'t> {
    fn with(self, id: u32) -> El<'t> {
        El {
            tree: self.tree,
            id,
        }
    }

    /// The element's name.
    pub fn name(self) -> &'t str {
        self.tree.name(self.id)
    }

    /// The element's `value`, if it has one.
    pub fn value(self) -> Option<&'t str> {
        self.tree.value(self.id)
    }

    /// The element's children, in order.
    pub fn children(self) -> impl Iterator<Item = El<'t>> {
        let mut next = self.tree.raw(self.id).first_child;
        std::iter::from_fn(move || {
            let id = next;
            (id != NONE).then(|| {
                next = self.tree.raw(id).next;
                self.with(id)
            })
        })
    }

    /// The first child named `name`.
    pub fn get(self, name: &str) -> Option<El<'t>> {
        self.tree.child(self.id, name).map(|id| self.with(id))
    }

    /// Every child named `name`.
    pub fn all(self, name: &str) -> impl Iterator<Item = El<'t>> {
        self.children().filter(move |c| c.name() == name)
    }

    /// The element at `path` (each step the first child of that name).
    pub fn at(self, path: &[&str]) -> Option<El<'t>> {
        self.tree.at(self.id, path).map(|id| self.with(id))
    }

    /// The value at `path`.
    pub fn value_at(self, path: &[&str]) -> Option<&'t str> {
        self.tree.value(self.tree.at(self.id, path)?)
    }

    /// The resource a `resource` element wraps.
    pub fn resource(self) -> Option<El<'t>> {
        let first = self.tree.raw(self.id).first_child;
        (first != NONE).then(|| self.with(first))
    }

    /// A handle on this element that outlives the borrow (it shares the document).
    pub fn to_node(self) -> Node {
        Node {
            tree: Arc::clone(self.tree),
            id: self.id,
        }
    }

    /// The element as an owned [`Element`], to change and write back.
    pub fn to_element(self) -> Element {
        Element {
            name: self.name().to_owned(),
            value: self.value().map(str::to_owned),
            children: self.children().map(El::to_element).collect(),
        }
    }
}

/// An element to write: its name, its `value`, its children in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub name: String,
    pub value: Option<String>,
    pub children: Vec<Element>,
}

impl Element {
    pub fn leaf(name: &str, value: &str) -> Self {
        Self {
            name: name.to_owned(),
            value: Some(value.to_owned()),
            children: Vec::new(),
        }
    }

    pub fn branch(name: &str, children: Vec<Element>) -> Self {
        Self {
            name: name.to_owned(),
            value: None,
            children,
        }
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

    /// The element read back as a [`Node`] (for tests and for answers made here).
    pub fn to_node(&self) -> Node {
        let mut tree = Tree::default();
        add_element(&mut tree, self, NONE);
        Node {
            tree: Arc::new(tree),
            id: 0,
        }
    }
}

fn add_element(tree: &mut Tree, element: &Element, parent: u32) {
    let id = push(tree, parent, &element.name, element.value.as_deref());
    for child in &element.children {
        add_element(tree, child, id);
    }
}

/// Appends an element whose name and value are copied to the end of the text.
fn push(tree: &mut Tree, parent: u32, name: &str, value: Option<&str>) -> u32 {
    let name = append(&mut tree.text, name);
    let value = value.map_or((NONE, 0), |v| append(&mut tree.text, v));
    link(tree, parent, name, value)
}

fn append(text: &mut String, part: &str) -> (u32, u32) {
    let start = text.len() as u32;
    text.push_str(part);
    (start, part.len() as u32)
}

/// Adds an element as the last child of `parent` (or as the root).
fn link(tree: &mut Tree, parent: u32, name: (u32, u32), value: (u32, u32)) -> u32 {
    let id = tree.nodes.len() as u32;
    tree.nodes.push(Raw {
        name_start: name.0,
        name_len: name.1,
        value_start: value.0,
        value_len: value.1,
        first_child: NONE,
        last_child: NONE,
        next: NONE,
    });
    if let Some(p) = tree.nodes.get(parent as usize).copied() {
        if p.last_child == NONE {
            tree.nodes[parent as usize].first_child = id;
        } else {
            tree.nodes[p.last_child as usize].next = id;
        }
        tree.nodes[parent as usize].last_child = id;
    }
    id
}

/// Writes an element's attribute and children, its start tag opened already.
fn write_rest(element: &Element, out: &mut String) {
    if let Some(value) = &element.value {
        out.push_str(" value=\"");
        escape_into(value, out);
        out.push('"');
    }
    if element.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for child in &element.children {
        out.push('<');
        out.push_str(&child.name);
        write_rest(child, out);
    }
    out.push_str("</");
    out.push_str(&element.name);
    out.push('>');
}

/// The part of `outer` that `inner` is (quick-xml's events borrow the input), as a span.
fn span_in(outer: &str, inner: &[u8]) -> Result<(u32, u32), TreeError> {
    let start = (inner.as_ptr() as usize).checked_sub(outer.as_ptr() as usize);
    match start {
        Some(start) if start + inner.len() <= outer.len() => Ok((start as u32, inner.len() as u32)),
        _ => Err(TreeError::Malformed("a name outside the input".into())),
    }
}

/// The `value` attribute of a start tag, read by hand: a span of the input where it holds
/// no entity and no line end, else normalized and appended to `extra` (at `base` + its
/// offset there). Attributes are checked as XML says: each `name="…"` or `name='…'`, no `<`
/// in a value, no name twice. Whether the element declares the FHIR namespace its default
/// (another default namespace is refused).
fn value_of(
    input: &str,
    e: &BytesStart<'_>,
    extra: &mut String,
    base: usize,
) -> Result<((u32, u32), bool), TreeError> {
    let raw = e.attributes_raw().as_bytes();
    let mut names: [&[u8]; MAX_ATTRIBUTES] = [&[]; MAX_ATTRIBUTES];
    let mut count = 0;
    let mut found = (NONE, 0);
    let mut fhir = false;
    let mut rest = raw;
    loop {
        rest = rest.trim_ascii_start();
        if rest.is_empty() {
            return Ok((found, fhir));
        }
        let eq =
            memchr::memchr(b'=', rest).ok_or_else(|| malformed("an attribute without a value"))?;
        let name = rest[..eq].trim_ascii_end();
        if name.is_empty() || name.iter().any(|b| b.is_ascii_whitespace() || *b == b'"') {
            return Err(malformed("a malformed attribute"));
        }
        if names[..count].contains(&name) {
            return Err(malformed("an attribute given twice"));
        }
        if count == MAX_ATTRIBUTES {
            return Err(malformed("too many attributes on one element"));
        }
        names[count] = name;
        count += 1;
        let after = rest[eq + 1..].trim_ascii_start();
        let quote = match after.first() {
            Some(&q @ (b'"' | b'\'')) => q,
            _ => return Err(malformed("an attribute value without quotes")),
        };
        let close = memchr::memchr(quote, &after[1..])
            .ok_or_else(|| malformed("an attribute value not closed"))?;
        let value = &after[1..1 + close];
        if memchr::memchr(b'<', value).is_some() {
            return Err(malformed("'<' in an attribute value"));
        }
        if name == b"value" {
            let plain = memchr::memchr3(b'&', b'\n', b'\r', value).is_none()
                && memchr::memchr(b'\t', value).is_none();
            found = if !plain {
                normalized(value, extra, base)?
            } else {
                span_in(input, value)?
            };
        } else if name == b"xmlns" {
            if value != FHIR_NS.as_bytes() {
                return Err(TreeError::Namespace);
            }
            fhir = true;
        }
        rest = &after[close + 2..];
    }
}

/// An attribute value as XML normalizes it (line ends and tabs are spaces; entities and
/// character references resolved), appended to `extra`.
fn normalized(value: &[u8], extra: &mut String, base: usize) -> Result<(u32, u32), TreeError> {
    let text = std::str::from_utf8(value).map_err(malformed)?;
    let spaced = text.replace(['\n', '\r', '\t'], " ");
    let resolved = quick_xml::escape::unescape(&spaced).map_err(malformed)?;
    let start = base + extra.len();
    extra.push_str(&resolved);
    u32::try_from(start)
        .map(|s| (s, resolved.len() as u32))
        .map_err(|_| malformed("too large"))
}

/// Reads a FHIR XML document.
pub fn from_xml(bytes: &[u8]) -> Result<Node, TreeError> {
    let input = std::str::from_utf8(bytes).map_err(malformed)?;
    if u32::try_from(input.len()).is_err() || input.len() >= NONE as usize / 2 {
        return Err(malformed("too large"));
    }
    let mut reader = Reader::from_str(input);
    // About one element in 28 bytes of FHIR XML: one allocation for most documents.
    let mut tree = Tree {
        text: String::new(),
        nodes: Vec::with_capacity(input.len() / 28 + 1),
    };
    let mut extra = String::new();
    let mut open: Vec<u32> = Vec::with_capacity(16);
    // Inside the narrative (XHTML): its depth, skipped whole.
    let mut skipping = 0usize;
    let root = loop {
        let event = reader.read_event().map_err(malformed)?;
        let (e, empty) = match event {
            Event::DocType(_) => return Err(TreeError::Dtd),
            Event::Start(_) if skipping > 0 => {
                skipping += 1;
                continue;
            }
            Event::End(_) if skipping > 0 => {
                skipping -= 1;
                continue;
            }
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => match open.pop() {
                Some(done) if open.is_empty() => break done,
                Some(_) => continue,
                None => return Err(malformed("an end tag with no start")),
            },
            Event::Eof => return Err(malformed("the document ends early")),
            _ => continue,
        };
        if skipping > 0 {
            continue;
        }
        if tree.nodes.len() >= MAX_ELEMENTS {
            return Err(TreeError::TooMany);
        }
        if open.len() >= MAX_DEPTH {
            return Err(TreeError::TooDeep);
        }
        let local = e.local_name();
        let local: &str = local.as_ref();
        if local == "div" {
            skipping = usize::from(!empty);
            continue;
        }
        if e.name().as_ref().len() != local.len() {
            // A prefixed name: FHIR's elements are in the default namespace.
            return Err(TreeError::Namespace);
        }
        let name = span_in(input, local.as_bytes())?;
        let (value, declares_fhir) = value_of(input, &e, &mut extra, input.len())?;
        let parent = open.last().copied().unwrap_or(NONE);
        if parent == NONE && !declares_fhir {
            return Err(TreeError::Namespace);
        }
        let id = link(&mut tree, parent, name, value);
        if !empty {
            open.push(id);
        } else if parent == NONE {
            break id;
        }
    };
    // After the root, only comments, processing instructions and white space.
    loop {
        match reader.read_event().map_err(malformed)? {
            Event::Eof => break,
            Event::Comment(_) | Event::PI(_) => {}
            Event::Text(t) if t.as_ref().trim_ascii().is_empty() => {}
            _ => return Err(malformed("content after the root element")),
        }
    }
    tree.text.reserve_exact(input.len() + extra.len());
    tree.text.push_str(input);
    tree.text.push_str(&extra);
    Ok(Node {
        tree: Arc::new(tree),
        id: root,
    })
}

/// Reads a FHIR JSON document into the same tree.
pub fn from_json(bytes: &[u8]) -> Result<Node, TreeError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(malformed)?;
    let mut tree = Tree::default();
    resource_of(&mut tree, &value, NONE, 0)?;
    Ok(Node {
        tree: Arc::new(tree),
        id: 0,
    })
}

fn resource_of(
    tree: &mut Tree,
    value: &serde_json::Value,
    parent: u32,
    depth: usize,
) -> Result<(), TreeError> {
    let object = value
        .as_object()
        .ok_or_else(|| malformed("a resource is not an object"))?;
    let kind = object
        .get("resourceType")
        .and_then(|t| t.as_str())
        .ok_or_else(|| malformed("a resource without resourceType"))?;
    object_of(tree, kind, object, parent, depth)
}

fn object_of(
    tree: &mut Tree,
    name: &str,
    object: &serde_json::Map<String, serde_json::Value>,
    parent: u32,
    depth: usize,
) -> Result<(), TreeError> {
    if depth >= MAX_DEPTH {
        return Err(TreeError::TooDeep);
    }
    let id = push(tree, parent, name, None);
    for (key, value) in object {
        if key == "resourceType" || key.starts_with('_') {
            continue;
        }
        let items: &[serde_json::Value] = match value {
            serde_json::Value::Array(items) => items,
            one => std::slice::from_ref(one),
        };
        for item in items {
            if tree.nodes.len() >= MAX_ELEMENTS {
                return Err(TreeError::TooMany);
            }
            match item {
                serde_json::Value::Object(inner) if inner.contains_key("resourceType") => {
                    let wrapper = push(tree, id, key, None);
                    resource_of(tree, item, wrapper, depth + 1)?;
                }
                serde_json::Value::Object(inner) => object_of(tree, key, inner, id, depth + 1)?,
                serde_json::Value::String(s) => {
                    push(tree, id, key, Some(s));
                }
                serde_json::Value::Null => {}
                other => {
                    push(tree, id, key, Some(&other.to_string()));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
