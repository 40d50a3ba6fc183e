//! The gateway's domain: what decides, with no HTTP in it.
//!
//! The clinics with their МИС behind a guard ([`clinic`], [`guard`]), sessions and
//! identification ([`sessions`], [`identify`]), the directory ([`directory`]), booking, moving
//! and cancelling ([`booking`]), referrals and the waiting list ([`referrals`], [`waiting`]),
//! idempotency ([`idempotency`], [`claims`]), and the state gateways may share behind one port
//! with its memory and Redis adapters ([`shared`]). Operations take a [`Gateway`] and typed
//! input and return typed results: a failure is a [`Failure`] carrying an
//! `api_types::ErrorCode`, which the shell turns into its answer once. The shell tells the
//! domain which request it works for through [`context`].

pub mod admission;
pub mod audit;
pub mod booking;
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
pub mod memo;
pub mod metrics;
pub mod referrals;
pub mod region;
pub mod sessions;
pub mod shared;
pub mod waiting;
pub mod writes;

pub use clinic::ClinicEntry;
pub use failure::Failure;
pub use gateway::Gateway;
