//! The regional appointment hub adapter (HubService, «Сервис записи на приём к врачу»).
//!
//! [`contract`] holds the contract's messages and their XML for both sides of the wire;
//! [`HubClient`] implements the [`mis::Mis`] port by SOAP 1.1 calls over HTTP. XML never
//! leaves this crate's API except as the text of whole messages.

mod client;
pub mod contract;
pub mod needs;
pub mod xml;

pub use client::{DEFAULT_WAITING_LIST_SOURCE, HubClient, HubConfig, codes, error_of};
