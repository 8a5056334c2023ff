//! pocket-dca: a self-hosted, watch-only companion for Pocket Bitcoin
//! standing orders. The binary in `main.rs` only parses arguments and maps
//! errors to exit codes; everything else lives in this library so that
//! tests and benchmarks use the same code.

pub mod alerts;
pub mod cli;
pub mod config;
pub mod deliveries;
pub mod demo;
pub mod export;
pub mod format;
pub mod mail;
pub mod orders;
pub mod payment;
pub mod pocket;
pub mod portfolio;
pub mod reconcile;
pub mod reminders;
pub mod sandbox;
pub mod scheduler;
pub mod service;
pub mod store;
pub mod wallet;
pub mod web;
