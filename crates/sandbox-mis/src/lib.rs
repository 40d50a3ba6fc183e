//! The sandbox МИС: a stateful clinic information system that speaks the regional hub's SOAP
//! contract, for trying the gateway out of the box and for tests.
//!
//! It serves SOAP 1.1 at `POST /HubService.svc` and its WSDL at `GET /HubService.svc?wsdl`,
//! keeps a demo clinic in one SQLite file (created and seeded on first start, schedules
//! built relative to today), and books for real: a ticket can be taken once.

pub mod seed;
mod server;
mod sparse;
mod store;
mod wsdl;

pub use server::{DEFAULT_GUID, Sandbox, SandboxConfig};
pub use store::catalogue::RegionSeed;
pub use store::{Store, StoreError};
