//! Every failure a request can meet, as a status and a JSON body that says why.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use guestmem_host::Error;
use guestmem_host::pool::PoolError;
use serde::Serialize;

/// A failed request: its status and `{"kind": ..., "message": ...}`.
#[derive(Clone, Debug, Serialize)]
pub struct ApiError {
    /// The HTTP status.
    #[serde(skip)]
    pub status: StatusCode,
    /// What failed, one word (server/README.md lists them).
    pub kind: &'static str,
    /// Why, for a person.
    pub message: String,
    /// A trap's reason, as the guest recorded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            reason: None,
        }
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub(crate) fn input(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "input", message)
    }

    pub(crate) fn not_served(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, "not_served", message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        let (status, kind) = match &error {
            Error::Guest { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "guest"),
            Error::Trap { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "trap"),
            Error::HostFunction { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "host_function"),
            Error::Timeout { .. } => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            Error::BadResult { .. } => (StatusCode::BAD_GATEWAY, "bad_result"),
            Error::Call { .. } | Error::Arity { .. } => (StatusCode::BAD_REQUEST, "input"),
            Error::InputTooLong { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "input"),
            Error::AllocFailed { .. } => (StatusCode::INSUFFICIENT_STORAGE, "guest_memory"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        Self {
            status,
            kind,
            message: error.to_string(),
            reason: error.trap_reason().map(str::to_owned),
        }
    }
}

impl From<PoolError> for ApiError {
    fn from(error: PoolError) -> Self {
        match error {
            PoolError::Busy { .. } => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", error.to_string())
            }
            PoolError::Instantiate(error) => Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "instantiate",
                format!("making an instance: {error}"),
            ),
            _ => Self::internal(error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(&self)).into_response()
    }
}
