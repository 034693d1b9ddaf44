//! The body decoder (Content-Length and chunked): decoding in one piece and
//! in arbitrary pieces agree, nothing past the body is consumed, the limit
//! holds; and a body chunk-encoded with arbitrary chunk sizes decodes back
//! to itself.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use switchboard_core::http::wire::Framing;
use switchboard_fuzz::decode_in_pieces;

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 {
        return;
    }
    let limit = 1 + usize::from(u16::from_le_bytes([data[0], data[1]]));
    let mode = data[2];
    let cuts: Vec<usize> = data[3..]
        .iter()
        .take(4)
        .map(|&b| usize::from(b) * 7)
        .collect();
    let input = &data[3..];
    let framing = if mode & 1 == 0 {
        Framing::Chunked
    } else {
        Framing::Length(u64::from(mode))
    };

    let whole = decode_in_pieces(framing, limit, input, &[]);
    let pieces = decode_in_pieces(framing, limit, input, &cuts);
    let one_by_one: Vec<usize> = (0..input.len().min(300)).collect();
    let bytes = decode_in_pieces(framing, limit, input, &one_by_one);
    assert_eq!(whole, pieces, "split reads changed the result");
    assert_eq!(whole, bytes, "byte-by-byte reads changed the result");
    if let (Framing::Length(n), Ok(body)) = (framing, &whole.body) {
        assert_eq!(body.len() as u64, n.min(input.len() as u64));
        assert_eq!(whole.done, body.len() as u64 == n);
    }

    // Round trip: the input as a body, chunked at sizes taken from it.
    let mut encoded = Vec::new();
    let mut rest = input;
    let mut sizes = data.iter().cycle();
    while !rest.is_empty() {
        let n = (usize::from(*sizes.next().unwrap()) + 1).min(rest.len());
        encoded.extend_from_slice(format!("{n:x}\r\n").as_bytes());
        encoded.extend_from_slice(&rest[..n]);
        encoded.extend_from_slice(b"\r\n");
        rest = &rest[n..];
    }
    encoded.extend_from_slice(b"0\r\n\r\n");
    let trip = decode_in_pieces(Framing::Chunked, input.len().max(1), &encoded, &cuts);
    assert_eq!(trip.body.as_deref(), Ok(input), "chunked round trip");
    assert!(trip.done && trip.used == encoded.len());
});
