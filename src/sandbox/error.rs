//! Errors in Pocket's shape: an HTTP status and an `error` code. The codes
//! Pocket documents are in `pocket::codes`; the sandbox's own are marked as
//! such where they are made.

use crate::pocket::codes::sandbox as code;

/// An error in Pocket's shape: HTTP status and `error` code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    /// For the log only; Pocket's body carries just the code.
    pub detail: String,
}

impl ApiError {
    pub fn bad(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            code,
            detail: detail.into(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError {
            status: 404,
            code: code::NOT_FOUND,
            detail: detail.into(),
        }
    }

    pub(super) fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: 500,
            code: "internal_error",
            detail: e.to_string(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.detail)
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(e)
    }
}

pub(super) type Result<T> = std::result::Result<T, ApiError>;
