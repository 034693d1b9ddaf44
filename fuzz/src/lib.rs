//! Shared pieces of the fuzz targets: feeding a body decoder in pieces.
#![forbid(unsafe_code)]

use switchboard_core::http::wire::{BodyDecoder, Framing, HttpError};

/// What decoding a body gave: the body so far (or the error), how many
/// input bytes were consumed (zero after an error: how far a failed read
/// got depends on how the input was split), and whether the body is
/// complete.
#[derive(Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The body bytes, or the error that stopped decoding.
    pub body: Result<Vec<u8>, HttpError>,
    /// Input bytes consumed (up to the error, if any).
    pub used: usize,
    /// Whether the decoder reached the end of the body.
    pub done: bool,
}

/// Decodes `input` fed in pieces ending at each of `cuts` (offsets into
/// `input`, in any order), as a connection's reads would arrive; the
/// caller keeps unconsumed bytes and passes them again with the next read.
pub fn decode_in_pieces(framing: Framing, limit: usize, input: &[u8], cuts: &[usize]) -> Decoded {
    let mut decoder = match BodyDecoder::new(framing, limit) {
        Ok(d) => d,
        Err(e) => {
            return Decoded {
                body: Err(e),
                used: 0,
                done: false,
            };
        }
    };
    let mut ends: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    ends.push(input.len());
    ends.sort_unstable();
    let (mut buf, mut body, mut used, mut fed) = (Vec::new(), Vec::new(), 0, 0);
    for end in ends {
        buf.extend_from_slice(&input[fed..end]);
        fed = end;
        match decoder.decode(&buf, &mut body) {
            Ok(n) => {
                assert!(n <= buf.len(), "consumed more than given");
                buf.drain(..n);
                used += n;
            }
            Err(e) => {
                return Decoded {
                    body: Err(e),
                    used: 0,
                    done: false,
                };
            }
        }
        assert!(body.len() <= limit, "body over its limit");
    }
    Decoded {
        body: Ok(body),
        used,
        done: decoder.is_done(),
    }
}
