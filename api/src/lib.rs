//! The Registratura gateway's HTTP shell: the JSON API in front of clinics' МИС, the pages
//! beside it (status, health, metrics, the OpenAPI document and its docs, the widget), and the
//! commands of the binary. What decides is `gateway_domain`'s; this crate turns HTTP into its
//! calls and its results into HTTP.
//!
//! The composition root is [`config`] (the file and its overrides), [`wiring`] (each
//! subsystem's section, its making and its check, side by side), [`startup`] (the lifecycle:
//! `Application::build` makes the gateway and runs it) and [`check`] (`registratura check`);
//! `main.rs` only parses the command line around them. [`wire`] is where the domain's answers
//! become the API's JSON.

pub mod check;
pub mod config;
mod conn;
mod cors;
pub mod edge;
pub mod error;
pub mod extract;
pub mod headers;
pub mod pages;
pub mod request_id;
pub mod routes;
pub mod routing;
pub mod security;
mod server;
pub mod service;
pub mod site;
pub mod startup;
pub mod telemetry;
pub mod wire;
pub mod wiring;

pub use startup::{Application, StartError, Stopper};
