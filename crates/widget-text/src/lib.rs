//! The widget's words (`ru`, the default, and `en`) and how it writes dates and times for
//! people. The widget shows them; the gateway uses the same ones to write the widget's first
//! step into its page, so that a patient on a slow network sees it before the WebAssembly has
//! arrived, in the same words.

pub mod format;
pub mod html;
pub mod i18n;
pub mod ics;
