//! Base64 (RFC 4648), the two forms the server needs and nothing more: the
//! standard alphabet with padding, decoded strictly (an `Mcp-*` header value
//! written `=?base64?…?=`), and the URL-safe alphabet without padding (the
//! opaque `requestState`, with the `request-state` feature). A crate would bring a dozen options for forty
//! lines.

/// The standard alphabet (`+`, `/`).
const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// The URL-safe alphabet (`-`, `_`).
#[cfg(feature = "request-state")]
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Encodes `bytes` in the URL-safe alphabet, without padding.
#[cfg(feature = "request-state")]
pub(crate) fn encode_url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(URL_SAFE[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

/// Decodes URL-safe text without padding; `None` for anything else.
#[cfg(feature = "request-state")]
pub(crate) fn decode_url(text: &str) -> Option<Vec<u8>> {
    decode(text.as_bytes(), URL_SAFE, false)
}

/// Decodes standard Base64 with the padding it requires; `None` for a wrong
/// character, missing or misplaced padding, or stray bits in the last
/// character.
pub(crate) fn decode_standard(text: &str) -> Option<Vec<u8>> {
    decode(text.as_bytes(), STANDARD, true)
}

/// Decodes `text` in `alphabet`, with padding to a multiple of four when
/// `padded`, without any otherwise.
fn decode(text: &[u8], alphabet: &[u8; 64], padded: bool) -> Option<Vec<u8>> {
    let body = if padded {
        if text.len() % 4 != 0 {
            return None;
        }
        let pad = text.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        &text[..text.len() - pad]
    } else {
        text
    };
    if body.len() % 4 == 1 {
        return None;
    }
    // One table per call: 256 bytes, cheaper than a search per character.
    let mut table = [u8::MAX; 256];
    for (v, &c) in alphabet.iter().enumerate() {
        table[usize::from(c)] = v as u8;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    for chunk in body.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let v = table[usize::from(c)];
            if v == u8::MAX {
                return None;
            }
            n |= u32::from(v) << (18 - 6 * i);
        }
        let bytes = chunk.len() - 1;
        // The bits below the last whole byte must be zero (canonical form).
        if n & ((1 << (24 - 8 * bytes)) - 1) != 0 && bytes < 3 {
            return None;
        }
        out.extend((0..bytes).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_is_strict_about_padding_and_characters() {
        assert_eq!(decode_standard("SGVsbG8=").unwrap(), b"Hello");
        assert_eq!(decode_standard("SGk=").unwrap(), b"Hi");
        assert_eq!(decode_standard("").unwrap(), b"");
        assert!(decode_standard("SGVsbG8").is_none(), "padding required");
        assert!(decode_standard("SGVs!!!bG8=").is_none());
        assert!(decode_standard("SGVsbG9=").is_none(), "stray bits");
        assert!(decode_standard("S===").is_none());
    }

    #[cfg(feature = "request-state")]
    #[test]
    fn url_safe_round_trips_every_length() {
        let data: Vec<u8> = (0..=255).collect();
        for n in 0..40 {
            let text = encode_url(&data[..n]);
            assert!(!text.contains('='));
            assert_eq!(decode_url(&text).unwrap(), &data[..n], "{n}");
        }
        assert_eq!(encode_url(&[0xfb, 0xff]), "-_8");
        assert!(decode_url("ab=").is_none());
    }
}
