//! Running declared tasks from a script, and running a closure over an array concurrently.

use std::sync::Arc;

use futures::StreamExt;
use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Map, Position};
use serde_json::Value;

use super::{Registrar, Res, to_dyn, to_json};
use crate::script::host::{self, runtime_error};
use crate::tasks::{Params, Targets, TaskCx, TaskError, TaskOutput, registry};

/// The namespaces a submitted task names: `namespace`, `namespaces`, `shipsNamespace` (the
/// seed's spelling) or `allNamespaces: true`; the script's own targets when none is given.
fn targets_of(task: &serde_json::Map<String, Value>, default: &Targets) -> Res<Targets> {
    if task.get("allNamespaces").and_then(Value::as_bool) == Some(true) {
        return Ok(Targets::All);
    }
    let one = task.get("namespace").or_else(|| task.get("shipsNamespace"));
    let names: Vec<String> = match (one, task.get("namespaces")) {
        (Some(_), Some(_)) => {
            return Err(runtime_error("run_task: give `namespace` or `namespaces`, not both"));
        }
        (Some(Value::String(ns)), None) => vec![ns.clone()],
        (None, Some(Value::Array(list))) => list
            .iter()
            .map(|v| v.as_str().map(String::from))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| runtime_error("run_task: `namespaces` must be a list of strings"))?,
        (None, None) => return Ok(default.clone()),
        _ => return Err(runtime_error("run_task: `namespace` must be a string, `namespaces` a list")),
    };
    if names.iter().any(|n| n == "*") {
        return Ok(Targets::All);
    }
    Ok(Targets::Namespaces(names))
}

const TASK_KEYS: &[&str] =
    &["type", "name", "namespace", "namespaces", "shipsNamespace", "allNamespaces", "parameters"];

fn output_map(map: &mut Map, out: &TaskOutput) -> Res<()> {
    map.insert("matched".into(), Dynamic::from(out.matched as rhai::INT));
    map.insert("changed".into(), Dynamic::from(out.changed as rhai::INT));
    map.insert("message".into(), Dynamic::from(out.message.clone()));
    map.insert("items".into(), to_dyn(&out.items)?);
    Ok(())
}

/// Submit a task (a map shaped like a task in a file) to the shared pool and wait for it.
fn run_task(task: Map) -> Res<Map> {
    let h = host::current()?;
    let json = to_json(&Dynamic::from_map(task))?;
    let Value::Object(task) = json else { unreachable!("a map converts to a JSON object") };
    if let Some(unknown) = task.keys().find(|k| !TASK_KEYS.contains(&k.as_str())) {
        return Err(runtime_error(format!(
            "run_task: unknown field `{unknown}` (a task has: {})",
            TASK_KEYS.join(", ")
        )));
    }
    let type_name = task
        .get("type")
        .and_then(Value::as_str)
        .ok_or_else(|| runtime_error("run_task: the task needs a `type` (a string)"))?;
    let reg = registry();
    let Some(kind) = reg.get(type_name) else {
        let hint = reg.suggest(type_name).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
        return Err(runtime_error(format!("run_task: unknown task type `{type_name}`{hint}")));
    };
    if kind.name() == "script" {
        return Err(runtime_error("run_task: a script cannot submit a `script` task"));
    }
    let name = task
        .get("name")
        .and_then(Value::as_str)
        .map(String::from)
        .unwrap_or_else(|| format!("{}/{}", h.cx.task, kind.name()));
    let empty = serde_json::Map::new();
    let params_json = match task.get("parameters") {
        None => &empty,
        Some(Value::Object(p)) => p,
        Some(_) => return Err(runtime_error(format!("run_task {name}: `parameters` must be a map"))),
    };
    let params = Params::from_json(kind.params(), params_json).map_err(|problems| {
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        runtime_error(format!("run_task {name} ({}): {}", kind.name(), text.join("; ")))
    })?;
    kind.check(&params).map_err(|m| runtime_error(format!("run_task {name} ({}): {m}", kind.name())))?;
    let targets = targets_of(&task, &h.cx.targets)?;
    let cx = TaskCx::new(
        name.clone(),
        h.cx.cluster.clone(),
        h.cx.pool.clone(),
        h.cx.retry.clone(),
        targets,
        h.cx.safety.clone(),
    );
    let result = h.block_raw(kind.run(&cx, &params))?;
    let mut map = Map::new();
    map.insert("name".into(), Dynamic::from(name));
    map.insert("type".into(), Dynamic::from(kind.name().to_string()));
    map.insert("attempts".into(), Dynamic::from(cx.attempts() as rhai::INT));
    match result {
        Ok(out) => {
            h.add_matched(out.matched);
            h.add_changed(out.changed);
            map.insert("ok".into(), Dynamic::TRUE);
            map.insert("error".into(), Dynamic::UNIT);
            output_map(&mut map, &out)?;
        }
        Err(e) => {
            let out = e.output().cloned().unwrap_or_default();
            h.add_changed(out.changed);
            map.insert("ok".into(), Dynamic::FALSE);
            map.insert("error".into(), Dynamic::from(e.to_string()));
            output_map(&mut map, &out)?;
            if let TaskError::Ops(crate::ops::OpsError::Cancelled { .. }) = e {
                return Err(host::task_error(&e));
            }
        }
    }
    Ok(map)
}

/// Call `f(item)` for every item, up to `--workers` at once, each on its own thread; results in
/// item order. The first error ends it (naming the item). Cluster calls inside `f` go through
/// the pool as usual, so the pool's limits hold (this helper holds no pool slot itself, so a
/// closure calling bindings cannot deadlock the pool).
fn parallel(items: Array, f: FnPtr) -> Res<Array> {
    let h = host::current()?;
    let workers = h.cx.pool.workers().max(1);
    let f = Arc::new(f);
    let results: Vec<Res<Dynamic>> = h.block_raw(async {
        futures::stream::iter(items.into_iter().map(|item| {
            let h = h.clone();
            let f = f.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    let _entered = host::enter(h.clone());
                    f.call::<Dynamic>(crate::script::engine::engine(), &h.ast, (item,))
                })
                .await
                .unwrap_or_else(|e| Err(runtime_error(format!("parallel: a closure panicked: {e}"))))
            }
        }))
        .buffered(workers)
        .collect()
        .await
    })?;
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.map_err(|e| match *e {
                EvalAltResult::ErrorTerminated(..) => e,
                other => Box::new(EvalAltResult::ErrorInFunctionCall(
                    format!("parallel (item {i})"),
                    String::new(),
                    Box::new(other),
                    Position::NONE,
                )),
            })
        })
        .collect()
}

pub fn register(r: &mut Registrar) {
    r.func(
        "run_task",
        &["task: Map"],
        "Map",
        "Run a declared task (#{type, namespace|namespaces, parameters}) on the shared pool; returns {ok, matched, changed, message, items, error}.",
        run_task,
    )
    .func(
        "parallel",
        &["items: Array", "f: FnPtr"],
        "Array",
        "Call f(item) for every item, --workers at a time; results in item order.",
        parallel,
    );
}
