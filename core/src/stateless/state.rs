//! `requestState`: what a multi round-trip request carries from one round
//! to the next, sealed so the client can echo it but not change it.
//!
//! The state is attacker input when it comes back, so it is
//! integrity-protected with HMAC-SHA256 (RustCrypto `hmac` + `sha2`) and
//! bound to the method, a digest of the request's params (their `_meta`,
//! `inputResponses` and `requestState` left out) and an expiry. The keys
//! are a keyring (current, and optionally the previous one), so replicas
//! that share it accept each other's state and keys can rotate.
//!
//! The token is `v1.<payload>.<mac>`, both parts URL-safe Base64: the
//! payload is JSON, readable by anyone holding it (it holds the client's
//! own earlier answers and nothing of the server's).

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::base64;

type HmacSha256 = Hmac<Sha256>;

/// The prefix of every token; a new format gets a new one.
const VERSION: &str = "v1";
/// The length of a token's MAC: 32 bytes in unpadded Base64.
const MAC_CHARS: usize = 43;
/// The shortest key a keyring takes: HMAC-SHA256 is as strong as its key.
pub const MIN_KEY_BYTES: usize = 32;

/// The keys that seal and open `requestState`: the current key, which
/// seals, and optionally the previous one, still accepted while clients
/// hold state it sealed.
///
/// Give every replica the same keyring
/// ([`ServerConfig::request_state_keys`](crate::ServerConfig::request_state_keys)).
/// Without one a server draws a random key when it is built, which is
/// right for one process and wrong for several. Keys should be 32 random
/// bytes; `Debug` never shows them.
///
/// # Examples
///
/// ```
/// use switchboard_core::stateless::RequestStateKeys;
///
/// let rotated = RequestStateKeys::new([7u8; 32])?.with_previous([6u8; 32])?;
/// assert!(format!("{rotated:?}").contains("previous: true"));
/// assert!(RequestStateKeys::new(b"short").is_err());
/// # Ok::<(), switchboard_core::stateless::KeyTooShort>(())
/// ```
#[derive(Clone)]
pub struct RequestStateKeys {
    /// Seals new state and opens it.
    current: Vec<u8>,
    /// Only opens.
    previous: Option<Vec<u8>>,
}

impl fmt::Debug for RequestStateKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestStateKeys")
            .field("previous", &self.previous.is_some())
            .finish_non_exhaustive()
    }
}

impl RequestStateKeys {
    /// A keyring whose current key is `key`.
    ///
    /// # Errors
    ///
    /// [`KeyTooShort`] for a key under [`MIN_KEY_BYTES`] (32) bytes.
    pub fn new(key: impl AsRef<[u8]>) -> Result<Self, KeyTooShort> {
        Ok(Self {
            current: checked(key.as_ref())?,
            previous: None,
        })
    }

    /// The same keyring, also accepting state sealed with `key` (the key
    /// it replaces).
    ///
    /// # Errors
    ///
    /// [`KeyTooShort`] for a key under [`MIN_KEY_BYTES`] (32) bytes.
    pub fn with_previous(mut self, key: impl AsRef<[u8]>) -> Result<Self, KeyTooShort> {
        self.previous = Some(checked(key.as_ref())?);
        Ok(self)
    }

    /// A keyring with one random 32-byte key, or `None` when the operating
    /// system gives no randomness.
    pub(crate) fn random() -> Option<Self> {
        let mut key = [0u8; MIN_KEY_BYTES];
        #[cfg(feature = "simulation")]
        let simulated = crate::simulation::fill(&mut key);
        #[cfg(not(feature = "simulation"))]
        let simulated = false;
        if !simulated {
            getrandom::fill(&mut key).ok()?;
        }
        Self::new(key).ok()
    }

    /// The MAC of `data` under `key`.
    fn mac(key: &[u8], data: &[u8]) -> HmacSha256 {
        // HMAC takes a key of any length.
        let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
        mac.update(data);
        mac
    }
}

/// A key shorter than [`MIN_KEY_BYTES`]: refused by
/// [`RequestStateKeys::new`] and [`RequestStateKeys::with_previous`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a requestState key needs at least {MIN_KEY_BYTES} bytes, not {0}")]
pub struct KeyTooShort(pub usize);

/// `key` when it is long enough.
fn checked(key: &[u8]) -> Result<Vec<u8>, KeyTooShort> {
    if key.len() < MIN_KEY_BYTES {
        return Err(KeyTooShort(key.len()));
    }
    Ok(key.to_vec())
}

/// What the state holds, in the token's payload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Sealed {
    /// The method the state belongs to.
    #[serde(rename = "m")]
    pub(crate) method: String,
    /// The digest of the params it belongs to.
    #[serde(rename = "d")]
    pub(crate) digest: String,
    /// Seconds since the Unix epoch after which it is refused.
    #[serde(rename = "e")]
    pub(crate) expires: u64,
    /// The client's answers from earlier rounds, by input key.
    #[serde(rename = "a", default)]
    pub(crate) answers: Map<String, Value>,
}

/// Why a `requestState` was refused (`-32602`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum StateError {
    /// Not a token, or its MAC does not verify under any key: tampered, or
    /// sealed by a server that does not share the keyring.
    #[error("invalid requestState")]
    Invalid,
    /// Sealed for another method or other params.
    #[error("requestState belongs to another request")]
    Foreign,
    /// Past its expiry.
    #[error("requestState has expired")]
    Expired,
}

/// Seconds since the Unix epoch. State crosses processes, so its clock is
/// the wall clock, not the monotonic one the rest of the server keeps.
fn unix_now() -> u64 {
    crate::clock::unix_time().as_secs()
}

/// Seals `answers` for `method` and `digest`, valid for `ttl` from now.
pub(crate) fn seal(
    keys: &RequestStateKeys,
    method: &str,
    digest: String,
    ttl: Duration,
    answers: Map<String, Value>,
) -> String {
    let sealed = Sealed {
        method: method.to_owned(),
        digest,
        expires: unix_now().saturating_add(ttl.as_secs().max(1)),
        answers,
    };
    let payload = base64::encode_url(&serde_json::to_vec(&sealed).unwrap_or_default());
    let signed = format!("{VERSION}.{payload}");
    let mac = RequestStateKeys::mac(&keys.current, signed.as_bytes()).finalize();
    format!("{signed}.{}", base64::encode_url(&mac.into_bytes()))
}

/// Opens a token sealed by [`seal`] for `method` and `digest`.
///
/// # Errors
///
/// [`StateError`]: a token that is malformed or does not verify under the
/// current or previous key, one for another request, or one past its
/// expiry.
pub(crate) fn open(
    keys: &RequestStateKeys,
    token: &str,
    method: &str,
    digest: &str,
) -> Result<Sealed, StateError> {
    let (signed, mac) = token.rsplit_once('.').ok_or(StateError::Invalid)?;
    let (version, payload) = signed.split_once('.').ok_or(StateError::Invalid)?;
    // A SHA-256 MAC is 43 characters; anything else is refused before any
    // decoding, however long the token.
    if mac.len() != MAC_CHARS {
        return Err(StateError::Invalid);
    }
    let mac = base64::decode_url(mac).ok_or(StateError::Invalid)?;
    if version != VERSION {
        return Err(StateError::Invalid);
    }
    let verifies = |key: &[u8]| {
        RequestStateKeys::mac(key, signed.as_bytes())
            .verify_slice(&mac)
            .is_ok()
    };
    if !verifies(&keys.current) && !keys.previous.as_deref().is_some_and(verifies) {
        return Err(StateError::Invalid);
    }
    let bytes = base64::decode_url(payload).ok_or(StateError::Invalid)?;
    let sealed: Sealed = serde_json::from_slice(&bytes).map_err(|_| StateError::Invalid)?;
    if sealed.method != method || sealed.digest != digest {
        return Err(StateError::Foreign);
    }
    if sealed.expires < unix_now() {
        return Err(StateError::Expired);
    }
    Ok(sealed)
}

/// The digest of params bound by their exact text.
pub(crate) fn text_digest(text: &str) -> String {
    base64::encode_url(&Sha256::digest(text.as_bytes()))
}

/// The digest a state is bound to: SHA-256 over the canonical JSON (keys
/// sorted) of the params without `_meta`, `inputResponses` and
/// `requestState`, which change from round to round.
pub(crate) fn params_digest(params: Option<&Value>) -> String {
    let mut text = Vec::new();
    if let Some(Value::Object(map)) = params {
        let kept: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "_meta" | "inputResponses" | "requestState"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        canonical(&Value::Object(kept), &mut text);
    }
    base64::encode_url(&Sha256::digest(&text))
}

/// Writes `value` as JSON with every object's keys sorted, whatever order
/// the map keeps them in (serde_json's `preserve_order` may be on).
fn canonical(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend(serde_json::to_vec(key).unwrap_or_default());
                out.push(b':');
                canonical(&map[key], out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical(item, out);
            }
            out.push(b']');
        }
        other => out.extend(serde_json::to_vec(other).unwrap_or_default()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answers() -> Map<String, Value> {
        json!({"user_name": {"action": "accept"}})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn sealed_state_opens_only_for_its_request_and_keys() {
        let keys = RequestStateKeys::new([1u8; 32]).unwrap();
        let params = json!({"name": "t", "arguments": {"b": 1, "a": 2}, "_meta": {"x": 1}});
        let digest = params_digest(Some(&params));
        let token = seal(
            &keys,
            "tools/call",
            digest.clone(),
            Duration::from_secs(60),
            answers(),
        );
        let opened = open(&keys, &token, "tools/call", &digest).unwrap();
        assert_eq!(opened.answers, answers());
        // Key order, `_meta` and the round's own fields do not change the digest.
        let again = json!({"arguments": {"a": 2, "b": 1}, "name": "t", "requestState": token,
            "inputResponses": {}});
        assert_eq!(params_digest(Some(&again)), digest);

        let tampered = format!("{token}-TAMPERED");
        assert_eq!(
            open(&keys, &tampered, "tools/call", &digest),
            Err(StateError::Invalid)
        );
        let mut flipped = token.clone().into_bytes();
        flipped[5] ^= 1;
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            open(&keys, &flipped, "tools/call", &digest),
            Err(StateError::Invalid)
        );
        assert_eq!(
            open(&keys, &token, "prompts/get", &digest),
            Err(StateError::Foreign)
        );
        let other = params_digest(Some(&json!({"name": "u"})));
        assert_eq!(
            open(&keys, &token, "tools/call", &other),
            Err(StateError::Foreign)
        );
        let foreign = RequestStateKeys::new([2u8; 32]).unwrap();
        assert_eq!(
            open(&foreign, &token, "tools/call", &digest),
            Err(StateError::Invalid)
        );
        assert_eq!(
            open(&keys, "garbage", "tools/call", &digest),
            Err(StateError::Invalid)
        );
    }

    #[test]
    fn rotation_keeps_the_previous_key_and_expiry_is_enforced() {
        let old = RequestStateKeys::new([1u8; 32]).unwrap();
        let token = seal(&old, "m", "d".into(), Duration::from_secs(60), Map::new());
        let rotated = RequestStateKeys::new([9u8; 32])
            .unwrap()
            .with_previous([1u8; 32])
            .unwrap();
        assert!(open(&rotated, &token, "m", "d").is_ok());
        let mut expired: Sealed = {
            let payload = token.split('.').nth(1).unwrap();
            serde_json::from_slice(&base64::decode_url(payload).unwrap()).unwrap()
        };
        expired.expires = 1;
        let payload = base64::encode_url(&serde_json::to_vec(&expired).unwrap());
        let signed = format!("v1.{payload}");
        let mac = RequestStateKeys::mac(&old.current, signed.as_bytes()).finalize();
        let token = format!("{signed}.{}", base64::encode_url(&mac.into_bytes()));
        assert_eq!(open(&old, &token, "m", "d"), Err(StateError::Expired));
    }
}
