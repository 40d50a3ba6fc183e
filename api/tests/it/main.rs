//! The `registratura` binary as an operator runs it: `check`, JSON logs, request ids, the
//! audit trail with `SIGHUP`, and graceful shutdown on `SIGTERM`. Each test starts the binary
//! in a process of its own, on loopback ports chosen by the system.

mod check;
mod edge;
mod process;
mod serve;
