//! `requestState` without the `request-state` feature: no HMAC, so no
//! keyring can exist and no state is ever sealed. A round that asks the
//! client for input fails (`-32603`, no key to seal with) and a retry's
//! `requestState` is refused as invalid (`-32602`); everything else in the
//! stateless revision works as with the feature.

/// The keyring type when there is none: it has no values, so code that
/// would seal or open a state with one is proved unreachable by the
/// compiler (an empty `match`), not by a panic.
#[derive(Clone, Debug)]
pub(crate) enum RequestStateKeys {}

impl RequestStateKeys {
    /// Always `None`: without the feature there is nothing to seal with.
    pub(crate) fn random() -> Option<Self> {
        None
    }
}
