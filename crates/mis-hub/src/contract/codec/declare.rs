//! The two declarations every type of the contract is written with: [`record!`] for a
//! `xs:complexType` (its members in the order of its `xs:sequence`) and [`enumeration!`] for
//! a `xs:simpleType` restricted to names. Each expands to the type, its reader and its writer
//! over [`super`]'s `Record` and `Value`.

/// Declares a type of the contract once: the struct, and how its members are read and
/// written. Members are listed in the order of the type's `xs:sequence`:
///
/// ```ignore
/// record! {
///     #[derive(Debug, Clone, PartialEq, Eq)]
///     pub struct Appointment in HUB_NS as "Appointment" {
///         address: Option<String> = "Address",
///         visit_start: NaiveDateTime = "VisitStart",
///     }
/// }
/// ```
///
/// A contract array whose items are not named after their type names them in brackets:
/// `refusals: Option<Vec<HistoryVisit>> = "ListHistoryRefusal" ["HistoryRefusal"]`.
macro_rules! record {
    (@item) => { None };
    (@item $item:literal) => { Some($item) };
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident in $ns:ident as $xml:literal {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty = $el:literal $([$item:literal])?
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::contract::codec::Record for $name {
            const NS: $crate::contract::codec::Ns = $ns;
            const NAME: &'static str = $xml;

            #[allow(unused_variables)]
            fn read_members(
                m: &$crate::contract::codec::Members<'_, '_>,
            ) -> Result<Self, $crate::contract::DecodeError> {
                Ok(Self {
                    $( $field: <$ty as $crate::contract::codec::Value>::read(
                        m, $el, record!(@item $($item)?),
                    )?, )*
                })
            }

            #[allow(unused_variables)]
            fn write_members(&self, out: &mut $crate::contract::codec::Out) {
                $( match out.member($ns, $xml, $el) {
                    $crate::contract::codec::Member::Write => {
                        $crate::contract::codec::Value::write(
                            &self.$field, out, $ns, $el, record!(@item $($item)?),
                        )
                    }
                    $crate::contract::codec::Member::Nil => out.nil($ns, $el),
                    $crate::contract::codec::Member::Leave => {}
                } )*
            }
        }

        impl $crate::contract::codec::Value for Option<$name> {
            fn read(
                m: &$crate::contract::codec::Members<'_, '_>,
                name: &'static str,
                _: Option<&'static str>,
            ) -> Result<Self, $crate::contract::DecodeError> {
                $crate::contract::codec::read_nested(m, name)
            }

            fn write(
                &self,
                out: &mut $crate::contract::codec::Out,
                ns: $crate::contract::codec::Ns,
                name: &'static str,
                _: Option<&'static str>,
            ) {
                $crate::contract::codec::write_nested(out, ns, name, self.as_ref());
            }
        }

        /// Present (not nil): a message without it is refused.
        impl $crate::contract::codec::Value for $name {
            fn read(
                m: &$crate::contract::codec::Members<'_, '_>,
                name: &'static str,
                _: Option<&'static str>,
            ) -> Result<Self, $crate::contract::DecodeError> {
                $crate::contract::codec::read_nested(m, name)?
                    .ok_or($crate::contract::DecodeError::Missing(name))
            }

            fn write(
                &self,
                out: &mut $crate::contract::codec::Out,
                ns: $crate::contract::codec::Ns,
                name: &'static str,
                _: Option<&'static str>,
            ) {
                $crate::contract::codec::write_nested(out, ns, name, Some(self));
            }
        }

        impl $crate::contract::codec::Value for Option<Vec<$name>> {
            fn read(
                m: &$crate::contract::codec::Members<'_, '_>,
                name: &'static str,
                item: Option<&'static str>,
            ) -> Result<Self, $crate::contract::DecodeError> {
                use $crate::contract::codec::Record as _;
                $crate::contract::codec::read_list(
                    m,
                    name,
                    $ns,
                    item.unwrap_or($name::NAME),
                    $name::read_from,
                )
            }

            fn write(
                &self,
                out: &mut $crate::contract::codec::Out,
                ns: $crate::contract::codec::Ns,
                name: &'static str,
                item: Option<&'static str>,
            ) {
                use $crate::contract::codec::Record as _;
                let item = item.unwrap_or($name::NAME);
                $crate::contract::codec::write_list(out, ns, name, $ns, self.as_deref(), |out, v| {
                    let saved = out.open($ns, item, &[], false);
                    v.write_members(out);
                    out.close($ns, item, saved);
                });
            }
        }
    };
}

/// Declares an enumeration of the contract (`xs:simpleType` with `xs:enumeration`s), its first
/// value the default: a non-nillable member that is absent reads as it.
macro_rules! enumeration {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(#[$fmeta:meta])* $first:ident = $ftext:literal
            $(, $(#[$vmeta:meta])* $variant:ident = $text:literal)* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        $vis enum $name {
            $(#[$fmeta])*
            #[default]
            $first,
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            pub const ALL: &'static [Self] = &[Self::$first, $(Self::$variant),*];

            /// The value as the contract spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    Self::$first => $ftext,
                    $( Self::$variant => $text, )*
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s.trim())
            }
        }

        impl $crate::contract::codec::Value for $name {
            fn read(
                m: &$crate::contract::codec::Members<'_, '_>,
                name: &'static str,
                _: Option<&'static str>,
            ) -> Result<Self, $crate::contract::DecodeError> {
                match m.get(name) {
                    None => Ok(Self::default()),
                    Some(e) => Self::parse(e.text())
                        .ok_or($crate::contract::DecodeError::Invalid(name)),
                }
            }

            fn write(
                &self,
                out: &mut $crate::contract::codec::Out,
                ns: $crate::contract::codec::Ns,
                name: &'static str,
                _: Option<&'static str>,
            ) {
                out.leaf(ns, name, self.as_str());
            }
        }
    };
}

pub(crate) use {enumeration, record};
