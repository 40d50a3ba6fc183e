//! The HL7 FHIR R4 adapter of the МИС port: a clinic whose system publishes `Schedule`,
//! `Slot` and `Appointment` (the Argonaut / IHE ITI scheduling shape), spoken in XML
//! (`application/fhir+xml`; JSON read where a server answers it). See [`adapter`] for how
//! each operation of the port maps onto FHIR, and [`booking`] for the three writes of a booking.

pub mod adapter;
pub mod booking;
pub mod card;
pub mod client;
pub mod tree;

pub use client::{Auth, FhirClient, FhirConfig};
