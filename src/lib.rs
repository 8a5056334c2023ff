//! pocket-dca: a self-hosted, watch-only companion for Pocket Bitcoin
//! standing orders. The binary in `main.rs` only parses arguments and maps
//! errors to exit codes; everything else lives in this library so that
//! tests and benchmarks use the same code.
//!
//! The modules are listed from the top down; a module imports only from the
//! groups below it (`../shared/ARCHITECTURE.md` has the map, and
//! `tests/layout.rs` checks that no two files import each other in a
//! circle).

// Adapters: the command line and HTTP, over the same domain functions.
pub mod cli;
pub mod web;

// Processes: `serve`, its scheduler and the demo — the composition roots.
pub mod service;

// Domain: the webhook event log, reconciliation, orders, reminders and what
// is computed and exported from them.
pub mod chain;
pub mod deliveries;
pub mod export;
pub mod lightning;
pub mod orders;
pub mod portfolio;
pub mod reconcile;
pub mod reminders;

// Foundations: leaves the domain builds on.
pub mod alerts;
pub mod config;
pub mod files;
pub mod format;
pub mod mail;
pub mod payment;
pub mod pocket;
pub mod random;
pub mod store;
pub mod wallet;

// A local Pocket, bank and blockchain to try everything against.
pub mod sandbox;
