//! Arguments checked against a tool's `inputSchema` before its handler
//! runs (the `validate` feature, with the `jsonschema` crate): a schema
//! written by hand is then enforced too, not only listed.
//!
//! A validator is compiled at its tool's first call, not when the tool is
//! registered: compiling one loads the JSON Schema meta-schemas and checks
//! the schema against them, which for a server at rest was most of its
//! heap and a good part of its resident code (see the README's "What a
//! server costs").
//!
//! A schema derived from the arguments' own type (`Args<T>`) that says
//! nothing serde's reading of `T` does not enforce itself (see
//! [`serde_enforces`]) is not run on arguments serde reads: serde refuses
//! all it would refuse. Arguments serde refuses still go through the
//! schema, so their error names what is wrong as before.

use std::sync::OnceLock;

use serde_json::Value;

use super::ToolArgs;

/// A tool's `inputSchema`, compiled at the first check.
pub(crate) struct ArgsValidator {
    /// The schema as registered.
    schema: Value,
    /// The compiled schema, once a call has needed it; `None` inside when
    /// it does not compile (it then checks nothing).
    compiled: OnceLock<Option<jsonschema::Validator>>,
    /// Whether serde reading the arguments' type refuses whatever the
    /// schema refuses, so that arguments serde reads need no check.
    serde_first: bool,
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
    ///
    /// `derived`: the schema was generated from the type the arguments
    /// are read into (not written by hand).
    pub(crate) fn new(schema: &Value, derived: bool) -> Result<Self, String> {
        Ok(Self {
            schema: schema.clone(),
            compiled: OnceLock::new(),
            serde_first: derived && serde_enforces(schema),
        })
    }

    /// Reads the arguments' JSON text into `A`, checked against the
    /// schema: by serde alone when that suffices (see the module doc),
    /// else checked first and read from the value the check parsed.
    ///
    /// # Errors
    ///
    /// The schema's problems, or serde's when the schema finds none.
    pub(crate) fn read<A: ToolArgs>(&self, text: &str) -> Result<A, String> {
        // A derived struct also reads from an array; the schema does not.
        if self.serde_first && text.trim_start().starts_with('{') {
            if let Ok(args) = A::from_json(text) {
                return Ok(args);
            }
        }
        A::from_value(self.check(text)?)
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

/// Whether a schema generated from a type holds only what serde's derived
/// reading of that type enforces by itself: an object of `properties`,
/// each a primitive type (or an array of them, or `null` beside one),
/// with `required` naming properties that cannot be `null`, and no other
/// keyword than descriptions, defaults and the bounds of an integer
/// format. Anything else (lengths, patterns, ranges, enums, nested
/// objects, `additionalProperties`) makes it `false`, and the schema is
/// always checked.
pub(crate) fn serde_enforces(schema: &Value) -> bool {
    let Some(root) = schema.as_object() else {
        return false;
    };
    let properties = match root.get("properties") {
        None => &serde_json::Map::new(),
        Some(p) => match p.as_object() {
            Some(p) => p,
            None => return false,
        },
    };
    let required_ok = match root.get("required") {
        None => true,
        // A required property that may be null: serde reads it as absent.
        Some(Value::Array(names)) => names.iter().all(|n| {
            n.as_str()
                .and_then(|n| properties.get(n))
                .is_some_and(|p| !types_of(p).contains(&"null"))
        }),
        Some(_) => false,
    };
    root.get("type").and_then(Value::as_str) == Some("object")
        && required_ok
        && root.keys().all(|k| {
            matches!(
                k.as_str(),
                "type" | "properties" | "required" | "title" | "description" | "$schema"
            )
        })
        && properties.values().all(primitive)
}

/// A property's `type` as a list of names (empty when absent or odd).
fn types_of(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A property schema serde's reading enforces: a primitive type (with
/// `null` allowed beside it), or an array of such.
fn primitive(schema: &Value) -> bool {
    let Some(map) = schema.as_object() else {
        return false;
    };
    let types = types_of(schema);
    let known = |t: &&str| {
        matches!(
            *t,
            "string" | "integer" | "number" | "boolean" | "null" | "array"
        )
    };
    let one = types.iter().filter(|t| **t != "null").count() == 1;
    if !(one && types.iter().all(known)) {
        return false;
    }
    let format = map.get("format").and_then(Value::as_str);
    let bounds = format.and_then(integer_bounds);
    map.iter().all(|(k, v)| match k.as_str() {
        "type" | "title" | "description" | "default" | "examples" => true,
        // The formats schemars gives integers and floats; a checker
        // ignores them as unknown.
        "format" => bounds.is_some() || matches!(format, Some("float" | "double")),
        // An integer format's own bounds, which serde's integer enforces.
        "minimum" => bounds.is_some_and(|(lo, _)| v.as_f64() == Some(lo)),
        "maximum" => bounds.is_some_and(|(_, hi)| v.as_f64() == Some(hi)),
        "items" => types.contains(&"array") && primitive(v),
        _ => false,
    })
}

/// The range of an integer format as schemars names them.
#[allow(clippy::cast_precision_loss)] // the bounds are compared as JSON reads them
fn integer_bounds(format: &str) -> Option<(f64, f64)> {
    Some(match format {
        "uint8" => (0.0, f64::from(u8::MAX)),
        "uint16" => (0.0, f64::from(u16::MAX)),
        "uint32" => (0.0, f64::from(u32::MAX)),
        "uint64" => (0.0, u64::MAX as f64),
        "uint" => (0.0, usize::MAX as f64),
        "int8" => (f64::from(i8::MIN), f64::from(i8::MAX)),
        "int16" => (f64::from(i16::MIN), f64::from(i16::MAX)),
        "int32" => (f64::from(i32::MIN), f64::from(i32::MAX)),
        "int64" => (i64::MIN as f64, i64::MAX as f64),
        "int" => (isize::MIN as f64, isize::MAX as f64),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn problems_name_their_place() {
        let v = ArgsValidator::new(
            &json!({
                "type": "object",
                "properties": {"n": {"type": "integer", "minimum": 1}},
                "required": ["n"]
            }),
            true,
        )
        .unwrap();
        assert!(v.check(r#"{"n": 2}"#).is_ok());
        let err = v.check(r#"{"n": 0}"#).unwrap_err();
        assert!(err.starts_with("/n: "), "{err}");
        let err = v.check("{}").unwrap_err();
        assert!(err.contains("\"n\" is a required property"), "{err}");
        // A schema that does not compile checks nothing (found at the first check).
        let broken = ArgsValidator::new(&json!({"type": 5}), false).unwrap();
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

    #[test]
    fn serde_enforces_only_structural_schemas() {
        let ok = json!({
            "type": "object",
            "properties": {
                "text": {"type": "string", "description": "d"},
                "n": {"type": "integer", "format": "uint32", "minimum": 0},
                "b": {"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255},
                "x": {"type": "number", "format": "double"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "maybe": {"type": ["string", "null"]}
            },
            "required": ["text", "n"]
        });
        assert!(serde_enforces(&ok));
        let refused = [
            // A bound serde does not enforce.
            json!({"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}),
            json!({"type": "object", "properties": {"n": {"type": "integer", "format": "uint8", "maximum": 9}}}),
            json!({"type": "object", "properties": {"s": {"type": "string", "minLength": 1}}}),
            json!({"type": "object", "properties": {"s": {"type": "string", "enum": ["a"]}}}),
            json!({"type": "object", "properties": {"s": {"type": "string", "format": "email"}}}),
            // A nested object reads from an array too.
            json!({"type": "object", "properties": {"o": {"type": "object"}}}),
            json!({"type": "object", "additionalProperties": false}),
            // Required but nullable: serde reads null as absent.
            json!({"type": "object", "properties": {"m": {"type": ["string", "null"]}}, "required": ["m"]}),
            json!({"type": "object", "required": ["ghost"]}),
            json!({"type": "array"}),
        ];
        for schema in refused {
            assert!(!serde_enforces(&schema), "{schema}");
        }
    }

    #[test]
    fn serde_first_reads_and_still_names_problems() {
        #[derive(serde::Deserialize, Debug)]
        struct Echo {
            #[allow(dead_code)]
            text: String,
        }
        let schema = json!({
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"]
        });
        let v = ArgsValidator::new(&schema, true).unwrap();
        assert!(v.serde_first);
        assert!(v.read::<Echo>(r#"{"text": "hi"}"#).is_ok());
        assert!(
            v.compiled.get().is_none(),
            "serde read it: nothing compiled"
        );
        // What serde refuses gets the schema's message, as before.
        let err = v.read::<Echo>("{}").unwrap_err();
        assert!(err.contains("\"text\" is a required property"), "{err}");
        let err = v.read::<Echo>(r#"{"text": 5}"#).unwrap_err();
        assert!(err.starts_with("/text: "), "{err}");
        // A struct serde would read from an array is refused by the schema.
        let err = v.read::<Echo>(r#"["hi"]"#).unwrap_err();
        assert!(err.contains("not of type"), "{err}");
        // A hand-written schema is always checked.
        let by_hand = ArgsValidator::new(&schema, false).unwrap();
        assert!(!by_hand.serde_first);
        assert!(by_hand.read::<Echo>(r#"{"text": "hi"}"#).is_ok());
        assert!(by_hand.compiled.get().is_some());
    }
}
