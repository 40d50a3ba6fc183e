//! The composition root, by subsystem: each subsystem's section of the configuration, how
//! `startup` makes it from that section, and how `check` tries it, side by side.
//!
//! - [`clinics`]: `[[clinics]]` (each with its МИС: the hub, or a FHIR server) and `[cache]`.
//! - [`regions`]: `[[regions]]`: a region's hub, its catalogue and its clinics.
//! - [`state`]: `[state]` (memory or Redis) and `[audit]`, and the domain made with them.
//! - [`shell`]: `[server]`, `[demo]` and `[service]`: the HTTP shell and its listeners.
//! - [`mail`]: `[mail]` (and a clinic's own): the relays tickets are e-mailed through.
//! - [`sandbox`]: `[sandbox]`: the built-in sandbox МИС.
//!
//! `crate::config` reads the file and asks each section to validate itself; `crate::startup`
//! makes the application from the sections and runs it (the lifecycle); `crate::check` tries
//! each. Only this module and those three name concrete adapters.

pub mod clinics;
pub mod mail;
pub mod regions;
pub mod sandbox;
pub mod shell;
pub mod state;
