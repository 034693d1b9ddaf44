//! Schemas generated from types (`schemars`, JSON Schema 2020-12, the MCP
//! default dialect): subschemas inlined (clients and models read them
//! more easily than `$ref`s), `$schema` and the type's name left out.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use crate::protocol::PromptArgument;

/// The JSON Schema of `T` as the server lists it.
///
/// # Examples
///
/// ```
/// use serde_json::json;
///
/// #[derive(schemars::JsonSchema)]
/// struct Search {
///     /// Words to look for.
///     query: String,
///     limit: Option<u32>,
/// }
///
/// assert_eq!(switchboard_core::schema_for::<Search>(), json!({
///     "type": "object",
///     "properties": {
///         "query": {"type": "string", "description": "Words to look for."},
///         "limit": {"type": ["integer", "null"], "format": "uint32", "minimum": 0}
///     },
///     "required": ["query"]
/// }));
/// ```
pub fn schema_for<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut value = Value::from(generator.into_root_schema_for::<T>());
    if let Some(map) = value.as_object_mut() {
        map.remove("$schema");
        map.remove("title");
    }
    value
}

/// Whether a schema describes only JSON objects: `"type": "object"`, or a
/// `oneOf`/`anyOf` whose every branch does.
pub(crate) fn is_object(schema: &Value) -> bool {
    if schema.get("type").and_then(Value::as_str) == Some("object") {
        return true;
    }
    ["oneOf", "anyOf"].iter().any(|k| {
        schema
            .get(*k)
            .and_then(Value::as_array)
            .is_some_and(|branches| !branches.is_empty() && branches.iter().all(is_object))
    })
}

/// A tool's `inputSchema` from `T`: arguments are always an object, so a
/// type that takes anything (`serde_json::Value`) lists `{"type": "object"}`.
pub(crate) fn object_schema<T: JsonSchema>() -> Value {
    let schema = schema_for::<T>();
    if is_object(&schema) {
        schema
    } else {
        json!({ "type": "object" })
    }
}

/// A tool's `outputSchema` from `T`: `structuredContent` is an object, so
/// any other type is described as `{"result": T}`, as it is sent.
pub(crate) fn output_schema<T: JsonSchema>() -> Value {
    let schema = schema_for::<T>();
    if is_object(&schema) {
        return schema;
    }
    json!({
        "type": "object",
        "properties": { "result": schema },
        "required": ["result"]
    })
}

/// A prompt's arguments from `T`'s properties, in name order (JSON maps
/// here keep no declaration order): the
/// name, the doc comment as the description, and `required` from the
/// schema.
pub(crate) fn prompt_arguments<T: JsonSchema>() -> Vec<PromptArgument> {
    let schema = schema_for::<T>();
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    properties
        .iter()
        .map(|(name, property)| PromptArgument {
            name: name.clone(),
            description: property
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            required: required.contains(&name.as_str()),
        })
        .collect()
}

/// The `requestedSchema` of a typed elicitation: a flat object whose
/// properties are strings, numbers, integers, booleans, or enums of
/// strings (single, or an array for multi-select), as elicitation allows.
/// An optional field (`["string", "null"]`) is listed as its type and is
/// simply not required.
///
/// # Errors
///
/// Which property is not allowed, and why.
pub(crate) fn elicitation_schema<T: JsonSchema>() -> Result<Value, String> {
    let schema = schema_for::<T>();
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err("an elicitation asks for an object with named fields".into());
    }
    let mut properties = Map::new();
    if let Some(given) = schema.get("properties").and_then(Value::as_object) {
        for (name, property) in given {
            properties.insert(name.clone(), primitive(name, property)?);
        }
    }
    let mut out = json!({ "type": "object", "properties": properties });
    if let Some(required) = schema.get("required") {
        out["required"] = required.clone();
    }
    Ok(out)
}

/// One elicitation property, with a nullable type made plain.
fn primitive(name: &str, property: &Value) -> Result<Value, String> {
    let mut property = property.clone();
    if let Some(types) = property.get("type").and_then(Value::as_array) {
        let plain: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
        if let [only] = plain.as_slice() {
            let only = (*only).clone();
            property["type"] = only;
        }
    }
    // An optional enum lists `null` among its values: the form's answer
    // is a string or nothing, so only the strings are offered.
    if let Some(values) = property.get_mut("enum").and_then(Value::as_array_mut) {
        values.retain(|v| !v.is_null());
    }
    // Numeric `format`s (`uint32`, …) are schemars' own, not elicitation's.
    if matches!(
        property.get("type").and_then(Value::as_str),
        Some("integer" | "number")
    ) {
        if let Some(map) = property.as_object_mut() {
            map.remove("format");
        }
    }
    // Strings with `enum` or `oneOf` of `const`s are single-select enums.
    let enum_like = property.get("enum").is_some() || property.get("oneOf").is_some();
    match property.get("type").and_then(Value::as_str) {
        Some("string" | "number" | "integer" | "boolean") => Ok(property),
        None if enum_like => {
            property["type"] = json!("string");
            Ok(property)
        }
        Some("array")
            if property.get("items").is_some_and(|items| {
                items.get("enum").is_some() || items.get("anyOf").is_some()
            }) =>
        {
            Ok(property)
        }
        _ => Err(format!(
            "field `{name}` is not a string, number, integer, boolean or enum of strings: \
             elicitation allows only those"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Inner {
        /// A tag.
        tag: String,
    }

    #[derive(JsonSchema)]
    #[serde(rename_all = "lowercase")]
    #[allow(dead_code)]
    enum Colour {
        Red,
        Green,
    }

    #[derive(JsonSchema)]
    #[allow(dead_code)]
    struct Outer {
        inner: Inner,
        colour: Colour,
        count: Option<u8>,
        tags: Vec<String>,
    }

    #[test]
    fn nested_types_enums_and_optional_fields_are_inlined() {
        assert_eq!(
            schema_for::<Outer>(),
            json!({
                "type": "object",
                "properties": {
                    "inner": {
                        "type": "object",
                        "properties": {"tag": {"type": "string", "description": "A tag."}},
                        "required": ["tag"]
                    },
                    "colour": {"type": "string", "enum": ["red", "green"]},
                    "count": {"type": ["integer", "null"], "format": "uint8", "minimum": 0, "maximum": 255},
                    "tags": {"type": "array", "items": {"type": "string"}}
                },
                "required": ["inner", "colour", "tags"]
            })
        );
    }

    #[test]
    fn non_object_outputs_are_wrapped() {
        assert_eq!(
            output_schema::<Vec<u8>>(),
            json!({
                "type": "object",
                "properties": {"result": {"type": "array", "items": {"type": "integer", "format": "uint8", "minimum": 0, "maximum": 255}}},
                "required": ["result"]
            })
        );
        assert_eq!(
            object_schema::<serde_json::Value>(),
            json!({"type": "object"})
        );
    }

    #[test]
    fn elicitation_allows_flat_primitives_only() {
        #[derive(JsonSchema)]
        #[allow(dead_code)]
        struct Contact {
            name: String,
            age: Option<u32>,
            colour: Colour,
            second: Option<Colour>,
        }
        let schema = elicitation_schema::<Contact>().unwrap();
        assert_eq!(schema["properties"]["age"]["type"], "integer");
        assert!(schema["properties"]["age"].get("format").is_none());
        // Found in review: an optional enum listed `null` as a choice.
        assert_eq!(
            schema["properties"]["second"]["enum"],
            json!(["red", "green"])
        );
        assert_eq!(schema["properties"]["second"]["type"], "string");
        assert_eq!(
            schema["properties"]["colour"]["enum"],
            json!(["red", "green"])
        );
        assert_eq!(schema["required"], json!(["name", "colour"]));
        let err = elicitation_schema::<Outer>().unwrap_err();
        assert!(err.contains("`inner`"), "{err}");
    }
}
