//! Why a request could not be read, as one HTTP status each.

use http::StatusCode;

/// Why a request could not be read; each maps to one status.
///
/// After any of these the connection cannot be trusted to be at a request
/// boundary, so the server answers with [`HttpError::status`] and closes it.
///
/// # Examples
///
/// ```
/// use switchboard_core::http::wire::{parse_head, HttpError};
/// use switchboard_core::HttpConfig;
///
/// let small = HttpConfig::default().max_head_bytes(32);
/// let raw = b"GET /mcp HTTP/1.1\r\nHost: localhost\r\nX-Long: aaaaaaaaaaaaaaaa\r\n\r\n";
/// let error = parse_head(raw, &small).unwrap_err();
/// assert_eq!(error, HttpError::HeadTooLarge);
/// assert_eq!(error.status(), 431);
/// assert_eq!(error.to_string(), "request head too large");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The head is longer than the limit (also: chunked-body trailers past
    /// their own fixed limit of 8 KiB).
    #[error("request head too large")]
    HeadTooLarge,
    /// More headers than the limit.
    #[error("too many headers")]
    TooManyHeaders,
    /// The body is larger than the limit.
    #[error("request body too large")]
    BodyTooLarge,
    /// The request did not arrive in time. Never returned by the parser,
    /// which knows no time; the connection reports it when its deadline
    /// passes mid-request.
    #[error("request timed out")]
    Timeout,
    /// The bytes are not a valid HTTP/1.x request, or its body framing is
    /// ambiguous or broken.
    #[error("malformed request")]
    Malformed,
}

impl HttpError {
    /// The status that answers this error: 431 for the head limits, 413
    /// for the body limit, 408 for a timeout, 400 for malformed bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use http::StatusCode;
    /// use switchboard_core::http::wire::HttpError;
    ///
    /// assert_eq!(HttpError::BodyTooLarge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    /// assert_eq!(HttpError::Malformed.status(), StatusCode::BAD_REQUEST);
    /// ```
    pub fn status(self) -> StatusCode {
        match self {
            Self::HeadTooLarge | Self::TooManyHeaders => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::Malformed => StatusCode::BAD_REQUEST,
        }
    }
}
