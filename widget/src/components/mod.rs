//! The widget's components: the app frame and one component per step.

pub(crate) mod app;
mod calendar;
mod common;
mod identify;
mod steps;
mod tickets;

pub use app::App;
