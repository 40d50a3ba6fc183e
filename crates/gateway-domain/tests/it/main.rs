//! The domain's operations against a МИС in memory ([`fake`]) and the real adapters of its
//! ports (`gateway-state`: the state in this process's memory, the caches on moka).

mod booking;
mod fake;
mod guard;
mod mail;
mod referrals;
mod region;
mod waiting;
