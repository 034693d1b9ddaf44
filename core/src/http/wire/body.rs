//! Request bodies: Content-Length and chunked framing, decoded
//! incrementally within a size limit.

use super::error::HttpError;
use super::head::Framing;

/// Longest chunk-size line accepted (hex size plus extensions).
const MAX_CHUNK_LINE: usize = 1024;

/// Decodes a request body incrementally.
///
/// A state machine fed whatever bytes have arrived: it keeps no input of
/// its own (an unfinished chunk-size line stays unconsumed in the caller's
/// buffer), so a read that is cancelled between calls loses nothing.
/// Trailer fields of a chunked body are read and dropped.
///
/// # Examples
///
/// A chunked body arriving in two reads, the second split mid-chunk:
///
/// ```
/// use switchboard_core::http::wire::{BodyDecoder, Framing};
///
/// let mut decoder = BodyDecoder::new(Framing::Chunked, 1024).unwrap();
/// let mut body = Vec::new();
/// let mut buf = b"5\r\nhel".to_vec();
///
/// let used = decoder.decode(&buf, &mut body).unwrap();
/// buf.drain(..used);
/// assert!(!decoder.is_done());
/// assert_eq!(body, b"hel");
///
/// buf.extend_from_slice(b"lo\r\n6;ext=1\r\n world\r\n0\r\n\r\n");
/// let used = decoder.decode(&buf, &mut body).unwrap();
/// buf.drain(..used);
/// assert!(decoder.is_done());
/// assert_eq!(body, b"hello world");
/// assert!(buf.is_empty());
/// ```
#[derive(Debug)]
pub struct BodyDecoder {
    /// Where in the framing the next byte falls.
    state: State,
    /// Most body bytes accepted (after chunk framing is removed).
    limit: usize,
    /// Body bytes produced so far; never above `limit`.
    received: usize,
    /// Bytes of trailer lines read so far, against their own limit.
    trailer_bytes: usize,
}

/// A [`BodyDecoder`]'s position in the body's framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Content-Length framing with this many body bytes still to come.
    Length(u64),
    /// Expecting a chunk-size line (hex size, optional extensions, CRLF).
    ChunkSize,
    /// Inside a chunk, with this many data bytes still to come.
    ChunkData(u64),
    /// A chunk's data ended; the CRLF after it is next.
    ChunkDataEnd,
    /// After the last (zero-size) chunk: trailer lines until an empty one.
    Trailers,
    /// The body is complete; nothing more is consumed.
    Done,
}

impl BodyDecoder {
    /// A decoder for this framing, refusing bodies over `limit` bytes.
    ///
    /// `Framing::Length(0)` gives a decoder that is done at once.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::http::wire::{BodyDecoder, Framing, HttpError};
    ///
    /// assert!(BodyDecoder::new(Framing::Length(0), 10).unwrap().is_done());
    /// assert_eq!(BodyDecoder::new(Framing::Length(11), 10).unwrap_err(), HttpError::BodyTooLarge);
    /// ```
    ///
    /// # Errors
    ///
    /// [`HttpError::BodyTooLarge`] at once when a Content-Length is over the limit.
    pub fn new(framing: Framing, limit: usize) -> Result<Self, HttpError> {
        let state = match framing {
            Framing::Length(n) if n > limit as u64 => return Err(HttpError::BodyTooLarge),
            Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::ChunkSize,
        };
        Ok(Self {
            state,
            limit,
            received: 0,
            trailer_bytes: 0,
        })
    }

    /// Whether the whole body has been decoded; from then on
    /// [`BodyDecoder::decode`] consumes nothing.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Moves body bytes from the front of `input` into `out`. Returns how
    /// many bytes of `input` were consumed; call again with more input until
    /// [`BodyDecoder::is_done`].
    ///
    /// The caller drops the consumed bytes and passes the rest again with
    /// whatever arrives next: an incomplete chunk-size line, chunk CRLF or
    /// trailer line is left unconsumed until it is whole. Bytes after the
    /// body's end are never consumed.
    ///
    /// # Errors
    ///
    /// [`HttpError::BodyTooLarge`] past the limit (for a chunk, as soon as
    /// its size line announces it); [`HttpError::Malformed`] for bad chunk
    /// framing or a chunk-size line over 1 KiB; [`HttpError::HeadTooLarge`]
    /// when the trailers pass 8 KiB. After an error the decoder is spent:
    /// the connection is answered and closed.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, HttpError> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                State::Done => return Ok(pos),
                State::Length(remaining) | State::ChunkData(remaining) => {
                    if rest.is_empty() {
                        return Ok(pos);
                    }
                    let take = rest
                        .len()
                        .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                    self.received += take;
                    if self.received > self.limit {
                        return Err(HttpError::BodyTooLarge);
                    }
                    out.extend_from_slice(&rest[..take]);
                    pos += take;
                    let left = remaining - take as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), n) => State::Length(n),
                        (_, 0) => State::ChunkDataEnd,
                        (_, n) => State::ChunkData(n),
                    };
                }
                State::ChunkSize => {
                    let Some(line_end) = find_crlf(rest) else {
                        if rest.len() > MAX_CHUNK_LINE {
                            return Err(HttpError::Malformed);
                        }
                        return Ok(pos);
                    };
                    let line = &rest[..line_end];
                    // The limit holds for a whole line too, however it arrived.
                    if line.len() > MAX_CHUNK_LINE {
                        return Err(HttpError::Malformed);
                    }
                    let size = chunk_size(line).ok_or(HttpError::Malformed)?;
                    if size > (self.limit - self.received) as u64 {
                        return Err(HttpError::BodyTooLarge);
                    }
                    pos += line_end + 2;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData(size)
                    };
                }
                State::ChunkDataEnd => {
                    if rest.len() < 2 {
                        return Ok(pos);
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(HttpError::Malformed);
                    }
                    pos += 2;
                    self.state = State::ChunkSize;
                }
                State::Trailers => {
                    let Some(line_end) = find_crlf(rest) else {
                        if rest.len() > MAX_CHUNK_LINE {
                            return Err(HttpError::Malformed);
                        }
                        return Ok(pos);
                    };
                    // As for a size line: the limit holds for a whole line
                    // too, or the answer would depend on how it arrived.
                    if line_end > MAX_CHUNK_LINE {
                        return Err(HttpError::Malformed);
                    }
                    pos += line_end + 2;
                    self.trailer_bytes += line_end + 2;
                    if self.trailer_bytes > MAX_CHUNK_LINE * 8 {
                        return Err(HttpError::HeadTooLarge);
                    }
                    if line_end == 0 {
                        self.state = State::Done;
                    }
                }
            }
        }
    }
}

/// The size a chunk-size line gives: hex digits only (no sign, no leading
/// space, at most 16 of them), optionally followed by whitespace and a
/// `;` extension (RFC 9112 §7.1). Parsers that read `+28` or ` 28` as 40
/// would frame the body differently from those that refuse it.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let size = line.split(|&b| b == b';').next().unwrap_or(&[]);
    let end = size
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(0, |i| i + 1);
    let hex = &size[..end];
    if hex.is_empty() || hex.len() > 16 || !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

/// The index of the first CRLF in `buf`, if any.
fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}
