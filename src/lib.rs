//! pocket-dca: a self-hosted, watch-only companion for Pocket Bitcoin
//! standing orders. The binary in `main.rs` only parses arguments and maps
//! errors to exit codes; everything else lives in this library so that
//! tests and benchmarks use the same code.

pub mod cli;
pub mod config;
pub mod orders;
pub mod payment;
pub mod pocket;
pub mod sandbox;
pub mod store;
pub mod wallet;
