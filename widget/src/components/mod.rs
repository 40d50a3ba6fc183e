//! The widget's components: the app frame and one component per step.

pub(crate) mod app;
mod calendar;
mod common;
mod email;
mod identify;
#[cfg(feature = "region")]
mod nearest;
mod phone;
mod referral;
#[cfg(feature = "region")]
pub(crate) mod region;
mod requests;
mod steps;
mod tickets;
mod waiting;

pub use app::App;
