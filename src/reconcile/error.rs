//! Why applying what Pocket says failed: storage, a key that no longer
//! parses, or Pocket itself (for `sync` and `exchange fetch`).

use crate::{pocket, store, wallet};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error(transparent)]
    Wallet(#[from] wallet::Error),
    #[error(transparent)]
    Pocket(#[from] pocket::Error),
}
