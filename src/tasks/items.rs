//! [`Items`]: the objects a task reports, kept as compact JSON text.
//!
//! A task that lists 20,000 pods keeps one item per pod until the report is printed. Held as
//! `serde_json::Value` trees (a map node per field, a `String` per key) an item costs several
//! times its JSON text; held as the text itself it costs about its length. Items are expanded
//! one at a time while the report is written, so printing never holds them all as trees either.

use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// A task's items, each stored as one compact JSON text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Items(Vec<Box<str>>);

impl Items {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one item. A value that cannot be written as JSON (a map with non-string keys)
    /// is kept as the message saying so, never dropped silently.
    pub fn push(&mut self, item: impl Serialize) {
        let text = serde_json::to_string(&item)
            .unwrap_or_else(|e| Value::String(format!("item not representable as JSON: {e}")).to_string());
        self.0.push(text.into_boxed_str());
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Item `i` as a JSON value.
    pub fn get(&self, i: usize) -> Option<Value> {
        self.0.get(i).map(|t| parse(t))
    }

    /// Every item as a JSON value, all at once (for tests and small outputs).
    pub fn to_vec(&self) -> Vec<Value> {
        self.values().collect()
    }

    /// Every item as a JSON value, expanded one at a time.
    pub fn values(&self) -> impl Iterator<Item = Value> + '_ {
        self.0.iter().map(|t| parse(t))
    }
}

/// Items are only ever created from JSON written by [`Items::push`], so parsing them back cannot
/// fail; `Null` is the answer if it ever did rather than a panic in the report.
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

impl<T: Serialize> FromIterator<T> for Items {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut items = Items::new();
        for item in iter {
            items.push(item);
        }
        items
    }
}

impl<T: Serialize> From<Vec<T>> for Items {
    fn from(v: Vec<T>) -> Self {
        v.into_iter().collect()
    }
}

/// Written as a sequence of JSON values, so JSON and YAML reports look as if the items were
/// values all along.
impl Serialize for Items {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for text in &self.0 {
            let value: Value = serde_json::from_str(text).map_err(S::Error::custom)?;
            seq.serialize_element(&value)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_round_trip_through_json_and_yaml_as_plain_values() {
        let mut items = Items::new();
        items.push(json!({"name": "web-0", "ready": true, "restarts": 2}));
        items.push(json!({"name": "web-1", "labels": {"app": "web"}}));
        assert_eq!(items.len(), 2);
        assert_eq!(items.get(0), Some(json!({"name": "web-0", "ready": true, "restarts": 2})));
        assert_eq!(items.get(2), None);

        let as_json = serde_json::to_value(&items).unwrap();
        assert_eq!(
            as_json,
            json!([{"name": "web-0", "ready": true, "restarts": 2}, {"name": "web-1", "labels": {"app": "web"}}])
        );
        let yaml = serde_saphyr::to_string(&items).unwrap();
        let back: Value = serde_saphyr::from_str(&yaml).unwrap();
        assert_eq!(back, as_json);
    }

    #[test]
    fn an_item_is_kept_as_its_compact_text() {
        let items: Items = vec![json!({"a": 1, "b": [true, null]})].into();
        assert_eq!(&*items.0[0], r#"{"a":1,"b":[true,null]}"#);
        assert_eq!(items.values().collect::<Vec<_>>(), vec![json!({"a": 1, "b": [true, null]})]);
    }

    #[test]
    fn a_value_json_cannot_represent_becomes_a_message() {
        let mut bad = std::collections::HashMap::new();
        bad.insert((1, 2), "tuple keys");
        let mut items = Items::new();
        items.push(bad);
        let v = items.get(0).unwrap();
        assert!(v.as_str().unwrap().starts_with("item not representable as JSON"), "{v}");
    }
}
