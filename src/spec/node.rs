//! A YAML/JSON document as a tree of located nodes. Task files are parsed into this tree first
//! (serde-saphyr gives every node its line and column), so every problem found afterwards —
//! an unknown field, a duplicate task name, a dependency cycle — can point at its source.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

/// A position in a file: 1-based line and column, and the byte offset when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Pos {
    pub line: u64,
    pub col: u64,
    pub offset: Option<u64>,
    /// Length of the located token in characters (0 when unknown), for the caret underline.
    pub len: u64,
}

impl Pos {
    pub fn at(line: u64, col: u64) -> Self {
        Self { line, col, offset: None, len: 0 }
    }

    fn of<T>(s: &Spanned<T>) -> Self {
        let loc = &s.referenced;
        let span = loc.span();
        Self { line: loc.line(), col: loc.column(), offset: span.byte_offset(), len: span.len() }
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// One node of a parsed document.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Located<Node>>),
    Map(Vec<(Located<String>, Located<Node>)>),
}

/// A value and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub pos: Pos,
}

impl Node {
    /// How the node's type is named in errors.
    pub fn describe(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "a boolean",
            Node::Int(_) => "an integer",
            Node::Float(_) => "a number",
            Node::Str(_) => "a string",
            Node::Seq(_) => "a list",
            Node::Map(_) => "a map",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The node as plain JSON (positions dropped), for parameter validation.
    pub fn to_json(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Node::Str(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(|i| i.value.to_json()).collect()),
            Node::Map(entries) => {
                Value::Object(entries.iter().map(|(k, v)| (k.value.clone(), v.value.to_json())).collect())
            }
        }
    }
}

// serde-saphyr fills `Spanned<T>` with positions; this tree keeps them for every node.
struct Raw(Node);

impl<'de> Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Raw;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E>(self) -> Result<Raw, E> {
                Ok(Raw(Node::Null))
            }
            fn visit_none<E>(self) -> Result<Raw, E> {
                Ok(Raw(Node::Null))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Raw, D::Error> {
                Raw::deserialize(d)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Raw, E> {
                Ok(Raw(Node::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Raw, E> {
                Ok(Raw(Node::Int(v)))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Raw, E> {
                i64::try_from(v).map(|v| Raw(Node::Int(v))).map_err(|_| E::custom("integer too large"))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Raw, E> {
                Ok(Raw(Node::Float(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Raw, E> {
                Ok(Raw(Node::Str(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Raw, E> {
                Ok(Raw(Node::Str(v)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = a.next_element::<Spanned<Raw>>()? {
                    items.push(located(item));
                }
                Ok(Raw(Node::Seq(items)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Raw, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = a.next_key::<Spanned<Raw>>()? {
                    let value = a.next_value::<Spanned<Raw>>()?;
                    let pos = Pos::of(&key);
                    let name = match key.value.0 {
                        Node::Str(s) => s,
                        Node::Int(i) => i.to_string(),
                        Node::Bool(b) => b.to_string(),
                        Node::Null => "null".to_string(),
                        other => {
                            return Err(serde::de::Error::custom(format!(
                                "a map key must be a string, found {}",
                                other.describe()
                            )));
                        }
                    };
                    entries.push((Located { value: name, pos }, located(value)));
                }
                Ok(Raw(Node::Map(entries)))
            }
        }
        d.deserialize_any(V)
    }
}

fn located(s: Spanned<Raw>) -> Located<Node> {
    let pos = Pos::of(&s);
    Located { value: s.value.0, pos }
}

/// A parse failure with its position, and the bare message (without saphyr's own snippet).
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub pos: Option<Pos>,
    pub message: String,
}

/// Limits against hostile input (alias bombs, deep nesting) on top of serde-saphyr's defaults.
fn options() -> serde_saphyr::Options {
    serde_saphyr::Options::default()
}

/// Parse every document of a YAML (or JSON) text. An empty text gives no documents.
pub fn parse_documents(text: &str) -> Result<Vec<Located<Node>>, ParseError> {
    match serde_saphyr::from_multiple_with_options::<Spanned<Raw>>(text, options()) {
        Ok(docs) => Ok(docs.into_iter().map(located).filter(|d| d.value != Node::Null).collect()),
        Err(e) => {
            let pos = e.location().filter(|l| l.line() > 0).map(|l| Pos {
                line: l.line(),
                col: l.column(),
                offset: l.span().byte_offset(),
                len: 0,
            });
            Err(ParseError { pos, message: bare_message(&e.to_string()) })
        }
    }
}

/// serde-saphyr's Display is "error: line L column C: MESSAGE\n --> snippet..."; keep MESSAGE.
fn bare_message(full: &str) -> String {
    let first = full.lines().next().unwrap_or(full);
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let rest = match first.strip_prefix("line ") {
        Some(r) => r.split_once(": ").map_or(first, |(_, m)| m),
        None => first,
    };
    rest.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Located<Node> {
        let mut docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn every_node_knows_its_line_and_column() {
        let doc = one("- name: a\n  parameters:\n    limit: 10\n");
        let Node::Seq(items) = &doc.value else { panic!("{doc:?}") };
        let Node::Map(entries) = &items[0].value else { panic!() };
        assert_eq!(entries[0].0.value, "name");
        assert_eq!(entries[0].0.pos, Pos { line: 1, col: 3, offset: Some(2), len: 4 });
        let Node::Map(params) = &entries[1].1.value else { panic!() };
        assert_eq!((params[0].0.pos.line, params[0].0.pos.col), (3, 5));
        assert_eq!(params[0].1.value, Node::Int(10));
    }

    #[test]
    fn json_parses_with_positions() {
        let doc = one("[\n\t{\"name\": \"x\", \"limit\": 3}\n]");
        let Node::Seq(items) = &doc.value else { panic!() };
        let Node::Map(entries) = &items[0].value else { panic!() };
        assert_eq!(entries[1].1.value, Node::Int(3));
        assert_eq!(entries[1].0.pos.line, 2);
    }

    #[test]
    fn duplicate_keys_are_located() {
        let e = parse_documents("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.pos.map(|p| (p.line, p.col)), Some((3, 1)));
        assert!(e.message.starts_with("duplicate mapping key: a"), "{}", e.message);
    }

    #[test]
    fn syntax_errors_are_located_with_a_bare_message() {
        let e = parse_documents("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.pos.is_some());
        assert!(!e.message.contains("-->"), "{}", e.message);
    }

    #[test]
    fn several_documents_and_empty_ones() {
        assert_eq!(parse_documents("---\na: 1\n---\nb: 2\n").unwrap().len(), 2);
        assert!(parse_documents("").unwrap().is_empty());
        assert!(parse_documents("# only a comment\n").unwrap().is_empty());
    }

    #[test]
    fn an_alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(parse_documents(&text).is_err());
    }
}
