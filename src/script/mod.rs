//! Rhai scripting: one sandboxed engine with bindings to the ops layer ([`bindings`]), scripts
//! compiled once to an AST ([`compile`]) and run on a blocking thread that bridges to the async
//! ops with the runtime handle ([`run`]), the `script` task type ([`task`]) and the bindings'
//! reference ([`bindings_help`]).

pub mod bindings;
pub mod engine;
pub mod errors;
pub mod host;
pub mod task;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rhai::{AST, Dynamic, Map, Scope};
use tokio::sync::Semaphore;

pub use errors::{ScriptError, ScriptErrorKind};
pub use host::Limits;

use crate::tasks::{TaskCx, TaskType};

/// The `script` task type, registered with the others.
pub fn task_types() -> Vec<&'static dyn TaskType> {
    vec![&task::ScriptTask]
}

/// Compile a script; syntax errors come back with `origin:line:col`.
pub fn compile(source: &str, origin: &str) -> Result<AST, ScriptError> {
    let mut ast =
        engine::engine().compile(source).map_err(|e| ScriptError::from_parse(&e, source, origin))?;
    ast.set_source(origin);
    Ok(ast)
}

/// What a script run came to.
#[derive(Debug, Clone)]
pub struct ScriptResult {
    /// The script's value (`()` when it returned nothing).
    pub value: serde_json::Value,
    /// Objects the bindings found / changed.
    pub matched: usize,
    pub changed: usize,
}

/// A failed script run, with what the bindings did before it failed.
#[derive(Debug, Clone)]
pub struct ScriptFailure {
    pub error: ScriptError,
    pub matched: usize,
    pub changed: usize,
}

/// Scripts running at once (each holds a blocking thread; its cluster work is bounded by the
/// pool).
const MAX_CONCURRENT_SCRIPTS: usize = 16;

/// Run a compiled script for a task: `args` become the constant map `ARGS`. Runs on a blocking
/// thread; returns when the script ends, hits a limit, or the run is cancelled.
pub async fn run(
    cx: &TaskCx,
    source: Arc<str>,
    origin: &str,
    ast: AST,
    args: BTreeMap<String, String>,
    limits: Limits,
) -> Result<ScriptResult, ScriptFailure> {
    static SLOTS: Semaphore = Semaphore::const_new(MAX_CONCURRENT_SCRIPTS);
    let host =
        Arc::new(host::Host::new(cx.clone(), tokio::runtime::Handle::current(), limits, Arc::new(ast)));
    // Dropping this future (the task was abandoned) stops the script too.
    let _stop_on_drop = host.stop.clone().drop_guard();
    let failure = |h: &host::Host, error| ScriptFailure { error, matched: h.matched(), changed: h.changed() };
    let _slot = tokio::select! {
        slot = SLOTS.acquire() => slot.expect("script slots are never closed"),
        _ = host.stop.cancelled() => {
            let e = ScriptError {
                kind: ScriptErrorKind::Limit,
                origin: origin.to_string(),
                line: None,
                column: None,
                message: "script stopped: the run was cancelled".into(),
                source_line: None,
            };
            return Err(failure(&host, e));
        }
    };
    let h = host.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let _entered = host::enter(h.clone());
        let mut scope = Scope::new();
        let args: Map = args.into_iter().map(|(k, v)| (k.into(), Dynamic::from(v))).collect();
        scope.push_constant("ARGS", args);
        engine::engine().eval_ast_with_scope::<Dynamic>(&mut scope, &h.ast)
    })
    .await;
    let value = match outcome {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => return Err(failure(&host, ScriptError::from_eval(&e, &source, origin))),
        Err(join) => {
            let e = ScriptError {
                kind: ScriptErrorKind::Runtime,
                origin: origin.to_string(),
                line: None,
                column: None,
                message: format!("script thread failed: {join}"),
                source_line: None,
            };
            return Err(failure(&host, e));
        }
    };
    let value = if value.is_unit() {
        serde_json::Value::Null
    } else {
        rhai::serde::from_dynamic(&value)
            .map_err(|e| failure(&host, ScriptError::from_eval(&e, &source, origin)))?
    };
    Ok(ScriptResult { value, matched: host.matched(), changed: host.changed() })
}

/// Default wall-clock limit of a script.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// One binding, for `explain --script`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BindingDoc {
    pub area: String,
    pub signature: String,
    pub doc: String,
}

/// Every binding (not Rhai's standard library) with its signature and one-line doc, read from
/// the engine's registration metadata, grouped by area and sorted by name.
pub fn binding_docs() -> Vec<BindingDoc> {
    let json = engine::engine().gen_fn_metadata_to_json(false).expect("function metadata serializes");
    let value: serde_json::Value = serde_json::from_str(&json).expect("function metadata is JSON");
    let mut docs: Vec<BindingDoc> = value["functions"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|f| {
            let comments: Vec<&str> =
                f["docComments"].as_array()?.iter().filter_map(|c| c.as_str()).collect();
            let text = comments.join("\n");
            let mut area = String::new();
            let mut doc = Vec::new();
            for line in text.lines() {
                if let Some(a) = line.strip_prefix(bindings::AREA_TAG) {
                    area = a.trim().to_string();
                } else {
                    doc.push(line.trim_start_matches("///").trim());
                }
            }
            (!area.is_empty()).then(|| BindingDoc {
                area,
                signature: f["signature"].as_str().unwrap_or_default().to_string(),
                doc: doc.join(" "),
            })
        })
        .collect();
    docs.sort_by(|a, b| (&a.area, &a.signature).cmp(&(&b.area, &b.signature)));
    docs
}

/// The bindings reference, as `kubectl pearl explain --script` prints it.
pub fn bindings_help() -> String {
    let mut out = String::from(
        "Rhai bindings (scripts also get the constant map ARGS from --arg key=value / `args:`)\n",
    );
    let mut area = "";
    let docs = binding_docs();
    for d in &docs {
        if d.area != area {
            out.push_str(&format!("\n{}:\n", d.area));
            area = &d.area;
        }
        out.push_str(&format!("  {}\n      {}\n", d.signature, d.doc));
    }
    out
}
