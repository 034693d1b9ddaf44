//! The engine's side of the stateless revision (2026-07-28): the carriers
//! stateless requests run in, `server/discover`, the result decorations
//! (`resultType`, caching hints), and the rounds of multi round-trip
//! requests.
//!
//! A stateless request has no session, yet the machinery a request runs on
//! (in-flight table, reply stream, cancellation) hangs off a [`Session`].
//! So each one runs in a *carrier*: over HTTP a session object made for
//! that one request and ended with its response, never in the session
//! table (no `Mcp-Session-Id` can name it); over a one-connection transport
//! (stdio, memory) one carrier per connection, so `notifications/cancelled`
//! finds its requests. Its facts come from the request's `_meta`, never
//! from the carrier.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::error::MethodError;
use super::params::{Outcome, Payload};
use super::shared::Shared;
use crate::jsonrpc::Params;
use crate::principal::Principal;
use crate::protocol::ProtocolVersion;
use crate::stateless::input::Inputs;
#[cfg(feature = "request-state")]
use crate::stateless::state::{self, StateError};
use crate::stateless::{Cacheable, RequestStateKeys, SERVER_INFO_KEY};

/// Whether a stateless `method` may answer `input_required` (ask the
/// client for input): the three the revision allows, named by a static
/// copy of the name (a round keeps it without allocating).
pub(crate) fn takes_input(method: &str) -> Option<&'static str> {
    match method {
        "tools/call" => Some("tools/call"),
        "prompts/get" => Some("prompts/get"),
        "resources/read" => Some("resources/read"),
        _ => None,
    }
}

/// The round a multi round-trip request is in: its inputs, and what the
/// next round's state is bound to.
pub(crate) struct Round {
    /// The answers so far and what the handler asks.
    pub(crate) inputs: Arc<Inputs>,
    /// The method, which the state names.
    #[cfg_attr(
        not(feature = "request-state"),
        expect(dead_code, reason = "only a sealed requestState names it")
    )]
    method: &'static str,
    /// The params, whose digest the state names: computed only when a
    /// state is sealed or opened, which most calls never need.
    params: Option<Params>,
    /// Whose token authorized the request (issuer and subject), when the
    /// endpoint needs one: the state names it too, so a state that leaks
    /// is of no use under another party's token.
    #[cfg_attr(
        not(feature = "request-state"),
        expect(dead_code, reason = "only a sealed requestState names it")
    )]
    party: Option<String>,
}

#[cfg(feature = "request-state")]
impl Round {
    /// The digest of the round's params, and of its party when there is
    /// one.
    fn digest(&self) -> String {
        let params = self.params_digest();
        match &self.party {
            None => params,
            Some(party) => state::text_digest(&format!("{params}\n{party}")),
        }
    }

    /// The digest of the round's params alone.
    fn params_digest(&self) -> String {
        let text = self.params.as_ref().map(Params::as_str);
        let value: Option<Value> = text.and_then(|p| serde_json::from_str(p).ok());
        match (&value, text) {
            (Some(Value::Object(_)), _) => state::params_digest(value.as_ref()),
            // Params that do not read back as an object (a number past f64,
            // say) are bound by their exact text, never by an empty digest
            // every such request would share.
            (_, Some(text)) => state::text_digest(text),
            (_, None) => state::params_digest(None),
        }
    }
}

/// Opens the round of a stateless `method` with `params` (kept for the
/// state's digest): reads
/// `inputResponses` and opens `requestState`. A first call carries
/// neither (`retry` is false: its `_meta` pass saw neither key), and costs
/// no parse.
///
/// # Errors
///
/// `-32602` ([`MethodError::InvalidParams`]) for `inputResponses` that are
/// not an object (or `null`), a `requestState` that is not a string, or
/// one that is tampered, foreign or expired.
pub(crate) fn open_round(
    keys: Option<&RequestStateKeys>,
    method: &'static str,
    params: Option<Params>,
    retry: bool,
    principal: Option<&Principal>,
) -> Result<Round, MethodError> {
    /// What a retry adds to the params, as raw JSON text.
    #[derive(Deserialize)]
    struct Retry<'a> {
        #[serde(rename = "inputResponses", borrow, default)]
        input_responses: Option<&'a RawValue>,
        #[serde(rename = "requestState", borrow, default)]
        request_state: Option<&'a RawValue>,
    }
    let mut round = Round {
        inputs: Arc::new(Inputs::default()),
        method,
        params,
        // Issuer and subject, length-prefixed so no two parties read alike.
        party: principal.map(|p| {
            let issuer = p.issuer().unwrap_or("");
            format!("{}:{issuer}{}", issuer.len(), p.subject())
        }),
    };
    let Some(text) = round.params.as_ref().map(Params::as_str) else {
        return Ok(round);
    };
    if !retry {
        return Ok(round);
    }
    let Ok(retry) = serde_json::from_str::<Retry<'_>>(text) else {
        return Ok(round);
    };
    let invalid = |what: &str| MethodError::InvalidParams(what.to_owned());
    let responses = match retry.input_responses.map(RawValue::get) {
        None | Some("null") => Map::new(),
        Some(raw) => serde_json::from_str::<Map<String, Value>>(raw)
            .map_err(|_| invalid("inputResponses must be an object"))?,
    };
    let carried = match retry.request_state.map(RawValue::get) {
        None | Some("null") => Map::new(),
        Some(raw) => {
            let token: String =
                serde_json::from_str(raw).map_err(|_| invalid("requestState must be a string"))?;
            // Without keys (no randomness at build) no state was ever sealed.
            let keys = keys.ok_or_else(|| invalid("invalid requestState"))?;
            open_state(keys, &token, &round)?
        }
    };
    round.inputs = Arc::new(Inputs::new(carried, responses));
    Ok(round)
}

/// The answers `token`, a retry's `requestState`, carries for `round`.
///
/// # Errors
///
/// `-32602` for a state that is tampered, foreign or expired.
#[cfg(feature = "request-state")]
fn open_state(
    keys: &RequestStateKeys,
    token: &str,
    round: &Round,
) -> Result<Map<String, Value>, MethodError> {
    state::open(keys, token, round.method, &round.digest())
        .map(|sealed| sealed.answers)
        .map_err(|e: StateError| MethodError::InvalidParams(e.to_string()))
}

/// Without the `request-state` feature there are no keys (the type has no
/// values), so this is never called.
#[cfg(not(feature = "request-state"))]
fn open_state(
    keys: &RequestStateKeys,
    _token: &str,
    _round: &Round,
) -> Result<Map<String, Value>, MethodError> {
    match *keys {}
}

/// A handler's future in a round: ends as the handler does, or, when the
/// handler waits with a question unanswered, with the round's
/// `input_required` result (the handler is then dropped).
pub(crate) struct InRound<F> {
    /// The handler (boxed, so the wrapper is `Unpin`).
    handler: Pin<Box<F>>,
    /// The round's inputs.
    inputs: Arc<Inputs>,
}

impl<F> InRound<F> {
    /// Wraps `handler`, whose context asks through `inputs`.
    pub(crate) fn new(handler: F, inputs: Arc<Inputs>) -> Self {
        Self {
            handler: Box::pin(handler),
            inputs,
        }
    }
}

/// How a handler's round ended.
pub(crate) enum RoundEnd<T> {
    /// The handler finished.
    Done(T),
    /// The handler asked for input it does not have.
    InputRequired,
}

impl<F: Future> Future for InRound<F> {
    type Output = RoundEnd<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // A question asked from another task (through a clone of the
        // context) wakes the round, so it ends even if the handler waits.
        self.inputs.wake_with(cx.waker());
        match self.handler.as_mut().poll(cx) {
            Poll::Ready(out) => Poll::Ready(RoundEnd::Done(out)),
            // Everything asked in this poll goes out together.
            Poll::Pending if self.inputs.has_questions() => Poll::Ready(RoundEnd::InputRequired),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The `input_required` result ending `round`: its questions, and the
/// answers so far sealed into `requestState`.
pub(crate) fn input_required(shared: &Shared, round: &Round) -> Outcome {
    let keys = shared.state_keys.as_ref().ok_or(MethodError::NoStateKey)?;
    let (asked, used) = round.inputs.take();
    let token = seal_state(keys, shared, round, used);
    let limit = shared.config.max_request_state_bytes;
    if token.len() > limit {
        // The retry could not carry it: fail now, saying why.
        return Err(MethodError::InvalidParams(format!(
            "the answers so far seal into a {}-byte requestState, over the \
             {limit}-byte limit: answer with less",
            token.len()
        )));
    }
    Ok(Payload::Value(json!({
        "resultType": "input_required",
        "inputRequests": asked,
        "requestState": token,
    })))
}

/// `answers` sealed into the `requestState` the next round of `round`
/// carries.
#[cfg(feature = "request-state")]
fn seal_state(
    keys: &RequestStateKeys,
    shared: &Shared,
    round: &Round,
    answers: Map<String, Value>,
) -> String {
    state::seal(
        keys,
        round.method,
        round.digest(),
        shared.config.request_state_ttl,
        answers,
    )
}

/// Without the `request-state` feature there are no keys (the type has no
/// values), so this is never called.
#[cfg(not(feature = "request-state"))]
fn seal_state(
    keys: &RequestStateKeys,
    _shared: &Shared,
    _round: &Round,
    _answers: Map<String, Value>,
) -> String {
    match *keys {}
}

/// What a finished stateless round answers: a malformed answer met on the
/// way is `-32602` whatever the handler returned.
pub(crate) fn after_round(round: &Round, outcome: Outcome) -> Outcome {
    match round.inputs.malformed() {
        Some(why) => Err(MethodError::InvalidParams(why)),
        None => outcome,
    }
}

/// Adds what every complete stateless result carries: `resultType`, and
/// for discover, lists and reads (`kind`, from [`Cacheable::of`] its
/// method) the caching hints.
pub(crate) fn complete(shared: &Shared, kind: Option<Cacheable>, outcome: Outcome) -> Outcome {
    let fields: std::borrow::Cow<'static, str> = match kind {
        None => r#""resultType":"complete""#.into(),
        Some(kind) => {
            let hint = shared.config.cache_hints[kind.index()];
            format!(
                r#""resultType":"complete","ttlMs":{},"cacheScope":"{}""#,
                hint.ttl_ms(),
                hint.scope.as_str()
            )
            .into()
        }
    };
    Ok(match outcome? {
        Payload::Value(Value::Object(mut map)) => {
            if !map.contains_key("resultType") {
                let extra: Map<String, Value> =
                    serde_json::from_str(&format!("{{{fields}}}")).unwrap_or_default();
                for (k, v) in extra {
                    map.entry(k).or_insert(v);
                }
            }
            Payload::Value(Value::Object(map))
        }
        Payload::Json(bytes) => Payload::Json(splice(bytes, &fields)),
        other => other,
    })
}

/// Inserts `fields` (`"k":v` pairs) at the front of the JSON object
/// `bytes`, in place (the encoder's spare capacity usually holds them).
fn splice(mut bytes: Vec<u8>, fields: &str) -> Vec<u8> {
    // Only typed results come here (tool, prompt, resource, completion
    // results), and none has a top-level `resultType` of its own: a
    // `resultType` inside its content is the handler's, not ours.
    if bytes.first() != Some(&b'{') {
        return bytes;
    }
    let empty = bytes[1..].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'}');
    let fields = fields.as_bytes();
    let gap = fields.len() + usize::from(!empty);
    let len = bytes.len();
    // Open a gap after the `{` (one move of the rest), then fill it.
    bytes.resize(len + gap, b',');
    bytes.copy_within(1..len, 1 + gap);
    bytes[1..=fields.len()].copy_from_slice(fields);
    if !empty {
        bytes[gap] = b',';
    }
    bytes
}

/// `server/discover`: the revisions, capabilities and identity of the
/// server, for clients that probe before they talk.
pub(crate) fn discover(shared: &Shared) -> Outcome {
    let mut versions: Vec<&str> = crate::stateless::stateless_versions()
        .map(ProtocolVersion::as_str)
        .collect();
    if shared.config.eras.sessions() {
        versions.extend(
            ProtocolVersion::ALL
                .into_iter()
                .filter(|v| !v.is_stateless())
                .map(ProtocolVersion::as_str),
        );
    }
    let mut result = json!({
        "supportedVersions": versions,
        "capabilities": super::lifecycle::capabilities_value(shared, true),
        "_meta": { SERVER_INFO_KEY: &shared.info },
    });
    if let Some(instructions) = &shared.instructions {
        result["instructions"] = json!(instructions);
    }
    Ok(Payload::Value(result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_asked_from_elsewhere_wakes_and_ends_the_round() {
        use std::sync::atomic::{AtomicUsize, Ordering};

        /// Counts its wakes.
        struct Count(AtomicUsize);
        impl futures::task::ArcWake for Count {
            fn wake_by_ref(me: &Arc<Self>) {
                me.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let inputs = Arc::new(Inputs::default());
        // The handler waits on something else: another task asks the question.
        let mut round = InRound::new(futures::future::pending::<()>(), Arc::clone(&inputs));
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = futures::task::waker(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut round).poll(&mut cx).is_pending());
        let asked = inputs.ask("k", "roots/list", json!({}));
        assert!(matches!(asked, crate::stateless::input::Asked::Pending));
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "the round was woken");
        assert!(matches!(
            Pin::new(&mut round).poll(&mut cx),
            Poll::Ready(RoundEnd::InputRequired)
        ));
    }

    #[test]
    fn results_are_spliced_with_their_fields() {
        assert_eq!(splice(b"{}".to_vec(), r#""a":1"#), br#"{"a":1}"#);
        assert_eq!(
            splice(br#"{"b":2}"#.to_vec(), r#""a":1"#),
            br#"{"a":1,"b":2}"#
        );
        // Content that mentions the key does not stop the splice.
        let text = br#"{"content":[{"text":"\"resultType\""}]}"#.to_vec();
        assert!(splice(text, r#""a":1"#).starts_with(br#"{"a":1,"content""#));
    }

    #[cfg(feature = "request-state")]
    #[test]
    fn a_round_reads_responses_and_refuses_bad_state() {
        let keys = RequestStateKeys::new([3u8; 32]).unwrap();
        let params =
            Params::from(json!({"name": "t", "inputResponses": {"k": {"action": "accept"}}}));
        let round = open_round(Some(&keys), "tools/call", Some(params), true, None).unwrap();
        assert!(matches!(
            round.inputs.ask("k", "elicitation/create", json!({})),
            crate::stateless::input::Asked::Answered(_)
        ));
        for bad in [
            json!({"name": "t", "inputResponses": [1]}),
            json!({"name": "t", "requestState": 5}),
            json!({"name": "t", "requestState": "v1.e30.AAAA"}),
        ] {
            let params = Params::from(bad.clone());
            assert!(
                open_round(Some(&keys), "tools/call", Some(params.clone()), true, None).is_err(),
                "{bad}"
            );
        }
        let null = Params::from(json!({"name": "t", "inputResponses": null}));
        assert!(open_round(Some(&keys), "tools/call", Some(null), true, None).is_ok());
    }

    #[cfg(feature = "request-state")]
    #[test]
    fn a_state_names_its_party() {
        let round = |who: Option<&Principal>| {
            open_round(
                None,
                "tools/call",
                Some(Params::from(json!({"a": 1}))),
                false,
                who,
            )
            .unwrap()
            .digest()
        };
        let alice = Principal::new("alice").with_issuer("as1");
        assert_ne!(round(None), round(Some(&alice)));
        assert_ne!(round(Some(&alice)), round(Some(&Principal::new("alice"))));
        // The length prefix keeps issuer and subject apart.
        let split = |i: &str, s: &str| round(Some(&Principal::new(s).with_issuer(i)));
        assert_ne!(split("a", "bc"), split("ab", "c"));
        assert_eq!(
            round(Some(&alice)),
            round(Some(&alice.clone().with_scopes(["x"])))
        );
    }
}
