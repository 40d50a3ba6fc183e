//! The contract as the sandbox has it: the WSDL it serves (its `{{LOCATION}}` filled in by
//! the server) and reads its optional members from (`crate::sparse`), cut from the real
//! contract by `wsdl/generate.py`.

/// The sandbox's WSDL, with its XSDs inline.
pub(crate) const WSDL: &str = include_str!("../wsdl/hub.wsdl");
