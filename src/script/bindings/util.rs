//! Logging, sleeping, time and duration helpers, JSON, and facts about the run.

use std::time::Duration;

use rhai::{Dynamic, FLOAT, INT, Map};

use super::{Registrar, Res, to_dyn, to_json};
use crate::script::host::{self, runtime_error};

/// Print a line to stderr through the run's log (target `pearl::script`).
pub fn log_info(msg: &str) {
    tracing::info!(target: "pearl::script", task = %host::task_name(), "{msg}");
}

fn log_warn(msg: &str) {
    tracing::warn!(target: "pearl::script", task = %host::task_name(), "{msg}");
}

fn sleep_for(d: Duration) -> Res<()> {
    let h = host::current()?;
    h.block_raw(tokio::time::sleep(d))
}

fn now() -> INT {
    jiff::Timestamp::now().as_second()
}

fn parse_time(text: &str) -> Res<INT> {
    text.trim()
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|e| runtime_error(format!("parse_time: `{text}` is not an RFC 3339 time: {e}")))
}

fn format_time(secs: INT) -> Res<String> {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .map_err(|e| runtime_error(format!("format_time: {secs}: {e}")))
}

/// The creation time of an object map: `created`, `creationTimestamp` or
/// `metadata.creationTimestamp`.
fn created_of(obj: &Map) -> Option<String> {
    let direct = ["created", "creationTimestamp"]
        .iter()
        .find_map(|k| obj.get(*k).filter(|v| v.is_string()).map(|v| v.to_string()));
    direct.or_else(|| {
        let meta = obj.get("metadata")?.read_lock::<Map>()?.clone();
        meta.get("creationTimestamp").filter(|v| v.is_string()).map(|v| v.to_string())
    })
}

fn age_of_map(obj: Map) -> Res<INT> {
    let created = created_of(&obj).ok_or_else(|| {
        runtime_error("age: the object has no `created` (or metadata.creationTimestamp) field")
    })?;
    Ok(now() - parse_time(&created)?)
}

fn parse_duration(text: &str) -> Res<INT> {
    crate::tasks::params::parse_duration(text)
        .map(|d| d.as_secs() as INT)
        .map_err(|e| runtime_error(format!("parse_duration: {e}")))
}

fn format_duration(secs: INT) -> String {
    humantime::format_duration(Duration::from_secs(secs.max(0) as u64)).to_string()
}

fn json_text(value: Dynamic) -> Res<String> {
    let v = to_json(&value)?;
    serde_json::to_string(&v).map_err(|e| runtime_error(format!("to_json: {e}")))
}

fn parse_json(text: &str) -> Res<Dynamic> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| runtime_error(format!("parse_json: {e}")))?;
    to_dyn(v)
}

pub fn register(r: &mut Registrar) {
    r.func(
        "log",
        &["message: String"],
        "",
        "Log a line (info) to stderr, tagged with the task name.",
        |m: &str| log_info(m),
    )
    .func(
        "warn",
        &["message: String"],
        "",
        "Log a warning to stderr, tagged with the task name.",
        |m: &str| log_warn(m),
    )
    .func(
        "sleep",
        &["seconds: INT"],
        "",
        "Sleep; counts against the script timeout and stops on Ctrl-C.",
        |s: INT| sleep_for(Duration::from_secs(s.max(0) as u64)),
    )
    .func(
        "sleep",
        &["seconds: FLOAT"],
        "",
        "Sleep a fraction of seconds; counts against the script timeout and stops on Ctrl-C.",
        |s: FLOAT| sleep_for(Duration::from_secs_f64(s.max(0.0))),
    )
    .func("now", &[], "INT", "Current time as Unix seconds.", now)
    .func("parse_time", &["rfc3339: String"], "INT", "An RFC 3339 time as Unix seconds.", parse_time)
    .func(
        "format_time",
        &["unix_seconds: INT"],
        "String",
        "Unix seconds as an RFC 3339 time (UTC).",
        format_time,
    )
    .func(
        "age",
        &["object: Map"],
        "INT",
        "Seconds since the object (a map from a list/get binding) was created.",
        age_of_map,
    )
    .func("age", &["rfc3339: String"], "INT", "Seconds since an RFC 3339 time.", |t: &str| {
        Ok::<_, Box<rhai::EvalAltResult>>(now() - parse_time(t)?)
    })
    .func(
        "parse_duration",
        &["text: String"],
        "INT",
        "A duration such as \"90m\", \"1h30m\", \"250ms\" or \"45\" in whole seconds.",
        parse_duration,
    )
    .func(
        "format_duration",
        &["seconds: INT"],
        "String",
        "Seconds as a readable duration (\"1h 30m\").",
        format_duration,
    )
    .func("to_json", &["value: ?"], "String", "A value as compact JSON text.", json_text)
    .func("parse_json", &["text: String"], "?", "JSON text as maps/arrays.", parse_json)
    .func(
        "dry_run",
        &[],
        "String",
        "The run's --dry-run mode: \"none\", \"server\" or \"client\".",
        || -> Res<String> {
            let h = host::current()?;
            Ok(serde_json::to_value(h.cx.cluster.dry_run)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default())
        },
    )
    .func("task_name", &[], "String", "The name of the task running this script.", || -> Res<String> {
        Ok(host::current()?.cx.task.clone())
    })
    .func(
        "remaining_seconds",
        &[],
        "INT",
        "Seconds left before the script's timeout.",
        || -> Res<INT> {
            let h = host::current()?;
            Ok(h.deadline.saturating_duration_since(tokio::time::Instant::now()).as_secs() as INT)
        },
    );
}
