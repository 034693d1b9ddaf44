//! Multi round-trip requests: the inputs a stateless request's handler asks
//! the client for, and the answers it already has.
//!
//! A stateless revision has no server→client requests. A handler that asks
//! for elicitation, sampling or roots instead ends its round: the request
//! is answered `input_required` with what it asked (`inputRequests`, by
//! key) and a sealed `requestState`; the client retries with the answers
//! (`inputResponses`) and the state echoed, and the handler runs again from
//! the start. This time each question it asks again is answered at once,
//! from this round's responses or the earlier ones the state carries, so a
//! handler written for sessions (`ctx.elicit(..).await?`) works unchanged
//! as long as it asks the same questions in the same order.
//!
//! A round ends when the handler is waiting (its future pending) with at
//! least one question unanswered: questions asked together (with
//! `futures::join!`, say) go out together.

use std::sync::Mutex;
use std::task::Waker;

use serde_json::{Map, Value, json};

/// The inputs of one round of a stateless request.
#[derive(Debug, Default)]
pub(crate) struct Inputs {
    /// Every answer the round has: the state's, then this round's responses.
    answers: Map<String, Value>,
    /// What the handler did this round.
    round: Mutex<Round>,
}

/// What a handler asked and used while it ran.
#[derive(Debug, Default)]
struct Round {
    /// Answers the handler used, carried into the next round's state.
    used: Map<String, Value>,
    /// Questions without an answer: key, then `{method, params}`.
    asked: Vec<(String, Value)>,
    /// Keys handed out automatically, counted over every method.
    auto: usize,
    /// The round's task, woken when a question is recorded (it may be
    /// asked from another task).
    waker: Option<Waker>,
    /// The first malformed answer the handler met: the request is then
    /// answered `-32602`, whatever the handler made of it.
    malformed: Option<String>,
}

/// What asking for one input came to.
#[derive(Debug)]
pub(crate) enum Asked {
    /// The client already answered it.
    Answered(Value),
    /// No answer yet: the round ends, with this among its questions.
    Pending,
    /// The client's answer does not fit the method's result.
    Malformed,
}

impl Inputs {
    /// The inputs of a round whose earlier answers are `carried` (from the
    /// state) and whose responses are `responses`; a response overrides a
    /// carried answer of the same key.
    pub(crate) fn new(mut carried: Map<String, Value>, responses: Map<String, Value>) -> Self {
        carried.extend(responses);
        Self {
            answers: carried,
            round: Mutex::default(),
        }
    }

    /// Locks the round's record; a poisoned lock is taken anyway (each
    /// update is one push or insert).
    fn round(&self) -> std::sync::MutexGuard<'_, Round> {
        self.round.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A key for a question the handler did not name: the method's short
    /// name and a count (`elicitation-1`), stable when the handler asks the
    /// same questions in the same order.
    pub(crate) fn auto_key(&self, method: &str) -> String {
        let mut round = self.round();
        round.auto += 1;
        let short = method.split('/').next().unwrap_or(method);
        format!("{short}-{}", round.auto)
    }

    /// Asks for input `key` with `method` and `params`: its answer if the
    /// client gave one, else the question is recorded for the round's end.
    pub(crate) fn ask(&self, key: &str, method: &str, params: Value) -> Asked {
        let mut round = self.round();
        if let Some(answer) = self.answers.get(key) {
            if !fits(method, answer) {
                round.malformed.get_or_insert_with(|| {
                    format!("malformed input response {key:?} for {method}")
                });
                return Asked::Malformed;
            }
            round.used.insert(key.to_owned(), answer.clone());
            return Asked::Answered(answer.clone());
        }
        if !round.asked.iter().any(|(k, _)| k == key) {
            let request = json!({ "method": method, "params": params });
            round.asked.push((key.to_owned(), request));
        }
        if let Some(waker) = round.waker.take() {
            waker.wake();
        }
        Asked::Pending
    }

    /// Keeps `waker` to wake when a question is asked.
    pub(crate) fn wake_with(&self, waker: &Waker) {
        let mut round = self.round();
        match &round.waker {
            Some(kept) if kept.will_wake(waker) => {}
            _ => round.waker = Some(waker.clone()),
        }
    }

    /// Whether the handler asked something not yet answered.
    pub(crate) fn has_questions(&self) -> bool {
        !self.round().asked.is_empty()
    }

    /// The first malformed answer met, if any.
    pub(crate) fn malformed(&self) -> Option<String> {
        self.round().malformed.clone()
    }

    /// Takes the round's questions (as the `inputRequests` object) and the
    /// answers to carry into the next round's state.
    pub(crate) fn take(&self) -> (Map<String, Value>, Map<String, Value>) {
        let mut round = self.round();
        let asked = std::mem::take(&mut round.asked).into_iter().collect();
        (asked, std::mem::take(&mut round.used))
    }
}

/// Whether `answer` has the shape of `method`'s result (the parts a
/// handler relies on): a decision for elicitation, a message for sampling,
/// a list for roots, an object for anything else.
fn fits(method: &str, answer: &Value) -> bool {
    let Some(object) = answer.as_object() else {
        return false;
    };
    match method {
        "elicitation/create" => matches!(
            object.get("action").and_then(Value::as_str),
            Some("accept" | "decline" | "cancel")
        ),
        "sampling/createMessage" => object.contains_key("role") && object.contains_key("content"),
        "roots/list" => object.get("roots").is_some_and(Value::is_array),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn answers_come_from_the_state_or_the_round_and_questions_wait() {
        let inputs = Inputs::new(
            map(json!({"step1": {"action": "accept", "content": {"name": "A"}}})),
            map(json!({"step2": {"action": "accept"}, "extra": 1})),
        );
        assert!(matches!(
            inputs.ask("step1", "elicitation/create", json!({})),
            Asked::Answered(_)
        ));
        assert!(matches!(
            inputs.ask("step2", "elicitation/create", json!({})),
            Asked::Answered(_)
        ));
        assert!(matches!(
            inputs.ask("step3", "roots/list", json!({})),
            Asked::Pending
        ));
        // Asked twice, listed once.
        assert!(matches!(
            inputs.ask("step3", "roots/list", json!({})),
            Asked::Pending
        ));
        assert!(inputs.has_questions());
        let (asked, used) = inputs.take();
        assert_eq!(
            asked["step3"],
            json!({"method": "roots/list", "params": {}})
        );
        assert_eq!(asked.len(), 1);
        assert_eq!(
            used.keys().collect::<Vec<_>>(),
            ["step1", "step2"],
            "extra is ignored"
        );
    }

    #[test]
    fn an_answer_of_the_wrong_shape_is_malformed() {
        let inputs = Inputs::new(
            Map::new(),
            map(json!({"user_name": 12345, "r": {"roots": 1}})),
        );
        assert!(matches!(
            inputs.ask("user_name", "elicitation/create", json!({})),
            Asked::Malformed
        ));
        assert!(matches!(
            inputs.ask("r", "roots/list", json!({})),
            Asked::Malformed
        ));
        assert!(inputs.malformed().unwrap().contains("user_name"));
        assert_eq!(inputs.auto_key("sampling/createMessage"), "sampling-1");
        assert_eq!(inputs.auto_key("roots/list"), "roots-2");
    }
}
