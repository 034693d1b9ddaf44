//! A request's `method` and `outcome` labels, and the metric keys they
//! name, made once: building a `metrics::Key` per request (its labels in a
//! fresh `Vec`) cost more than the rest of the bookkeeping.

/// The methods the server knows, by index; the last, `"other"`, stands
/// for every other name, so that a client cannot mint label values (or
/// put text of its choosing into a log line).
const METHODS: [&str; 19] = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "server/discover",
    "subscriptions/listen",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "other",
];

/// A request's `method` label: one of [`METHODS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Method(u8);

impl Method {
    /// The label of `method`: its name when the server knows it, else
    /// `"other"`.
    pub(super) fn of(method: &str) -> Self {
        let index = METHODS[..METHODS.len() - 1]
            .iter()
            .position(|known| *known == method)
            .unwrap_or(METHODS.len() - 1);
        Self(index as u8)
    }

    /// The label's value (spans name the method by it).
    #[cfg_attr(
        not(any(feature = "tracing", test)),
        expect(dead_code, reason = "only spans name the method by its text")
    )]
    pub(super) fn as_str(self) -> &'static str {
        METHODS[usize::from(self.0)]
    }
}

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// A result.
    Ok,
    /// A `tools/call` result with `isError`.
    ToolError,
    /// A JSON-RPC error response.
    Error,
    /// No response.
    Cancelled,
}

impl Outcome {
    /// The label's value.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::ToolError => "tool_error",
            Self::Error => "error",
            Self::Cancelled => "cancelled",
        }
    }
}

#[cfg(feature = "metrics")]
pub(super) use keys::{count, time};

/// The keys themselves, behind the `metrics` feature.
#[cfg(feature = "metrics")]
mod keys {
    use std::sync::LazyLock;

    use metrics::{Key, Label, Level, Metadata};

    use super::{METHODS, Method, Outcome};
    use crate::observe::{HANDLER_SECONDS, REQUESTS_TOTAL};

    /// The outcomes, in the order of their keys.
    const OUTCOMES: [Outcome; 4] = [
        Outcome::Ok,
        Outcome::ToolError,
        Outcome::Error,
        Outcome::Cancelled,
    ];

    /// The module the `counter!` and `histogram!` macros named when they
    /// registered these metrics: what a recorder was told then.
    const TARGET: &str = "switchboard_core::observe";

    /// What the recorder is told about each registration (as the macros
    /// would: this target, INFO).
    static METADATA: Metadata<'static> = Metadata::new(TARGET, Level::INFO, Some(TARGET));

    /// Every key a request's end names: by method and outcome for the
    /// counter, by method for the histogram.
    struct Keys {
        /// `switchboard_requests_total`, at `method * 4 + outcome`.
        requests: Vec<Key>,
        /// `switchboard_handler_duration_seconds`, at `method`.
        seconds: Vec<Key>,
    }

    /// Made at the first request's end. A key does not tie a metric to a
    /// recorder: each use still goes to the one installed then.
    static KEYS: LazyLock<Keys> = LazyLock::new(|| Keys {
        requests: METHODS
            .iter()
            .flat_map(|method| {
                OUTCOMES.iter().map(move |outcome| {
                    let labels = vec![
                        Label::from_static_parts("method", method),
                        Label::from_static_parts("outcome", outcome.as_str()),
                    ];
                    Key::from_parts(REQUESTS_TOTAL, labels)
                })
            })
            .collect(),
        seconds: METHODS
            .iter()
            .map(|method| {
                Key::from_parts(
                    HANDLER_SECONDS,
                    vec![Label::from_static_parts("method", method)],
                )
            })
            .collect(),
    });

    /// Counts one request of `method` that ended with `outcome`.
    pub(in crate::observe) fn count(method: Method, outcome: Outcome) {
        let index = usize::from(method.0) * OUTCOMES.len() + outcome as usize;
        let key = &KEYS.requests[index];
        metrics::with_recorder(|r| r.register_counter(key, &METADATA)).increment(1);
    }

    /// Records a handler of `method` that ran for `seconds`.
    pub(in crate::observe) fn time(method: Method, seconds: f64) {
        let key = &KEYS.seconds[usize::from(method.0)];
        metrics::with_recorder(|r| r.register_histogram(key, &METADATA)).record(seconds);
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn each_key_carries_its_labels() {
            let method = Method::of("tools/call");
            let key = &KEYS.requests[usize::from(method.0) * 4 + Outcome::ToolError as usize];
            let labels: Vec<_> = key.labels().map(|l| (l.key(), l.value())).collect();
            assert_eq!(key.name(), REQUESTS_TOTAL);
            assert_eq!(
                labels,
                [("method", "tools/call"), ("outcome", "tool_error")]
            );
            let key = &KEYS.seconds[usize::from(Method::of("made/up").0)];
            assert_eq!(key.labels().next().unwrap().value(), "other");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_are_other() {
        assert_eq!(Method::of("tools/call").as_str(), "tools/call");
        assert_eq!(Method::of("made/up").as_str(), "other");
        assert_eq!(Method::of("other").as_str(), "other");
        assert_eq!(Method::of("").as_str(), "other");
        for known in &METHODS[..METHODS.len() - 1] {
            assert_eq!(Method::of(known).as_str(), *known);
        }
    }
}
