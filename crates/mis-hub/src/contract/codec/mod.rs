//! How a message's members become XML and back, from one declaration per type.
//!
//! A type of the contract is declared once with [`record!`](crate::contract::record): its
//! members in the order of its `xs:sequence`, each with its element name. The macro writes the
//! struct, its reader and its writer, so a name can never be spelled one way when sent and
//! another when read. Each member's Rust type says how it is coded ([`Value`]): `Option<_>` is
//! nillable (`i:nil="true"` when `None`), a bare `i32` or `bool` is a non-nillable member whose
//! absence means 0 or `false` (as WCF reads it), a bare `String` or date-time must be present,
//! `Option<Vec<T>>` is a contract array (`ArrayOfT`) whose items are named after `T`'s type.
//!
//! Every namespace has one prefix in what this crate writes; an element declares a prefix only
//! where it is not already in scope.

mod declare;

pub(crate) use declare::{enumeration, record};

use super::DecodeError;
use crate::xml::{self, Element, XSI};
use chrono::{NaiveDate, NaiveDateTime};
use std::borrow::Cow;

/// The service namespace: operation elements and their parameters.
pub const TEMPURI: &str = "http://tempuri.org/";
/// The data-contract namespace of the result types.
pub const HUB: &str = "http://schemas.datacontract.org/2004/07/HubService2";
/// The WCF arrays namespace (`ArrayOfdateTime`, `ArrayOfstring`).
pub const ARRAYS: &str = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";
/// The referral types (`Referral` and its parts).
pub const DTO: &str = "http://schemas.datacontract.org/2004/07/HubService2.Dto";
/// The waiting-list types (the `PARequest` family).
pub const POST_APPOINTMENT: &str =
    "http://schemas.datacontract.org/2004/07/HubService2.ContractsClasses.PostAppointment";

/// A namespace and the prefix this crate writes it with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ns {
    pub(crate) uri: &'static str,
    prefix: &'static str,
    /// This namespace's bit in a scope's set of declared prefixes.
    bit: u8,
}

/// The service namespace, the default (unprefixed) namespace of requests and result wrappers.
pub(crate) const SERVICE_NS: Ns = Ns {
    uri: TEMPURI,
    prefix: "",
    bit: 1,
};
pub(crate) const HUB_NS: Ns = Ns {
    uri: HUB,
    prefix: "a",
    bit: 2,
};
pub(crate) const ARRAYS_NS: Ns = Ns {
    uri: ARRAYS,
    prefix: "b",
    bit: 4,
};
pub(crate) const DTO_NS: Ns = Ns {
    uri: DTO,
    prefix: "c",
    bit: 8,
};
pub(crate) const POST_APPOINTMENT_NS: Ns = Ns {
    uri: POST_APPOINTMENT,
    prefix: "d",
    bit: 16,
};

/// What a writer does with one member of a record ([`Sparse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Member {
    /// Written as it is.
    Write,
    /// Written nil (`i:nil="true"`), whatever its value.
    Nil,
    /// Left out.
    Leave,
}

/// How to write a message's members: for the member `member` of the record `record` (its
/// element name) whose members are in the namespace `ns`. The sandbox's sparse answers use it
/// to leave out what the contract allows to be left out.
pub type Sparse = fn(ns: &'static str, record: &'static str, member: &'static str) -> Member;

/// A message being written: the text, and which prefixes are declared where it stands.
#[derive(Debug)]
pub(crate) struct Out {
    text: String,
    declared: u8,
    sparse: Option<Sparse>,
}

impl Out {
    pub(crate) fn new() -> Self {
        Self {
            text: String::with_capacity(1024),
            declared: 0,
            sparse: None,
        }
    }

    /// A writer that writes members as `sparse` says.
    pub(crate) fn sparse(sparse: Sparse) -> Self {
        Self {
            sparse: Some(sparse),
            ..Self::new()
        }
    }

    /// What to do with the member `member` of `record`, in `ns`.
    pub(crate) fn member(&self, ns: Ns, record: &'static str, member: &'static str) -> Member {
        match self.sparse {
            None => Member::Write,
            Some(sparse) => sparse(ns.uri, record, member),
        }
    }

    pub(crate) fn raw(&mut self, s: &str) {
        self.text.push_str(s);
    }

    pub(crate) fn finish(self) -> String {
        self.text
    }

    fn name(&mut self, ns: Ns, name: &str) {
        if !ns.prefix.is_empty() {
            self.text.push_str(ns.prefix);
            self.text.push(':');
        }
        self.text.push_str(name);
    }

    fn declare(&mut self, ns: Ns) {
        if self.declared & ns.bit == 0 {
            self.declared |= ns.bit;
            self.text.push_str(" xmlns");
            if !ns.prefix.is_empty() {
                self.text.push(':');
                self.text.push_str(ns.prefix);
            }
            self.text.push_str("=\"");
            self.text.push_str(ns.uri);
            self.text.push('"');
        }
    }

    /// Opens `name` in `ns`, declaring `ns`, `inner` (its children's namespaces) and, if
    /// `with_xsi`, the `i:` prefix where they are not in scope. Returns the scope that
    /// [`Out::close`] restores.
    pub(crate) fn open(&mut self, ns: Ns, name: &str, inner: &[Ns], with_xsi: bool) -> u8 {
        let saved = self.declared;
        self.text.push('<');
        self.name(ns, name);
        self.declare(ns);
        for &i in inner {
            self.declare(i);
        }
        if with_xsi && self.declared & XSI_BIT == 0 {
            self.declared |= XSI_BIT;
            self.text.push_str(" xmlns:i=\"");
            self.text.push_str(XSI);
            self.text.push('"');
        }
        self.text.push('>');
        saved
    }

    pub(crate) fn close(&mut self, ns: Ns, name: &str, saved: u8) {
        self.text.push_str("</");
        self.name(ns, name);
        self.text.push('>');
        self.declared = saved;
    }

    pub(crate) fn leaf(&mut self, ns: Ns, name: &str, text: &str) {
        let saved = self.declared;
        self.text.push('<');
        self.name(ns, name);
        self.declare(ns);
        self.text.push('>');
        self.text.push_str(&xml::escape(text));
        self.text.push_str("</");
        self.name(ns, name);
        self.text.push('>');
        self.declared = saved;
    }

    pub(crate) fn nil(&mut self, ns: Ns, name: &str) {
        let saved = self.declared;
        self.text.push('<');
        self.name(ns, name);
        self.declare(ns);
        self.text.push_str(" i:nil=\"true\"/>");
        self.declared = saved;
    }
}

/// The bit of the `i:` (XSI) prefix in a scope.
const XSI_BIT: u8 = 128;

// ---------------------------------------------------------------------------------------------
// Values

/// Formats a local date-time as the hub writes it (no offset): `2026-12-01T09:30:00`.
pub fn format_datetime(dt: NaiveDateTime) -> String {
    use chrono::{Datelike, Timelike};
    // By hand: chrono's format strings are the slowest part of writing a message.
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    )
}

/// Parses an `xs:dateTime` into the clinic's local wall-clock time. Fractional seconds are
/// dropped and an offset, if any, is ignored: the hub's times are the clinic's local times.
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    let b = s.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    // A fixed-width parse: chrono's format-driven one is the slowest part of decoding a day
    // of tickets.
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)?;
    let dt = date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)?;
    let rest = &s[19..];
    let rest = rest
        .strip_prefix('.')
        .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit()))
        .unwrap_or(rest);
    let offset_ok = rest.is_empty()
        || rest == "Z"
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.as_bytes()[3] == b':');
    offset_ok.then_some(dt)
}

/// Midnight of `date`.
pub fn midnight(date: NaiveDate) -> NaiveDateTime {
    date.and_time(chrono::NaiveTime::MIN)
}

/// Reads the members of an element in one namespace.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Members<'d, 'a> {
    el: Element<'d, 'a>,
    ns: &'static str,
}

impl<'d, 'a> Members<'d, 'a> {
    pub(crate) fn of(el: Element<'d, 'a>, ns: &'static str) -> Self {
        Self { el, ns }
    }

    /// A present, non-nil member.
    pub(crate) fn get(&self, name: &str) -> Option<Element<'d, 'a>> {
        self.el.child(self.ns, name).filter(|c| !c.nil())
    }
}

/// A type of the contract: a data contract, or an operation's parameters or result members.
pub(crate) trait Record: Sized {
    /// The namespace of its members.
    const NS: Ns;
    /// Its type name: the element name of its items in a contract array.
    const NAME: &'static str;

    fn read_members(m: &Members<'_, '_>) -> Result<Self, DecodeError>;

    fn write_members(&self, out: &mut Out);

    fn read_from(el: Element<'_, '_>) -> Result<Self, DecodeError> {
        Self::read_members(&Members::of(el, Self::NS.uri))
    }
}

/// How a member of a given Rust type is read and written.
pub(crate) trait Value: Sized {
    /// Reads member `name`; `item` names a contract array's items where it is not the type
    /// name.
    fn read(
        m: &Members<'_, '_>,
        name: &'static str,
        item: Option<&'static str>,
    ) -> Result<Self, DecodeError>;

    fn write(&self, out: &mut Out, ns: Ns, name: &'static str, item: Option<&'static str>);
}

fn text_of<T>(
    m: &Members<'_, '_>,
    name: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, DecodeError> {
    m.get(name)
        .map(|c| parse(c.text()).ok_or(DecodeError::Invalid(name)))
        .transpose()
}

fn parse_int(s: &str) -> Option<i32> {
    s.trim().parse().ok()
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// The scalar members: `Option<T>` may be left out (a text written nil when `None`, as WCF
/// writes a null string; a value type — a number, a flag, a date-time — left out, which the
/// schemas always allow where they do not make it nillable); the bare `T` is either required
/// (text, date-times: absent is refused) or defaulted (`xs:int`, `xs:boolean`: absent is 0 or
/// `false`, as WCF reads it). `parse` reads the element's text, `text` writes it.
macro_rules! scalar {
    ($kind:ident $none:ident $ty:ty, $parse:expr, $text:expr) => {
        impl Value for Option<$ty> {
            fn read(
                m: &Members<'_, '_>,
                name: &'static str,
                _: Option<&'static str>,
            ) -> Result<Self, DecodeError> {
                text_of(m, name, $parse)
            }

            fn write(&self, out: &mut Out, ns: Ns, name: &'static str, _: Option<&'static str>) {
                match self {
                    Some(v) => out.leaf(ns, name, &$text(v)),
                    None => scalar!(@none $none, out, ns, name),
                }
            }
        }

        impl Value for $ty {
            fn read(
                m: &Members<'_, '_>,
                name: &'static str,
                item: Option<&'static str>,
            ) -> Result<Self, DecodeError> {
                scalar!(@absent $kind, Option::<$ty>::read(m, name, item)?, name)
            }

            fn write(&self, out: &mut Out, ns: Ns, name: &'static str, _: Option<&'static str>) {
                out.leaf(ns, name, &$text(self));
            }
        }
    };
    (@absent required, $v:expr, $name:expr) => {
        $v.ok_or(DecodeError::Missing($name))
    };
    (@absent defaulted, $v:expr, $name:expr) => {
        Ok($v.unwrap_or_default())
    };
    (@none nil, $out:expr, $ns:expr, $name:expr) => {
        $out.nil($ns, $name)
    };
    (@none left_out, $out:expr, $ns:expr, $name:expr) => {{
        let _ = ($out, $ns, $name);
    }};
}

fn parse_string(s: &str) -> Option<String> {
    Some(s.to_owned())
}

// `scalar!` hands every `text` function a `&T`.
#[allow(clippy::ptr_arg)]
fn string_text(v: &String) -> Cow<'_, str> {
    Cow::Borrowed(v)
}

fn int_text(v: &i32) -> Cow<'static, str> {
    Cow::Owned(v.to_string())
}

fn bool_text(v: &bool) -> Cow<'static, str> {
    Cow::Borrowed(if *v { "true" } else { "false" })
}

fn datetime_text(v: &NaiveDateTime) -> Cow<'static, str> {
    Cow::Owned(format_datetime(*v))
}

fn parse_okato(s: &str) -> Option<Okato> {
    let v: f64 = s.trim().parse().ok()?;
    // An OKATO code has at most 11 digits; WCF writes it as an `xs:double`.
    (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e12).then_some(Okato(v as u64))
}

fn okato_text(v: &Okato) -> Cow<'static, str> {
    Cow::Owned(v.0.to_string())
}

/// An OKATO code (the territory classifier), which the contract types `xs:double`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Okato(pub u64);

scalar!(required nil String, parse_string, string_text);
scalar!(defaulted nil Okato, parse_okato, okato_text);
scalar!(defaulted left_out i32, parse_int, int_text);
scalar!(defaulted left_out bool, parse_bool, bool_text);
scalar!(required left_out NaiveDateTime, parse_datetime, datetime_text);

/// Reads a nillable contract array: `None` when nil or absent; nil items are skipped.
pub(crate) fn read_list<'d, 'a, T>(
    m: &Members<'d, 'a>,
    name: &'static str,
    item_ns: Ns,
    item: &'static str,
    read: impl Fn(Element<'d, 'a>) -> Result<T, DecodeError>,
) -> Result<Option<Vec<T>>, DecodeError> {
    m.get(name)
        .map(|l| {
            l.children_named(item_ns.uri, item)
                .filter(|c| !c.nil())
                .map(&read)
                .collect()
        })
        .transpose()
}

/// Writes a nillable contract array.
pub(crate) fn write_list<T>(
    out: &mut Out,
    ns: Ns,
    name: &str,
    item_ns: Ns,
    list: Option<&[T]>,
    write_item: impl Fn(&mut Out, &T),
) {
    match list {
        None => out.nil(ns, name),
        Some(items) => {
            let saved = out.open(ns, name, &[item_ns], false);
            for it in items {
                write_item(out, it);
            }
            out.close(ns, name, saved);
        }
    }
}

/// A nested data contract, nillable.
pub(crate) fn read_nested<T: Record>(
    m: &Members<'_, '_>,
    name: &'static str,
) -> Result<Option<T>, DecodeError> {
    m.get(name).map(T::read_from).transpose()
}

pub(crate) fn write_nested<T: Record>(out: &mut Out, ns: Ns, name: &str, v: Option<&T>) {
    match v {
        None => out.nil(ns, name),
        Some(v) => {
            let saved = out.open(ns, name, &[T::NS], false);
            v.write_members(out);
            out.close(ns, name, saved);
        }
    }
}

/// `ArrayOfstring`: items `string` in the arrays namespace.
impl Value for Option<Vec<String>> {
    fn read(
        m: &Members<'_, '_>,
        name: &'static str,
        _: Option<&'static str>,
    ) -> Result<Self, DecodeError> {
        read_list(m, name, ARRAYS_NS, "string", |e| Ok(e.text().to_owned()))
    }

    fn write(&self, out: &mut Out, ns: Ns, name: &'static str, _: Option<&'static str>) {
        write_list(out, ns, name, ARRAYS_NS, self.as_deref(), |out, s| {
            out.leaf(ARRAYS_NS, "string", s);
        });
    }
}

/// `ArrayOfdateTime`: items `dateTime` in the arrays namespace.
impl Value for Option<Vec<NaiveDateTime>> {
    fn read(
        m: &Members<'_, '_>,
        name: &'static str,
        _: Option<&'static str>,
    ) -> Result<Self, DecodeError> {
        read_list(m, name, ARRAYS_NS, "dateTime", |e| {
            parse_datetime(e.text()).ok_or(DecodeError::Invalid("dateTime"))
        })
    }

    fn write(&self, out: &mut Out, ns: Ns, name: &'static str, _: Option<&'static str>) {
        write_list(out, ns, name, ARRAYS_NS, self.as_deref(), |out, d| {
            out.leaf(ARRAYS_NS, "dateTime", &format_datetime(*d));
        });
    }
}
