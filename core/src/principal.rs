//! Who a request comes from, when the endpoint checks tokens: the
//! [`Principal`] a verifier returns.
//!
//! It lives below both the engine (which binds sessions and request state to
//! it and shows it to handlers) and the HTTP layer (whose auth hook makes
//! it), so neither imports the other for it.

/// Who a verified token stands for: a subject and the scopes it was
/// granted, plus whatever else the verifier wants handlers to see.
///
/// # Examples
///
/// ```
/// use switchboard_core::http::Principal;
///
/// let alice = Principal::new("alice").with_scopes(["notes:read", "notes:write"]);
/// assert_eq!(alice.subject(), "alice");
/// assert!(alice.has_scope("notes:write"));
/// assert!(!alice.has_scope("admin"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The subject (a JWT's `sub`): with the issuer, what a session is
    /// bound to.
    subject: String,
    /// Who issued the token (a JWT's `iss`), when the verifier says: a
    /// subject is unique only within its issuer.
    issuer: Option<String>,
    /// The granted scopes.
    scopes: Vec<String>,
    /// Other claims, for handlers (a JWT's whole payload, say).
    claims: serde_json::Value,
}

impl Principal {
    /// A principal for `subject` with no scopes and no claims.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            issuer: None,
            scopes: Vec::new(),
            claims: serde_json::Value::Null,
        }
    }

    /// Sets the granted scopes.
    #[must_use]
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the issuer. With several authorization servers, set it: a
    /// session is bound to the issuer and the subject together, so two
    /// servers' users that share a `sub` never share a session.
    #[must_use]
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The issuer, when the verifier set one.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// Whether `self` and `other` are the same party: the same issuer and
    /// subject (scopes and claims may differ, as after a step-up).
    pub fn same_party(&self, other: &Self) -> bool {
        self.issuer == other.issuer && self.subject == other.subject
    }

    /// Sets the claims handlers may read.
    #[must_use]
    pub fn with_claims(mut self, claims: serde_json::Value) -> Self {
        self.claims = claims;
        self
    }

    /// The subject.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The granted scopes.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Whether `scope` was granted.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// The claims (`null` when the verifier set none).
    pub fn claims(&self) -> &serde_json::Value {
        &self.claims
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parties_are_issuer_and_subject() {
        let a = Principal::new("1").with_issuer("https://as1");
        assert!(a.same_party(&a.clone().with_scopes(["more"])));
        assert!(!a.same_party(&Principal::new("1").with_issuer("https://as2")));
        assert!(!a.same_party(&Principal::new("1")));
    }
}
