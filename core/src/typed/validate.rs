//! Arguments checked against a tool's `inputSchema` before its handler
//! runs (the `validate` feature, with the `jsonschema` crate): a schema
//! written by hand is then enforced too, not only listed.

use serde_json::Value;

/// A tool's compiled `inputSchema`.
pub(crate) struct ArgsValidator(jsonschema::Validator);

impl ArgsValidator {
    /// Compiles `schema` (its `$schema`, or JSON Schema 2020-12).
    ///
    /// # Errors
    ///
    /// Why the schema is not a valid JSON Schema.
    pub(crate) fn new(schema: &Value) -> Result<Self, String> {
        jsonschema::validator_for(schema)
            .map(Self)
            .map_err(|e| e.to_string())
    }

    /// Checks the arguments' JSON text, and hands back the value it read
    /// (the handler's arguments are read from it, not from the text
    /// again); on failure, says what is wrong and where (the first three
    /// problems).
    ///
    /// # Errors
    ///
    /// The problems found, for the client (and its model) to read.
    pub(crate) fn check(&self, text: &str) -> Result<Value, String> {
        let instance: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        // The common case, valid arguments, skips building the error list.
        if self.0.is_valid(&instance) {
            return Ok(instance);
        }
        let problems: Vec<String> = self
            .0
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
        assert!(ArgsValidator::new(&json!({"type": 5})).is_err());
    }
}
