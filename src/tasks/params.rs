//! Parameter definitions: each task type declares its parameters once, and the same table
//! validates task files, script-submitted tasks and generates `kubectl pearl explain TYPE`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

/// The type of a parameter value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    String,
    /// A whole number (a YAML integer).
    Int,
    Bool,
    /// A Go-style duration string ("90s", "5m", "1h30m") or a number of seconds.
    Duration,
    /// A map of string keys to string values (labels, annotations).
    StringMap,
    /// A list of strings.
    StringList,
    /// One of a fixed set of strings.
    Enum(&'static [&'static str]),
    /// Any JSON/YAML value, passed through as is.
    Any,
}

impl ParamKind {
    /// How the kind is named in errors and in `explain`.
    pub fn describe(&self) -> String {
        match self {
            ParamKind::String => "string".into(),
            ParamKind::Int => "integer".into(),
            ParamKind::Bool => "boolean".into(),
            ParamKind::Duration => "duration".into(),
            ParamKind::StringMap => "map of string to string".into(),
            ParamKind::StringList => "list of strings".into(),
            ParamKind::Enum(values) => format!("one of {}", values.join("|")),
            ParamKind::Any => "any value".into(),
        }
    }
}

/// One parameter of a task type.
#[derive(Debug, Clone, Copy)]
pub struct ParamDef {
    /// The canonical name (camelCase, as in task files).
    pub name: &'static str,
    /// Other accepted spellings (the seed's names).
    pub aliases: &'static [&'static str],
    pub kind: ParamKind,
    pub required: bool,
    /// Default, written as it would be in a file.
    pub default: Option<&'static str>,
    /// An example value, written as in YAML.
    pub example: &'static str,
    pub help: &'static str,
}

impl ParamDef {
    pub const fn new(name: &'static str, kind: ParamKind, help: &'static str) -> Self {
        Self { name, aliases: &[], kind, required: false, default: None, example: "", help }
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = Some(value);
        self
    }
    pub const fn example(mut self, value: &'static str) -> Self {
        self.example = value;
        self
    }
    pub const fn aliases(mut self, aliases: &'static [&'static str]) -> Self {
        self.aliases = aliases;
        self
    }
    fn matches(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }
}

/// What is wrong with one parameter entry (or the set of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamProblem {
    /// Entry `index` names no parameter of this type.
    Unknown { index: usize, key: String, suggestion: Option<String> },
    /// Entry `index` has a value of the wrong type.
    WrongType { index: usize, key: String, expected: String, found: String },
    /// Entry `index` is well-typed but not acceptable (bad duration, value not in an enum, ...).
    Invalid { index: usize, key: String, message: String },
    /// Entries `first` and `index` set the same parameter (perhaps through an alias).
    Repeated { index: usize, first: usize, key: String },
    /// A required parameter is absent.
    Missing { name: &'static str },
    /// A rule across parameters (from `TaskType::check`).
    Rule { message: String },
}

impl ParamProblem {
    /// The entry this problem is about, when it is about one.
    pub fn index(&self) -> Option<usize> {
        match self {
            ParamProblem::Unknown { index, .. }
            | ParamProblem::WrongType { index, .. }
            | ParamProblem::Invalid { index, .. }
            | ParamProblem::Repeated { index, .. } => Some(*index),
            ParamProblem::Missing { .. } | ParamProblem::Rule { .. } => None,
        }
    }
}

impl std::fmt::Display for ParamProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamProblem::Unknown { key, suggestion, .. } => {
                write!(f, "unknown parameter `{key}`")?;
                if let Some(s) = suggestion {
                    write!(f, " (did you mean `{s}`?)")?;
                }
                Ok(())
            }
            ParamProblem::WrongType { key, expected, found, .. } => {
                write!(f, "parameter `{key}` must be {expected}, found {found}")
            }
            ParamProblem::Invalid { key, message, .. } => {
                write!(f, "parameter `{key}`: {message}")
            }
            ParamProblem::Repeated { key, .. } => write!(f, "parameter `{key}` is set twice"),
            ParamProblem::Missing { name } => write!(f, "missing required parameter `{name}`"),
            ParamProblem::Rule { message } => f.write_str(message),
        }
    }
}

/// Validated parameters, keyed by canonical name, defaults filled in.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Params {
    values: BTreeMap<&'static str, Value>,
}

/// Closest candidate to `input` within a small edit distance, for "did you mean".
pub fn suggest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = input.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.to_string())
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

/// Parse a duration as task files write it: "250ms", "90s", "5m", "1h30m", or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(t)
        .map_err(|e| format!("`{t}` is not a duration ({e}); write e.g. 90s, 5m, 1h30m"))
}

/// Check one value against a kind; returns the value in canonical form.
fn check_kind(kind: ParamKind, value: &Value) -> Result<Value, Result<String, String>> {
    // Err(Ok(expected)) is a type mismatch, Err(Err(message)) an invalid value.
    let mismatch = || Err(Ok(kind.describe()));
    match kind {
        ParamKind::Any => Ok(value.clone()),
        ParamKind::String => match value {
            Value::String(_) => Ok(value.clone()),
            _ => mismatch(),
        },
        ParamKind::Int => match value {
            Value::Number(n) if n.is_i64() => Ok(value.clone()),
            _ => mismatch(),
        },
        ParamKind::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            _ => mismatch(),
        },
        ParamKind::Duration => match value {
            Value::Number(n) if n.as_u64().is_some() => Ok(value.clone()),
            Value::String(s) => parse_duration(s).map(|_| value.clone()).map_err(Err),
            _ => mismatch(),
        },
        ParamKind::StringMap => match value {
            Value::Object(map) => {
                // Numbers and booleans in label values are a common slip (`tier: 1`); accept
                // them as their text, as kubectl's `key=value` would.
                let mut out = serde_json::Map::new();
                for (k, v) in map {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        other => {
                            return Err(Err(format!(
                                "value of `{k}` must be a string, found {}",
                                type_name(other)
                            )));
                        }
                    };
                    out.insert(k.clone(), Value::String(text));
                }
                Ok(Value::Object(out))
            }
            _ => mismatch(),
        },
        ParamKind::StringList => match value {
            Value::Array(items) if items.iter().all(Value::is_string) => Ok(value.clone()),
            Value::Array(_) => Err(Err("every item must be a string".into())),
            _ => mismatch(),
        },
        ParamKind::Enum(allowed) => match value {
            Value::String(s) if allowed.contains(&s.as_str()) => Ok(value.clone()),
            Value::String(s) => Err(Err(match suggest(s, allowed.iter().copied()) {
                Some(hint) => format!("`{s}` is not one of {} (did you mean `{hint}`?)", allowed.join(", ")),
                None => format!("`{s}` is not one of {}", allowed.join(", ")),
            })),
            _ => mismatch(),
        },
    }
}

fn parse_default(kind: ParamKind, text: &str) -> Value {
    match kind {
        ParamKind::Int => Value::from(text.parse::<i64>().expect("integer default")),
        ParamKind::Bool => Value::from(text == "true"),
        _ => Value::from(text),
    }
}

impl Params {
    /// Validate `entries` (key, value in file order) against `defs`. Returns every problem found,
    /// not just the first, so a user fixes a file in one pass.
    pub fn validate<'a>(
        defs: &'static [ParamDef],
        entries: impl IntoIterator<Item = (&'a str, &'a Value)>,
    ) -> Result<Params, Vec<ParamProblem>> {
        let mut values = BTreeMap::new();
        let mut seen: BTreeMap<&'static str, usize> = BTreeMap::new();
        let mut problems = Vec::new();
        for (index, (key, value)) in entries.into_iter().enumerate() {
            let Some(def) = defs.iter().find(|d| d.matches(key)) else {
                let names =
                    defs.iter().flat_map(|d| std::iter::once(d.name).chain(d.aliases.iter().copied()));
                problems.push(ParamProblem::Unknown {
                    index,
                    key: key.to_string(),
                    suggestion: suggest(key, names),
                });
                continue;
            };
            if let Some(&first) = seen.get(def.name) {
                problems.push(ParamProblem::Repeated { index, first, key: key.to_string() });
                continue;
            }
            seen.insert(def.name, index);
            match check_kind(def.kind, value) {
                Ok(v) => {
                    values.insert(def.name, v);
                }
                Err(Ok(expected)) => problems.push(ParamProblem::WrongType {
                    index,
                    key: key.to_string(),
                    expected,
                    found: type_name(value).to_string(),
                }),
                Err(Err(message)) => {
                    problems.push(ParamProblem::Invalid { index, key: key.to_string(), message })
                }
            }
        }
        for def in defs {
            if values.contains_key(def.name) || seen.contains_key(def.name) {
                continue;
            }
            if def.required {
                problems.push(ParamProblem::Missing { name: def.name });
            } else if let Some(d) = def.default {
                values.insert(def.name, parse_default(def.kind, d));
            }
        }
        if problems.is_empty() { Ok(Params { values }) } else { Err(problems) }
    }

    /// Validate a JSON object (a task submitted by a script, or a test).
    pub fn from_json(
        defs: &'static [ParamDef],
        object: &serde_json::Map<String, Value>,
    ) -> Result<Params, Vec<ParamProblem>> {
        Self::validate(defs, object.iter().map(|(k, v)| (k.as_str(), v)))
    }

    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }
    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
    pub fn str(&self, name: &str) -> Option<&str> {
        self.raw(name).and_then(Value::as_str)
    }
    pub fn int(&self, name: &str) -> Option<i64> {
        self.raw(name).and_then(Value::as_i64)
    }
    pub fn bool(&self, name: &str) -> Option<bool> {
        self.raw(name).and_then(Value::as_bool)
    }
    pub fn duration(&self, name: &str) -> Option<Duration> {
        match self.raw(name)? {
            Value::Number(n) => n.as_u64().map(Duration::from_secs),
            Value::String(s) => parse_duration(s).ok(),
            _ => None,
        }
    }
    pub fn string_map(&self, name: &str) -> Option<BTreeMap<String, String>> {
        let obj = self.raw(name)?.as_object()?;
        Some(obj.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
    }
    pub fn string_list(&self, name: &str) -> Option<Vec<String>> {
        let arr = self.raw(name)?.as_array()?;
        Some(arr.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
    }
    /// The parameters as one JSON object (for reports and webhook bodies).
    pub fn to_json(&self) -> Value {
        Value::Object(self.values.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static DEFS: &[ParamDef] = &[
        ParamDef::new("labelKey", ParamKind::String, "key").required(),
        ParamDef::new("labelValue", ParamKind::String, "value"),
        ParamDef::new("podName", ParamKind::String, "pod").aliases(&["name"]),
        ParamDef::new("limit", ParamKind::Int, "page").default("500"),
        ParamDef::new("timeout", ParamKind::Duration, "t").default("5m"),
        ParamDef::new("mode", ParamKind::Enum(&["fast", "safe"]), "m"),
    ];

    fn check(v: Value) -> Result<Params, Vec<ParamProblem>> {
        Params::from_json(DEFS, v.as_object().unwrap())
    }

    #[test]
    fn defaults_fill_in_and_aliases_map_to_canonical_names() {
        let p = check(json!({"labelKey": "env", "name": "web-0"})).unwrap();
        assert_eq!(p.str("podName"), Some("web-0"));
        assert_eq!(p.int("limit"), Some(500));
        assert_eq!(p.duration("timeout"), Some(Duration::from_secs(300)));
    }

    #[test]
    fn unknown_key_suggests_the_closest_name() {
        let errs = check(json!({"labelKey": "a", "lableValue": "b"})).unwrap_err();
        assert_eq!(
            errs,
            vec![ParamProblem::Unknown {
                index: 1,
                key: "lableValue".into(),
                suggestion: Some("labelValue".into())
            }]
        );
        assert_eq!(errs[0].to_string(), "unknown parameter `lableValue` (did you mean `labelValue`?)");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errs = check(json!({"limit": "ten", "timeout": "soon", "mode": "fats"})).unwrap_err();
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(matches!(&errs[0], ParamProblem::WrongType { key, .. } if key == "limit"));
        // serde_json maps are sorted: limit, mode, timeout.
        assert!(errs[1].to_string().contains("did you mean `fast`"), "{}", errs[1]);
        assert!(matches!(&errs[2], ParamProblem::Invalid { key, .. } if key == "timeout"));
        assert_eq!(errs[3], ParamProblem::Missing { name: "labelKey" });
    }

    #[test]
    fn alias_and_name_together_are_repeated() {
        let errs = check(json!({"labelKey": "a", "podName": "x", "name": "y"})).unwrap_err();
        assert!(matches!(&errs[0], ParamProblem::Repeated { first: 1, index: 2, .. }), "{errs:?}");
    }

    #[test]
    fn durations_accept_go_style_and_seconds() {
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("soon").is_err());
    }
}
