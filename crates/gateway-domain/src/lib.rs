//! The gateway's domain: what decides, with no HTTP in it.
//!
//! The clinics with their МИС behind a guard ([`clinic`], [`guard`]), sessions and
//! identification ([`sessions`], [`identify`]), the directory ([`directory`]), booking, moving
//! and cancelling ([`booking`]), referrals and the waiting list ([`referrals`], [`waiting`]),
//! idempotency ([`idempotency`], [`claims`]), a region's clinics ([`region`]), and the ports of
//! the state gateways may share ([`shared`]) and of what a gateway keeps in its memory
//! ([`keep`]), whose adapters are the `gateway-state` crate's.
//!
//! Operations take a [`Gateway`] and the domain's own input and return its own types
//! ([`views`]): a failure is a [`Failure`] carrying a `vocabulary::ErrorCode`. The shell maps
//! both onto the API's JSON once; the domain knows neither HTTP nor the wire (it does not
//! depend on `api-types`). The shell tells the domain which request it works for through
//! [`context`].

pub mod admission;
pub mod audit;
pub mod booking;
pub mod card;
pub mod claims;
pub mod clinic;
pub mod context;
pub mod directory;
pub mod failure;
pub mod gateway;
pub mod guard;
pub mod idempotency;
pub mod identify;
pub mod ids;
pub mod keep;
pub mod limits;
pub mod mail;
pub mod memo;
pub mod metrics;
pub mod outcome;
pub mod referrals;
pub mod region;
pub mod sessions;
pub mod shared;
pub mod views;
pub mod waiting;
pub mod writes;

pub use clinic::ClinicEntry;
pub use failure::Failure;
pub use gateway::Gateway;
