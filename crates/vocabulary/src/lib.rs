//! The words the gateway, the widget and the МИС adapters share: the stable error codes
//! ([`ErrorCode`]) and the grammar of the fields a patient types ([`identity`]). No DTO lives
//! here (those are `api_types`', the wire's): the domain and the МИС port depend on this
//! crate, not on the wire.
//!
//! It depends on serde only (and utoipa behind the `openapi` feature), and compiles for
//! `wasm32-unknown-unknown`.

mod code;
pub mod host;
pub mod identity;
#[cfg(any(test, feature = "testing"))]
pub mod near;

pub use code::ErrorCode;
