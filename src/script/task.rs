//! The `script` task type: a Rhai script (inline `source` or a `file`) run as one task on the
//! shared pool, with `args` as the constant map `ARGS`.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::{DEFAULT_TIMEOUT, Limits, ScriptError, compile, engine};
use crate::tasks::{
    Items, MAX_OBJECTS, ParamDef, ParamKind, Params, TaskCx, TaskError, TaskOutput, TaskType,
};

/// The `script` task type.
pub struct ScriptTask;

static PARAMS: &[ParamDef] = &[
    ParamDef::new("source", ParamKind::String, "The Rhai script, inline (give `source` or `file`)")
        .example("\"let pods = list_pods(ARGS.ns); pods.len()\""),
    ParamDef::new("file", ParamKind::String, "Path of a .rhai file (give `source` or `file`)")
        .example("scripts/label-pods-by-node.rhai"),
    ParamDef::new(
        "origin",
        ParamKind::String,
        "Name used for the script in error positions (default: the file path, or <inline>)",
    )
    .example("fix.rhai"),
    ParamDef::new("args", ParamKind::StringMap, "Values the script reads from the constant map ARGS")
        .example("{namespace: shop, olderThan: 2h}"),
    ParamDef::new(
        "timeout",
        ParamKind::Duration,
        "Wall-clock limit for the whole script, cluster calls included",
    )
    .default("5m")
    .example("10m"),
    ParamDef::new(
        "maxOperations",
        ParamKind::Int,
        "Limit on Rhai operations (stops endless loops); 0 = none",
    )
    .default("50000000")
    .example("1000000"),
    MAX_OBJECTS,
];

/// The script source and its origin name, from `source` or `file`.
fn load(params: &Params) -> Result<(Arc<str>, String), String> {
    let origin = params.str("origin").map(String::from);
    match (params.str("source"), params.str("file")) {
        (Some(src), None) => Ok((src.into(), origin.unwrap_or_else(|| "<inline>".into()))),
        (None, Some(path)) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("cannot read script {path}: {e}"))?;
            Ok((text.into(), origin.unwrap_or_else(|| path.to_string())))
        }
        (Some(_), Some(_)) => Err("give either `source` or `file`, not both".into()),
        (None, None) => Err("a script task needs `source` (inline) or `file`".into()),
    }
}

fn limits(params: &Params) -> Limits {
    Limits {
        timeout: params.duration("timeout").unwrap_or(DEFAULT_TIMEOUT),
        max_operations: params
            .int("maxOperations")
            .map_or(engine::DEFAULT_MAX_OPERATIONS, |n| n.max(0) as u64),
        max_objects: params.int("maxObjects").filter(|n| *n >= 0).map(|n| n as usize),
    }
}

/// One line for the report: what the script returned.
fn summary(value: &serde_json::Value, changed: usize) -> String {
    let what = match value {
        serde_json::Value::Null => "finished".to_string(),
        serde_json::Value::Array(a) => format!("returned {} item(s)", a.len()),
        serde_json::Value::Object(m) => format!("returned a map of {} key(s)", m.len()),
        other => {
            let mut t = other.to_string();
            if t.len() > 60 {
                let mut cut = 57;
                while !t.is_char_boundary(cut) {
                    cut -= 1;
                }
                t.truncate(cut);
                t.push_str("...");
            }
            format!("returned {t}")
        }
    };
    format!("{what}; {changed} object(s) changed")
}

impl TaskType for ScriptTask {
    fn name(&self) -> &'static str {
        "script"
    }
    fn summary(&self) -> &'static str {
        "Run a Rhai script bound to the cluster operations, on the shared worker pool"
    }
    fn params(&self) -> &'static [ParamDef] {
        PARAMS
    }
    fn mutating(&self) -> bool {
        true
    }
    fn example(&self) -> &'static str {
        "- name: label-by-node\n  type: script\n  namespace: shop\n  parameters:\n    file: scripts/label-pods-by-node.rhai\n    args: {namespace: shop, label: pearl.dev/node}\n    timeout: 2m\n"
    }

    /// Reads and compiles the script, so syntax errors show before anything runs. The message
    /// starts with `origin:line:col: `.
    fn check(&self, params: &Params) -> Result<(), String> {
        let (source, origin) = load(params)?;
        compile(&source, &origin).map(|_| ()).map_err(|e: ScriptError| e.to_string())
    }

    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(async move {
            let (source, origin) = load(params).map_err(TaskError::Usage)?;
            let ast = compile(&source, &origin).map_err(|e| TaskError::Usage(e.to_string()))?;
            let args = params.string_map("args").unwrap_or_default();
            match super::run(cx, source, &origin, ast, args, limits(params)).await {
                Ok(r) => Ok(TaskOutput {
                    matched: r.matched,
                    changed: r.changed,
                    message: summary(&r.value, r.changed),
                    items: if r.value.is_null() { Items::new() } else { vec![r.value].into() },
                }),
                Err(f) => Err(TaskError::Check {
                    message: f.error.to_string(),
                    output: TaskOutput {
                        matched: f.matched,
                        changed: f.changed,
                        message: f.error.headline(),
                        items: Items::new(),
                    },
                }),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: serde_json::Value) -> Params {
        Params::from_json(PARAMS, v.as_object().unwrap()).unwrap()
    }

    #[test]
    fn check_reports_syntax_errors_with_origin_line_and_column() {
        let p = params(json!({"source": "let x = 1;\nlet y = (x + ;\n", "origin": "fix.rhai"}));
        let msg = ScriptTask.check(&p).unwrap_err();
        assert!(msg.starts_with("fix.rhai:2:"), "{msg}");
        assert!(msg.contains("let y = (x + ;"), "{msg}");
    }

    #[test]
    fn exactly_one_of_source_and_file() {
        assert!(ScriptTask.check(&params(json!({}))).unwrap_err().contains("needs `source`"));
        let both = params(json!({"source": "1", "file": "x.rhai"}));
        assert!(ScriptTask.check(&both).unwrap_err().contains("not both"));
        assert!(ScriptTask.check(&params(json!({"source": "1 + 1"}))).is_ok());
    }

    #[test]
    fn missing_file_is_named() {
        let msg = ScriptTask.check(&params(json!({"file": "/nonexistent/x.rhai"}))).unwrap_err();
        assert!(msg.starts_with("cannot read script /nonexistent/x.rhai"), "{msg}");
    }

    #[test]
    fn summary_is_short() {
        assert_eq!(summary(&json!(null), 0), "finished; 0 object(s) changed");
        assert_eq!(summary(&json!([1, 2]), 2), "returned 2 item(s); 2 object(s) changed");
        assert!(summary(&json!("x".repeat(100)), 0).len() <= 90);
    }
}
