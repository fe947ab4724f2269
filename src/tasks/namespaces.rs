//! Task type `delete-namespace`: delete namespaces by name or label selector under pearl's
//! safety rules (see `crate::ops::namespaces`): `--protect` globs and `kube-node-lease` are
//! refused unless `--force`, one confirmation for the whole task unless `--yes` (refused without a
//! terminal), the API server's own refusal for default/kube-system/kube-public reported as such,
//! and an optional watch until every deleted namespace is gone.

use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::{
    MAX_OBJECTS, ParamDef, ParamKind, Params, TaskCx, TaskError, TaskOutput, TaskType, check_blast_radius,
};
use crate::ops::OpsError;
use crate::ops::namespaces::{self, NamespaceDeletion};

/// The task types this module registers.
pub fn types() -> Vec<&'static dyn TaskType> {
    vec![&DeleteNamespace]
}

static DELETE_PARAMS: &[ParamDef] = &[
    ParamDef::new("names", ParamKind::StringList, "Namespaces to delete (give `names` or `selector`)")
        .example("[e2e-1234, e2e-1235]"),
    ParamDef::new(
        "selector",
        ParamKind::String,
        "Delete every namespace whose labels match this label selector",
    )
    .aliases(&["labelSelector"])
    .example("pearl.dev/ephemeral=true"),
    ParamDef::new("wait", ParamKind::Bool, "Wait until every deleted namespace is gone (finalized)")
        .default("false")
        .example("true"),
    ParamDef::new("timeout", ParamKind::Duration, "How long `wait` may take, for all namespaces together")
        .default("5m")
        .example("10m"),
    MAX_OBJECTS,
];

/// `delete-namespace`.
pub struct DeleteNamespace;

impl TaskType for DeleteNamespace {
    fn name(&self) -> &'static str {
        "delete-namespace"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["delete-namespaces"]
    }
    fn summary(&self) -> &'static str {
        "Delete namespaces by name or selector; asks first unless --yes, refuses --protect patterns unless --force"
    }
    fn params(&self) -> &'static [ParamDef] {
        DELETE_PARAMS
    }
    fn mutating(&self) -> bool {
        true
    }
    fn example(&self) -> &'static str {
        "- name: drop-e2e\n  type: delete-namespace\n  parameters:\n    selector: pearl.dev/ephemeral=true\n    maxObjects: 20\n    wait: true\n    timeout: 5m\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        match (params.string_list("names"), params.str("selector")) {
            (Some(_), Some(_)) => Err("give `names` or `selector`, not both".into()),
            (None, None) => {
                Err("give `names` (a list) or `selector` to choose the namespaces to delete".into())
            }
            (Some(names), None) if names.is_empty() => Err("`names` is empty".into()),
            (Some(names), None) if names.iter().any(|n| n.trim().is_empty()) => {
                Err("`names` holds an empty name".into())
            }
            (None, Some(sel)) if sel.trim().is_empty() => {
                Err("`selector` is empty: it would select every namespace; list them in `names`".into())
            }
            _ => Ok(()),
        }
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(run_delete(cx, params))
    }
}

async fn run_delete(cx: &TaskCx, params: &Params) -> Result<TaskOutput, TaskError> {
    let names: Vec<String> = match params.string_list("names") {
        Some(names) => names,
        None => {
            let selector = params.str("selector");
            let found = cx.unit(|_| namespaces::list(&cx.cluster, selector)).await?;
            found.into_iter().map(|n| n.name).collect()
        }
    };
    check_blast_radius(params, names.len(), "namespaces")?;
    if names.is_empty() {
        return Ok(TaskOutput {
            message: "no namespace matches: nothing to delete".into(),
            ..TaskOutput::default()
        });
    }
    // Refuse before asking and before deleting anything: a task deletes all it names or none.
    let refusals: Vec<String> =
        names.iter().filter_map(|n| namespaces::deletion_verdict(n, &cx.safety).err()).collect();
    if !refusals.is_empty() {
        return Err(TaskError::Check {
            message: format!("refusing to delete: {}; nothing was deleted", refusals.join("; ")),
            output: TaskOutput { matched: names.len(), ..TaskOutput::default() },
        });
    }
    let dry = cx.cluster.dry_run.is_client() || cx.cluster.dry_run.is_server();
    if !dry {
        let action = match names.as_slice() {
            [one] => format!("delete namespace {one}"),
            many => format!("delete {} namespaces: {}", many.len(), many.join(", ")),
        };
        namespaces::confirm(&cx.safety, &action).await?;
    }
    let mut results: Vec<Result<NamespaceDeletion, OpsError>> = cx
        .each(
            names.clone(),
            |name, _| async move { namespaces::delete(&cx.cluster, &name, &cx.safety).await },
        )
        .await;

    let wait = params.bool("wait").unwrap_or(false) && !dry;
    if wait {
        let timeout = params.duration("timeout").unwrap_or(Duration::from_secs(300));
        let deadline = Instant::now() + timeout;
        let cancel = cx.pool.stop_token();
        let pending: Vec<(usize, String, String)> = results
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().ok().map(|d| (i, d.name.clone(), d.uid.clone())))
            .collect();
        let waits: Vec<(usize, Result<(), OpsError>)> = futures::stream::iter(pending)
            .map(|(i, name, uid)| {
                let cancel = &cancel;
                async move {
                    let left = deadline.saturating_duration_since(Instant::now());
                    (i, namespaces::wait_deleted(&cx.cluster, &name, Some(&uid), left, cancel).await)
                }
            })
            .buffer_unordered(cx.pool.workers().max(1))
            .collect()
            .await;
        for (i, r) in waits {
            if let Err(e) = r {
                results[i] = Err(overall_timeout(e, timeout));
            }
        }
    }

    let mut output = TaskOutput { matched: names.len(), ..TaskOutput::default() };
    for d in results.iter().flatten() {
        output.changed += 1;
        let mut item = serde_json::to_value(d).unwrap_or(Value::Null);
        item["gone"] = json!(wait);
        output.items.push(item);
    }
    let prefix = if dry { "(dry run) would delete" } else { "deleted" };
    output.message = format!("{prefix} {} of {} namespaces", output.changed, output.matched);
    if wait {
        output.message.push_str(", all gone");
    }
    TaskError::collect(results, output)
}

/// Waits share one deadline, so each times out after what was left of it: report the
/// task's whole `timeout`, which is what the user set.
fn overall_timeout(e: OpsError, timeout: Duration) -> OpsError {
    match e {
        OpsError::Timeout { op, object, message, .. } => {
            OpsError::Timeout { op, object, after: timeout, message }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(v: Value) -> Result<(), String> {
        let p = Params::from_json(DELETE_PARAMS, v.as_object().unwrap())
            .map_err(|e| e.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))?;
        DeleteNamespace.check(&p)
    }

    #[test]
    fn names_or_selector_but_never_everything() {
        assert!(check(json!({"names": ["a"]})).is_ok());
        assert!(check(json!({"selector": "team=x"})).is_ok());
        assert!(check(json!({})).unwrap_err().contains("give `names`"));
        assert!(check(json!({"names": ["a"], "selector": "x=y"})).unwrap_err().contains("not both"));
        assert!(check(json!({"selector": " "})).unwrap_err().contains("every namespace"));
        assert!(check(json!({"names": []})).unwrap_err().contains("empty"));
    }
}
