//! Reading a map of strings (prompt arguments, template variables) into a
//! typed value: each field is parsed from its string on demand, so a
//! `u32` or `bool` field works as well as a `String`.

use std::collections::HashMap;

use serde::de::value::{Error, MapDeserializer};
use serde::de::{DeserializeOwned, Deserializer, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

/// Reads `map` into `T`.
///
/// # Errors
///
/// The deserializer's message: a missing field, or a string that does not
/// parse as its field's type.
pub(crate) fn from_strings<T: DeserializeOwned>(
    map: &HashMap<String, String>,
) -> Result<T, String> {
    let entries = map
        .iter()
        .map(|(k, v)| (k.as_str(), Text { name: k, value: v }));
    T::deserialize(MapDeserializer::<_, Error>::new(entries)).map_err(|e| e.to_string())
}

/// One value: a string, parsed when the field asks for another type; its
/// name goes into the error, so the client reads which value is wrong.
struct Text<'a> {
    name: &'a str,
    value: &'a str,
}

impl<'de> IntoDeserializer<'de, Error> for Text<'de> {
    type Deserializer = Self;
    fn into_deserializer(self) -> Self {
        self
    }
}

/// `deserialize_$ty` parses the string as `$ty` and visits it.
macro_rules! parsed {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
                match self.value.trim().parse::<$ty>() {
                    Ok(v) => visitor.$visit(v),
                    Err(e) => Err(serde::de::Error::custom(format!(
                        "`{}` is {:?}: {e}",
                        self.name, self.value
                    ))),
                }
            }
        )*
    };
}

impl<'de> Deserializer<'de> for Text<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.value)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(self.value.into_deserializer())
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    parsed! {
        deserialize_bool => visit_bool: bool,
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_f32 => visit_f32: f32,
        deserialize_f64 => visit_f64: f64,
    }

    forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Note,
        Task,
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Vars {
        id: u32,
        kind: Kind,
        flag: Option<bool>,
        name: String,
    }

    fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fields_are_parsed_from_their_strings() {
        let vars: Vars = from_strings(&map(&[
            ("id", "42"),
            ("kind", "task"),
            ("flag", "true"),
            ("name", "a b"),
        ]))
        .unwrap();
        assert_eq!(
            vars,
            Vars {
                id: 42,
                kind: Kind::Task,
                flag: Some(true),
                name: "a b".into()
            }
        );
        let vars: Vars =
            from_strings(&map(&[("id", "1"), ("kind", "note"), ("name", "")])).unwrap();
        assert_eq!(vars.flag, None);
    }

    #[test]
    fn mismatches_say_which_value() {
        let err =
            from_strings::<Vars>(&map(&[("id", "x"), ("kind", "note"), ("name", "")])).unwrap_err();
        assert!(err.starts_with("`id` is \"x\": invalid digit"), "{err}");
        let err = from_strings::<Vars>(&map(&[("id", "1"), ("kind", "note")])).unwrap_err();
        assert!(err.contains("missing field `name`"), "{err}");
        let err = from_strings::<Vars>(&map(&[("id", "1"), ("kind", "other"), ("name", "")]))
            .unwrap_err();
        assert!(err.contains("unknown variant"), "{err}");
    }
}
