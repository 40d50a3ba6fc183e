//! Reading the API's answers: the browser parses the JSON (`Response.json()`), and this
//! small serde `Deserializer` walks the JavaScript value it made into the wire types.
//!
//! Its one error says nothing: a value that does not fit is just "not the API's answer". That
//! is the point. serde's error messages name the unexpected value (a float among them), and
//! formatting them would bring float printing and the whole message machinery into the
//! WebAssembly; without messages, none of it is linked.

use js_sys::{Array, Object};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use wasm_bindgen::{JsCast, JsValue};

/// A value that does not fit the type asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mismatch;

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the value does not fit")
    }
}

impl std::error::Error for Mismatch {}

impl de::Error for Mismatch {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Self
    }

    fn invalid_type(_: de::Unexpected<'_>, _: &dyn de::Expected) -> Self {
        Self
    }

    fn invalid_value(_: de::Unexpected<'_>, _: &dyn de::Expected) -> Self {
        Self
    }

    fn invalid_length(_: usize, _: &dyn de::Expected) -> Self {
        Self
    }

    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Self {
        Self
    }

    fn unknown_field(_: &str, _: &'static [&'static str]) -> Self {
        Self
    }

    fn missing_field(_: &'static str) -> Self {
        Self
    }

    fn duplicate_field(_: &'static str) -> Self {
        Self
    }
}

/// Reads `value` as a `T`.
pub fn from_value<T: DeserializeOwned>(value: JsValue) -> Result<T, Mismatch> {
    T::deserialize(Value(value))
}

/// A JavaScript value made by `JSON.parse`: null, a boolean, a number, a string, an array or
/// a plain object.
struct Value(JsValue);

enum Kind {
    Null,
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Text(String),
    List(Array),
    /// An object's `[key, value]` pairs.
    Object(Array),
    Other,
}

#[inline(never)]
fn classify(v: JsValue) -> Kind {
    if v.is_null() || v.is_undefined() {
        Kind::Null
    } else if let Some(b) = v.as_bool() {
        Kind::Bool(b)
    } else if let Some(n) = v.as_f64() {
        // Integers as integers (counts, ticket numbers); the API sends no other numbers.
        if n.fract() == 0.0 && (0.0..9.0e15).contains(&n) {
            Kind::Unsigned(n as u64)
        } else if n.fract() == 0.0 && (-9.0e15..0.0).contains(&n) {
            Kind::Signed(n as i64)
        } else {
            Kind::Float(n)
        }
    } else if let Some(s) = v.as_string() {
        Kind::Text(s)
    } else if Array::is_array(&v) {
        Kind::List(v.unchecked_into())
    } else if v.is_object() {
        Kind::Object(Object::entries(v.unchecked_ref::<Object>()))
    } else {
        Kind::Other
    }
}

impl<'de> de::Deserializer<'de> for Value {
    type Error = Mismatch;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        // What the value is, worked out once, outside the code generated per type read.
        match classify(self.0) {
            Kind::Null => visitor.visit_unit(),
            Kind::Bool(b) => visitor.visit_bool(b),
            Kind::Unsigned(n) => visitor.visit_u64(n),
            Kind::Signed(n) => visitor.visit_i64(n),
            Kind::Float(n) => visitor.visit_f64(n),
            Kind::Text(s) => visitor.visit_string(s),
            Kind::List(items) => visitor.visit_seq(Seq {
                items: items.into_iter(),
            }),
            Kind::Object(entries) => visitor.visit_map(Map {
                entries: entries.into_iter(),
                value: None,
            }),
            Kind::Other => Err(Mismatch),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        // The API's enums are unit variants written as their names.
        let name = self.0.as_string().ok_or(Mismatch)?;
        visitor.visit_enum(name.into_deserializer())
    }

    // What the type asks for is what is checked: one branch each, so that the code serde
    // generates per type stays small (`deserialize_any` is for what names no shape).

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_string(self.0.as_string().ok_or(Mismatch)?)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        self.deserialize_string(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        self.deserialize_string(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_bool(self.0.as_bool().ok_or(Mismatch)?)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_u64(unsigned(&self.0)?)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_u64(unsigned(&self.0)?)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_u64(unsigned(&self.0)?)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        if !Array::is_array(&self.0) {
            return Err(Mismatch);
        }
        visitor.visit_seq(Seq {
            items: self.0.unchecked_into::<Array>().into_iter(),
        })
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        if !self.0.is_object() || Array::is_array(&self.0) {
            return Err(Mismatch);
        }
        visitor.visit_map(Map {
            entries: Object::entries(self.0.unchecked_ref::<Object>()).into_iter(),
            value: None,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        self.deserialize_map(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u128 f32 f64 char bytes byte_buf
        unit unit_struct newtype_struct tuple tuple_struct
    }
}

/// A whole number that fits the API's counts and numbers.
fn unsigned(v: &JsValue) -> Result<u64, Mismatch> {
    let n = v.as_f64().ok_or(Mismatch)?;
    if n.fract() == 0.0 && (0.0..9.0e15).contains(&n) {
        Ok(n as u64)
    } else {
        Err(Mismatch)
    }
}

struct Seq {
    items: js_sys::ArrayIntoIter,
}

impl<'de> de::SeqAccess<'de> for Seq {
    type Error = Mismatch;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Mismatch> {
        self.items
            .next()
            .map(|item| seed.deserialize(Value(item)))
            .transpose()
    }
}

struct Map {
    entries: js_sys::ArrayIntoIter,
    value: Option<JsValue>,
}

impl<'de> de::MapAccess<'de> for Map {
    type Error = Mismatch;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Mismatch> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        let entry: Array = entry.unchecked_into();
        self.value = Some(entry.get(1));
        let key = entry.get(0).as_string().ok_or(Mismatch)?;
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Mismatch> {
        seed.deserialize(Value(self.value.take().ok_or(Mismatch)?))
    }
}
