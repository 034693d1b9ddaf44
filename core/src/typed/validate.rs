//! Arguments checked against a tool's `inputSchema` before its handler
//! runs (the `validate` feature, with the `jsonschema` crate): a schema
//! written by hand is then enforced too, not only listed.
//!
//! A validator is compiled at its tool's first call, not when the tool is
//! registered: compiling one loads the JSON Schema meta-schemas and checks
//! the schema against them, which for a server at rest was most of its
//! heap and a good part of its resident code (see the README's "What a
//! server costs").

use std::sync::OnceLock;

use serde_json::Value;

/// A tool's `inputSchema`, compiled at the first check.
pub(crate) struct ArgsValidator {
    /// The schema as registered.
    schema: Value,
    /// The compiled schema, once a call has needed it; `None` inside when
    /// it does not compile (it then checks nothing).
    compiled: OnceLock<Option<jsonschema::Validator>>,
}

impl ArgsValidator {
    /// Keeps `schema` (its `$schema`, or JSON Schema 2020-12) to compile at
    /// the first [`check`](Self::check).
    ///
    /// # Errors
    ///
    /// None: a schema that does not compile is found at the first check,
    /// and then checks nothing (as the tool lists it as written). The
    /// `Result` keeps the registration's call as it was.
    pub(crate) fn new(schema: &Value) -> Result<Self, String> {
        Ok(Self {
            schema: schema.clone(),
            compiled: OnceLock::new(),
        })
    }

    /// The compiled schema, compiling it on the first call.
    fn compiled(&self) -> Option<&jsonschema::Validator> {
        self.compiled
            .get_or_init(|| jsonschema::validator_for(&self.schema).ok())
            .as_ref()
    }

    /// Checks the arguments' JSON text, and hands back the value it read
    /// (the handler's arguments are read from it, not from the text
    /// again); on failure, says what is wrong and where (the first three
    /// problems). A schema that does not compile lets any JSON through.
    ///
    /// # Errors
    ///
    /// The problems found, for the client (and its model) to read.
    pub(crate) fn check(&self, text: &str) -> Result<Value, String> {
        let instance: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let Some(validator) = self.compiled() else {
            return Ok(instance);
        };
        // The common case, valid arguments, skips building the error list.
        if validator.is_valid(&instance) {
            return Ok(instance);
        }
        let problems: Vec<String> = validator
            .iter_errors(&instance)
            .take(3)
            .map(|e| {
                let path = e.instance_path().to_string();
                if path.is_empty() {
                    e.to_string()
                } else {
                    format!("{path}: {e}")
                }
            })
            .collect();
        if problems.is_empty() {
            Ok(instance)
        } else {
            Err(problems.join("; "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn problems_name_their_place() {
        let v = ArgsValidator::new(&json!({
            "type": "object",
            "properties": {"n": {"type": "integer", "minimum": 1}},
            "required": ["n"]
        }))
        .unwrap();
        assert!(v.check(r#"{"n": 2}"#).is_ok());
        let err = v.check(r#"{"n": 0}"#).unwrap_err();
        assert!(err.starts_with("/n: "), "{err}");
        let err = v.check("{}").unwrap_err();
        assert!(err.contains("\"n\" is a required property"), "{err}");
        // A schema that does not compile checks nothing (found at the first check).
        let broken = ArgsValidator::new(&json!({"type": 5})).unwrap();
        assert!(
            broken.compiled.get().is_none(),
            "not compiled before a call"
        );
        assert_eq!(broken.check(r#"{"n": 0}"#).unwrap(), json!({"n": 0}));
        assert!(
            broken.compiled.get().is_some(),
            "compiled at the first call"
        );
    }
}
