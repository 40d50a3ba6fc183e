//! The regional appointment hub adapter (HubService, «Сервис записи на приём к врачу»).
//!
//! [`contract`] holds the contract's messages and their XML for both sides of the wire;
//! [`HubClient`] (`client.rs`) calls one endpoint by SOAP 1.1 over the shared МИС transport
//! (`mis-http`); `mapping.rs` reads its answers as the port's types; `port.rs` implements the
//! [`mis::Mis`] port and `region.rs` the [`mis::Region`] port. XML never leaves this crate's
//! API except as the text of whole messages.

mod client;
pub mod contract;
mod mapping;
pub mod needs;
mod port;
mod region;
pub mod xml;

pub use client::{DEFAULT_WAITING_LIST_SOURCE, HubClient, HubConfig};
pub use mapping::{codes, error_of};
