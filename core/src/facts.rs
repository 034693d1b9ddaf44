//! What a client said about itself: the protocol revision it speaks, the
//! capabilities it declared, and the lowest log level it wants to see.
//!
//! In the session era these facts come from `initialize` (and
//! `logging/setLevel`) and are kept by the session. A stateless revision
//! carries them in every request's `_meta` instead; either way a handler
//! reads them through its [`RequestContext`](crate::RequestContext), so the
//! same handler serves both.

use std::sync::Arc;

use crate::principal::Principal;
use crate::protocol::{LogLevel, ProtocolVersion};

/// The client capabilities that server→client requests depend on: whether
/// each is declared (with any value).
///
/// Read from `initialize`'s `capabilities`. Only presence counts: the
/// sub-fields (`roots.listChanged`, …) are not looked at, and other
/// capabilities (`experimental`) are ignored. Missing means not declared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
pub(crate) struct ClientCapabilities {
    /// `sampling` is present.
    #[serde(default, deserialize_with = "declared")]
    sampling: bool,
    /// `elicitation` is present.
    #[serde(default, deserialize_with = "declared")]
    elicitation: bool,
    /// `roots` is present.
    #[serde(default, deserialize_with = "declared")]
    roots: bool,
    /// `extensions` names `io.modelcontextprotocol/tasks`.
    #[serde(default, rename = "extensions", deserialize_with = "names_tasks")]
    tasks: bool,
}

impl ClientCapabilities {
    /// The capabilities declared, by name (`sampling`, `elicitation`,
    /// `roots`, `tasks`): how a session store keeps them.
    pub(crate) fn names(self) -> Vec<String> {
        [
            (self.sampling, "sampling"),
            (self.elicitation, "elicitation"),
            (self.roots, "roots"),
            (self.tasks, "tasks"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| name.to_owned())
        .collect()
    }

    /// The capabilities `names` declares ([`names`](Self::names)' form);
    /// unknown names are ignored.
    pub(crate) fn from_names(names: &[String]) -> Self {
        let has = |name: &str| names.iter().any(|n| n == name);
        Self {
            sampling: has("sampling"),
            elicitation: has("elicitation"),
            roots: has("roots"),
            tasks: has("tasks"),
        }
    }
}

/// `true` for an `extensions` object that names the tasks extension
/// (with any value); any other shape declares nothing.
fn names_tasks<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let value = <serde_json::Value as serde::Deserialize>::deserialize(d)?;
    Ok(value.get(crate::tasks::EXTENSION).is_some())
}

/// `true` for a key that is present, whatever its value (`null` too):
/// serde calls it only for keys that are there, and `default` gives
/// `false` for the others.
fn declared<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    <serde::de::IgnoredAny as serde::Deserialize>::deserialize(d).map(|_| true)
}

/// A client capability a server→client request can depend on; see
/// [`RequestContext::client_declares`](crate::RequestContext::client_declares).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Capability {
    /// `sampling`: the client can run `sampling/createMessage`.
    Sampling,
    /// `elicitation`: the client can run `elicitation/create`.
    Elicitation,
    /// `roots`: the client answers `roots/list`.
    Roots,
}

impl Capability {
    /// The capability a server→client method needs, if any. `None` for
    /// methods that need none (`ping`) and for methods this server does not
    /// know: those are sent unchecked.
    pub(crate) fn needed_by(method: &str) -> Option<Self> {
        match method {
            "sampling/createMessage" => Some(Self::Sampling),
            "elicitation/create" => Some(Self::Elicitation),
            "roots/list" => Some(Self::Roots),
            _ => None,
        }
    }

    /// The capability's name in `capabilities`, as
    /// [`RequestError::CapabilityMissing`](crate::RequestError::CapabilityMissing)
    /// reports it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Sampling => "sampling",
            Self::Elicitation => "elicitation",
            Self::Roots => "roots",
        }
    }
}

/// The facts about a client that a request is served under.
///
/// Small and cheap to clone: each request's context takes its own copy, so
/// reading them takes no lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClientFacts {
    /// The protocol revision in force.
    pub(crate) version: ProtocolVersion,
    /// What the client declared.
    pub(crate) capabilities: ClientCapabilities,
    /// The lowest level of log messages the client wants, when the request
    /// itself says (a session keeps its own, changed by `logging/setLevel`).
    /// Always `None` in the session-based revisions served today: only a
    /// stateless revision would carry a level per request.
    pub(crate) log_level: Option<LogLevel>,
    /// Whose bearer token authorized the request, when the endpoint needs
    /// one. A session keeps the principal that opened it (to bind the
    /// session to its subject); each request is served under its own.
    pub(crate) principal: Option<Arc<Principal>>,
}

impl ClientFacts {
    /// Facts of a client at `version` with `capabilities` and no log level
    /// (the session's own filter then decides).
    pub(crate) fn new(version: ProtocolVersion, capabilities: ClientCapabilities) -> Self {
        Self {
            version,
            capabilities,
            log_level: None,
            principal: None,
        }
    }

    /// These facts under `principal`.
    pub(crate) fn with_principal(mut self, principal: Option<Arc<Principal>>) -> Self {
        self.principal = principal;
        self
    }

    /// Whether the request declared the tasks extension: only a stateless
    /// request's own `_meta` can (the extension is not defined in the
    /// session era, whose clients count as not declaring it).
    pub(crate) fn declares_tasks(&self) -> bool {
        self.version.is_stateless() && self.capabilities.tasks
    }

    /// Whether the client declared `capability`.
    pub(crate) fn has(&self, capability: Capability) -> bool {
        let caps = &self.capabilities;
        match capability {
            Capability::Sampling => caps.sampling,
            Capability::Elicitation => caps.elicitation,
            Capability::Roots => caps.roots,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_capabilities_count_whatever_their_value() {
        let caps: ClientCapabilities =
            serde_json::from_str(r#"{"sampling": {}, "roots": null, "experimental": {"x": 1}}"#)
                .unwrap();
        let facts = ClientFacts::new(ProtocolVersion::LATEST, caps);
        assert!(facts.has(Capability::Sampling) && facts.has(Capability::Roots));
        assert!(!facts.has(Capability::Elicitation));
    }

    #[test]
    fn only_a_stateless_request_naming_the_extension_declares_tasks() {
        let read = |caps: &str| serde_json::from_str::<ClientCapabilities>(caps).unwrap();
        let named = read(r#"{"extensions": {"io.modelcontextprotocol/tasks": {}}}"#);
        let stateless = crate::stateless::stateless_versions().next().unwrap();
        assert!(ClientFacts::new(stateless, named).declares_tasks());
        // The session era has no such extension, whatever its client says.
        assert!(!ClientFacts::new(ProtocolVersion::LATEST, named).declares_tasks());
        for other in [
            r#"{"extensions": {"other/ext": {}}}"#,
            r#"{"extensions": 5}"#,
            "{}",
        ] {
            assert!(
                !ClientFacts::new(stateless, read(other)).declares_tasks(),
                "{other}"
            );
        }
    }

    #[test]
    fn methods_name_the_capability_they_need() {
        assert_eq!(
            Capability::needed_by("elicitation/create"),
            Some(Capability::Elicitation)
        );
        assert_eq!(Capability::needed_by("ping"), None);
        assert_eq!(Capability::Sampling.name(), "sampling");
    }
}
