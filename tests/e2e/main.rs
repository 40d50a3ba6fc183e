//! End-to-end tests: the gateway, the hub adapter and the sandbox МИС, over HTTP on loopback.

mod architecture;
mod asks;
mod bursts;
mod contract;
mod edge;
mod errors;
mod exact;
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
