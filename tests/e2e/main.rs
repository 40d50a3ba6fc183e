//! End-to-end tests: the gateway, the hub adapter and the sandbox МИС, over HTTP on loopback.

#![recursion_limit = "256"]

mod architecture;
mod asks;
mod bursts;
mod contract;
mod edge;
mod errors;
mod exact;
mod failover;
mod fhir;
mod flow;
mod hardening;
mod limits;
mod lost;
mod mail;
mod openapi;
mod operate;
mod redis;
mod region;
mod rush;
mod scale;
mod sparse;
mod surge;
mod weight;
