//! The clinics' mail relays: the adapters of the domain's port `gateway_domain::mail::Mailer`.
//!
//! - [`letter`]: the ticket as a message (subject, plain text, HTML, calendar file).
//! - [`smtp::Relay`]: a clinic's SMTP relay.
//! - [`outbox::Outbox`]: the sandbox's folder of `.eml` files.

pub mod letter;
pub mod outbox;
pub mod smtp;

pub use outbox::Outbox;
pub use smtp::{Relay, Security, Settings};
