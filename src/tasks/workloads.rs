//! Task types for Deployments and StatefulSets: `scale`, `set-image`, `rollout-restart`,
//! `scale-down-namespace` and `scale-up-namespace`. One type per operation with a `kind`
//! parameter (Deployment by default) rather than one type per kind: the seed's
//! `CrewScaleDeployments` and `CrewUpdateImageDeployments` are aliases of `scale` and
//! `set-image`, and their parameter names (`deploymentName`, `containerName`, `newImage`) are
//! accepted too. The cluster work is `crate::ops::workloads`; fan-out runs on the shared pool,
//! waits (watches) run after every change was sent, against one deadline.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use futures::future::BoxFuture;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::check_blast_radius;
use super::{MAX_OBJECTS, ParamDef, ParamKind, Params, Targets, TaskCx, TaskError, TaskOutput, TaskType};
use crate::ops::namespaces::deletion_verdict;
use crate::ops::workloads::{self, WaitFor, WorkloadInfo, WorkloadKind};
use crate::ops::{OpsError, object};

/// The task types this module registers.
pub fn types() -> Vec<&'static dyn TaskType> {
    vec![&Scale, &SetImage, &RolloutRestart, &ScaleDownNamespace, &ScaleUpNamespace]
}

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

const KIND: ParamDef = ParamDef::new(
    "kind",
    ParamKind::Enum(&["Deployment", "StatefulSet"]),
    "Which kind of workload to act on",
)
.default("Deployment")
.example("StatefulSet");
const NAME: ParamDef = ParamDef::new(
    "name",
    ParamKind::String,
    "The workload's name, in the task's one namespace (give `name` or `selector`)",
)
.aliases(&["deploymentName", "statefulSetName"])
.example("web");
const SELECTOR: ParamDef = ParamDef::new(
    "selector",
    ParamKind::String,
    "Label selector choosing workloads in the task's namespaces (give `name` or `selector`; \"\" selects all)",
)
.aliases(&["labelSelector"])
.example("app=web,tier!=cache");
const TIMEOUT: ParamDef = ParamDef::new(
    "timeout",
    ParamKind::Duration,
    "How long `wait` may take, for all selected workloads together",
)
.default("5m")
.example("90s");

static SCALE_PARAMS: &[ParamDef] = &[
    KIND,
    NAME,
    SELECTOR,
    ParamDef::new("replicas", ParamKind::Int, "The replica count to set (through the scale subresource)")
        .required()
        .example("3"),
    ParamDef::new("wait", ParamKind::Bool, "Wait until exactly `replicas` pods exist and all are ready")
        .default("false")
        .example("true"),
    TIMEOUT,
    MAX_OBJECTS,
];

static SET_IMAGE_PARAMS: &[ParamDef] = &[
    KIND,
    NAME,
    SELECTOR,
    ParamDef::new("container", ParamKind::String, "The container (or init container) whose image to set")
        .required()
        .aliases(&["containerName"])
        .example("app"),
    ParamDef::new("image", ParamKind::String, "The new image")
        .required()
        .aliases(&["newImage"])
        .example("nginx:1.27"),
    ParamDef::new(
        "wait",
        ParamKind::Bool,
        "Wait for the rollout to finish (observedGeneration, updated and available replicas)",
    )
    .default("false")
    .example("true"),
    TIMEOUT,
    MAX_OBJECTS,
];

static RESTART_PARAMS: &[ParamDef] = &[
    KIND,
    NAME,
    SELECTOR,
    ParamDef::new("wait", ParamKind::Bool, "Wait for the restart's rollout to finish")
        .default("false")
        .example("true"),
    TIMEOUT,
    MAX_OBJECTS,
];

const NS_KIND: ParamDef = ParamDef::new(
    "kind",
    ParamKind::Enum(&["Deployment", "StatefulSet"]),
    "Only this kind of workload (default: Deployments and StatefulSets)",
)
.example("Deployment");
const NS_SELECTOR: ParamDef =
    ParamDef::new("selector", ParamKind::String, "Only workloads whose own labels match this label selector")
        .aliases(&["labelSelector"])
        .example("tier=web");
const NS_SELECTORS: ParamDef = ParamDef::new(
    "selectors",
    ParamKind::Any,
    "The namespace-manager form: a list of {kind, labels}; a workload is chosen when any entry \
     matches (same kind if given, all the labels present on the workload)",
)
.example("[{kind: Deployment, labels: {tier: web}}, {kind: StatefulSet}]");

static SCALE_DOWN_PARAMS: &[ParamDef] = &[NS_KIND, NS_SELECTOR, NS_SELECTORS, MAX_OBJECTS];
static SCALE_UP_PARAMS: &[ParamDef] = &[NS_KIND, NS_SELECTOR, NS_SELECTORS, MAX_OBJECTS];

fn kind_of(params: &Params) -> WorkloadKind {
    params.str("kind").and_then(WorkloadKind::parse).unwrap_or(WorkloadKind::Deployment)
}

fn name_or_selector(params: &Params) -> Result<(), String> {
    match (params.has("name"), params.has("selector")) {
        (true, true) => Err("give `name` or `selector`, not both".into()),
        (false, false) => {
            Err("give `name` (one workload) or `selector` (\"\" for all in the namespaces)".into())
        }
        _ => Ok(()),
    }
}

fn dry_prefix(cx: &TaskCx) -> &'static str {
    if cx.cluster.dry_run.is_client() || cx.cluster.dry_run.is_server() { "(dry run) " } else { "" }
}

/// The workloads a task names or selects, read once (one GET, or one paged LIST per namespace).
async fn select(cx: &TaskCx, params: &Params) -> Result<Vec<WorkloadInfo>, TaskError> {
    let kind = kind_of(params);
    if let Some(name) = params.str("name") {
        let ns = cx.targets.single().map_err(TaskError::Usage)?;
        let w = cx.unit(|_| workloads::get(&cx.cluster, kind, ns, name)).await?;
        return Ok(vec![w]);
    }
    list_in_targets(cx, &[kind], params.str("selector")).await
}

async fn list_in_targets(
    cx: &TaskCx,
    kinds: &[WorkloadKind],
    selector: Option<&str>,
) -> Result<Vec<WorkloadInfo>, TaskError> {
    let scopes: Vec<(WorkloadKind, Option<String>)> = cx
        .targets
        .scopes()
        .into_iter()
        .flat_map(|scope| kinds.iter().map(move |k| (*k, scope.map(str::to_string))))
        .collect();
    let lists = cx
        .each(scopes, |(kind, scope), _| async move {
            workloads::list(&cx.cluster, kind, scope.as_deref(), selector).await
        })
        .await;
    let mut out = Vec::new();
    for list in lists {
        out.extend(list?);
    }
    Ok(out)
}

/// Apply `op` to every selected workload on the pool (after the blast-radius check), then,
/// when `wait` is set and something was really sent, watch each until `wait` holds. `op`
/// returns whether it changed the object and the item to report.
async fn apply<F, Fut>(
    cx: &TaskCx,
    params: &Params,
    selected: Vec<WorkloadInfo>,
    wait: Option<WaitFor>,
    verb: &str,
    op: F,
) -> Result<TaskOutput, TaskError>
where
    F: Fn(WorkloadInfo, u32) -> Fut,
    Fut: Future<Output = Result<(bool, Value), OpsError>>,
{
    let plural = plural_of(&selected, params);
    check_blast_radius(params, selected.len(), &plural)?;
    let mut results = cx.each(selected.clone(), op).await;
    let dry = cx.cluster.dry_run.is_client() || cx.cluster.dry_run.is_server();
    if let Some(until) = wait.filter(|_| !dry) {
        let timeout = params.duration("timeout").unwrap_or(DEFAULT_TIMEOUT);
        let deadline = Instant::now() + timeout;
        let cancel = cx.pool.stop_token();
        let pending: Vec<usize> = (0..selected.len()).filter(|i| results[*i].is_ok()).collect();
        let waits: Vec<(usize, Result<WorkloadInfo, OpsError>)> = futures::stream::iter(pending)
            .map(|i| {
                let (w, cancel) = (&selected[i], &cancel);
                async move {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let r = workloads::wait(&cx.cluster, w.kind, &w.namespace, &w.name, until, left, cancel)
                        .await;
                    (i, r)
                }
            })
            .buffer_unordered(cx.pool.workers().max(1))
            .collect()
            .await;
        for (i, r) in waits {
            match (r, &mut results[i]) {
                (Ok(info), Ok((_, item))) => {
                    item["ready"] = json!(format!("{}/{}", info.ready_replicas, info.replicas));
                }
                (Err(e), slot) => *slot = Err(overall_timeout(e, timeout)),
                (Ok(_), Err(_)) => {}
            }
        }
    }
    let mut output = TaskOutput { matched: selected.len(), ..TaskOutput::default() };
    for (changed, item) in results.iter().flatten() {
        output.changed += usize::from(*changed);
        output.items.push(item.clone());
    }
    let unchanged = output.items.len() - output.changed;
    output.message = format!("{}{verb} {} of {} {plural}", dry_prefix(cx), output.changed, output.matched);
    if unchanged > 0 {
        output.message.push_str(&format!(" ({unchanged} already as wanted: nothing sent)"));
    }
    if wait.is_some() && !dry {
        output.message.push_str(", waited");
    }
    TaskError::collect(results, output)
}

fn plural_of(selected: &[WorkloadInfo], params: &Params) -> String {
    let kinds: std::collections::BTreeSet<WorkloadKind> = selected.iter().map(|w| w.kind).collect();
    match kinds.len() {
        0 => params.str("kind").and_then(WorkloadKind::parse).map_or("workloads", |k| k.plural()).to_string(),
        1 => kinds.into_iter().next().expect("one kind").plural().to_string(),
        _ => "workloads".to_string(),
    }
}

/// The snapshot for attempt `attempt`: the listed one first, a fresh read after a failure
/// (a conflict means someone else changed it).
async fn fresh(cx: &TaskCx, w: WorkloadInfo, attempt: u32) -> Result<WorkloadInfo, OpsError> {
    if attempt <= 1 {
        return Ok(w);
    }
    workloads::get(&cx.cluster, w.kind, &w.namespace, &w.name).await
}

fn item<T: serde::Serialize>(change: &T) -> Value {
    serde_json::to_value(change).unwrap_or(Value::Null)
}

// ----------------------------------------------------------------------------- scale

/// `scale`: set the replica count of one workload or every one a selector matches.
pub struct Scale;

impl TaskType for Scale {
    fn name(&self) -> &'static str {
        "scale"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["CrewScaleDeployments", "scale-deployment"]
    }
    fn summary(&self) -> &'static str {
        "Scale Deployments or StatefulSets through the scale subresource, optionally waiting until ready"
    }
    fn params(&self) -> &'static [ParamDef] {
        SCALE_PARAMS
    }
    fn mutating(&self) -> bool {
        true
    }
    fn example(&self) -> &'static str {
        "- name: scale-web\n  type: scale\n  namespace: shop\n  parameters:\n    kind: Deployment\n    name: web\n    replicas: 3\n    wait: true\n    timeout: 2m\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        name_or_selector(params)?;
        match params.int("replicas") {
            Some(n) if n < 0 => Err(format!("`replicas` must be 0 or more, not {n}")),
            Some(n) if n > i64::from(i32::MAX) => Err(format!("`replicas` {n} is too large")),
            _ => Ok(()),
        }
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(async move {
            let replicas = params.int("replicas").unwrap_or_default() as i32;
            let wait = params.bool("wait").unwrap_or(false).then_some(WaitFor::Ready);
            let selected = select(cx, params).await?;
            apply(cx, params, selected, wait, "scaled", |w, attempt| async move {
                let w = fresh(cx, w, attempt).await?;
                let change = workloads::scale(&cx.cluster, &w, replicas).await?;
                Ok((change.changed, item(&change)))
            })
            .await
        })
    }
}

// ----------------------------------------------------------------------------- set-image

/// `set-image`: set one container's image.
pub struct SetImage;

impl TaskType for SetImage {
    fn name(&self) -> &'static str {
        "set-image"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["CrewUpdateImageDeployments", "update-image"]
    }
    fn summary(&self) -> &'static str {
        "Set a container's image in Deployments or StatefulSets, optionally waiting for the rollout"
    }
    fn params(&self) -> &'static [ParamDef] {
        SET_IMAGE_PARAMS
    }
    fn mutating(&self) -> bool {
        true
    }
    fn example(&self) -> &'static str {
        "- name: upgrade-web\n  type: set-image\n  namespace: shop\n  parameters:\n    name: web\n    container: app\n    image: registry.example.com/web:2.4.1\n    wait: true\n    timeout: 5m\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        name_or_selector(params)?;
        if params.str("image").is_some_and(|i| i.trim().is_empty()) {
            return Err("`image` must not be empty".into());
        }
        Ok(())
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(async move {
            let container = params.str("container").unwrap_or_default();
            let image = params.str("image").unwrap_or_default();
            let wait = params.bool("wait").unwrap_or(false).then_some(WaitFor::Rollout);
            let selected = select(cx, params).await?;
            apply(cx, params, selected, wait, "updated", |w, attempt| async move {
                let w = fresh(cx, w, attempt).await?;
                let change = workloads::set_image(&cx.cluster, &w, container, image).await?;
                Ok((change.changed, item(&change)))
            })
            .await
        })
    }
}

// ----------------------------------------------------------------------------- rollout-restart

/// `rollout-restart`: what `kubectl rollout restart` does.
pub struct RolloutRestart;

impl TaskType for RolloutRestart {
    fn name(&self) -> &'static str {
        "rollout-restart"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["restart"]
    }
    fn summary(&self) -> &'static str {
        "Restart the pods of Deployments or StatefulSets the way kubectl rollout restart does"
    }
    fn params(&self) -> &'static [ParamDef] {
        RESTART_PARAMS
    }
    fn mutating(&self) -> bool {
        true
    }
    fn example(&self) -> &'static str {
        "- name: restart-web\n  type: rollout-restart\n  namespace: shop\n  parameters:\n    selector: tier=web\n    wait: true\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        name_or_selector(params)
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(async move {
            // One time for the whole task, as kubectl uses one per invocation.
            let at = workloads::restart_timestamp(jiff::Timestamp::now());
            let at = at.as_str();
            let wait = params.bool("wait").unwrap_or(false).then_some(WaitFor::Rollout);
            let selected = select(cx, params).await?;
            apply(cx, params, selected, wait, "restarted", |w, attempt| async move {
                let w = fresh(cx, w, attempt).await?;
                let change = workloads::rollout_restart(&cx.cluster, &w, at).await?;
                Ok((change.changed, item(&change)))
            })
            .await
        })
    }
}

// ----------------------------------------------------------------------------- namespace-wide

/// One entry of the namespace-manager's `selectors`: a kind (any when `None`) and labels that
/// must all be present on the workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadSelector {
    pub kind: Option<WorkloadKind>,
    pub labels: BTreeMap<String, String>,
}

impl WorkloadSelector {
    pub fn matches(&self, w: &WorkloadInfo) -> bool {
        self.kind.is_none_or(|k| k == w.kind) && self.labels.iter().all(|(k, v)| w.labels.get(k) == Some(v))
    }
}

/// Parse `selectors: [{kind, labels}]`.
pub fn parse_selectors(value: &Value) -> Result<Vec<WorkloadSelector>, String> {
    let entries = value.as_array().ok_or("`selectors` must be a list of {kind, labels}")?;
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let map = entry
            .as_object()
            .ok_or_else(|| format!("`selectors[{i}]` must be a map with kind and labels"))?;
        let mut sel = WorkloadSelector { kind: None, labels: BTreeMap::new() };
        for (key, v) in map {
            match key.as_str() {
                "kind" => {
                    let text = v.as_str().ok_or_else(|| format!("`selectors[{i}].kind` must be a string"))?;
                    sel.kind = Some(WorkloadKind::parse(text).ok_or_else(|| {
                        format!("`selectors[{i}].kind`: `{text}` is not Deployment or StatefulSet")
                    })?);
                }
                "labels" => {
                    let labels = match v {
                        Value::Null => continue,
                        Value::Object(m) => m,
                        _ => return Err(format!("`selectors[{i}].labels` must be a map")),
                    };
                    for (k, lv) in labels {
                        let text = match lv {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.to_string(),
                            Value::Bool(b) => b.to_string(),
                            _ => return Err(format!("`selectors[{i}].labels.{k}` must be a string")),
                        };
                        sel.labels.insert(k.clone(), text);
                    }
                }
                other => {
                    return Err(format!("`selectors[{i}]`: unknown field `{other}` (expected kind, labels)"));
                }
            }
        }
        out.push(sel);
    }
    Ok(out)
}

fn check_namespace_selection(params: &Params) -> Result<(), String> {
    if let Some(v) = params.raw("selectors") {
        if params.has("kind") || params.has("selector") {
            return Err("give `selectors`, or `kind`/`selector`, not both".into());
        }
        parse_selectors(v)?;
    }
    Ok(())
}

/// The workloads of the task's namespaces chosen by `kind`/`selector` or `selectors`. Refuses
/// a named namespace that `--protect` (or pearl's own guard) covers unless `--force`; across
/// all namespaces, protected ones are left out and named in the returned list.
async fn select_in_namespaces(
    cx: &TaskCx,
    params: &Params,
    op: &'static str,
) -> Result<(Vec<WorkloadInfo>, Vec<String>), TaskError> {
    if let Targets::Namespaces(names) = &cx.targets {
        for ns in names {
            deletion_verdict(ns, &cx.safety).map_err(|message| OpsError::Invalid {
                op,
                object: object("namespace", None, ns),
                message,
            })?;
        }
    }
    let kinds: Vec<WorkloadKind> = match params.str("kind").and_then(WorkloadKind::parse) {
        Some(k) => vec![k],
        None => WorkloadKind::ALL.to_vec(),
    };
    let selectors = match params.raw("selectors") {
        Some(v) => Some(parse_selectors(v).map_err(TaskError::Usage)?),
        None => None,
    };
    let mut found = list_in_targets(cx, &kinds, params.str("selector")).await?;
    if let Some(selectors) = &selectors {
        found.retain(|w| selectors.iter().any(|s| s.matches(w)));
    }
    let mut skipped = Vec::new();
    if cx.targets == Targets::All && !cx.safety.force {
        found.retain(|w| {
            let keep = deletion_verdict(&w.namespace, &cx.safety).is_ok();
            if !keep && !skipped.contains(&w.namespace) {
                skipped.push(w.namespace.clone());
            }
            keep
        });
    }
    found.sort_by(|a, b| (&a.namespace, a.kind, &a.name).cmp(&(&b.namespace, b.kind, &b.name)));
    Ok((found, skipped))
}

fn note_skipped(output: &mut TaskOutput, skipped: &[String]) {
    if !skipped.is_empty() {
        output.message.push_str(&format!("; protected namespaces left alone: {}", skipped.join(", ")));
    }
}

/// `scale-down-namespace`: every chosen workload to 0, remembering its count.
pub struct ScaleDownNamespace;

impl TaskType for ScaleDownNamespace {
    fn name(&self) -> &'static str {
        "scale-down-namespace"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["SCALE_DOWN"]
    }
    fn summary(&self) -> &'static str {
        "Scale the namespaces' Deployments and StatefulSets to 0, remembering each count in an annotation"
    }
    fn params(&self) -> &'static [ParamDef] {
        SCALE_DOWN_PARAMS
    }
    fn mutating(&self) -> bool {
        true
    }
    fn example(&self) -> &'static str {
        "- name: park-e2e\n  type: scale-down-namespace\n  namespace: e2e-1234\n  parameters:\n    selectors:\n      - kind: Deployment\n        labels: {tier: web}\n      - kind: StatefulSet\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        check_namespace_selection(params)
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(async move {
            let (selected, skipped) = select_in_namespaces(cx, params, "scale down").await?;
            let result = apply(cx, params, selected, None, "scaled down", |w, attempt| async move {
                let w = fresh(cx, w, attempt).await?;
                let change = workloads::scale_down(&cx.cluster, &w).await?;
                Ok((change.changed, item(&change)))
            })
            .await;
            result.map(|mut out| {
                note_skipped(&mut out, &skipped);
                out
            })
        })
    }
}

/// `scale-up-namespace`: restore what `scale-down-namespace` remembered.
pub struct ScaleUpNamespace;

impl TaskType for ScaleUpNamespace {
    fn name(&self) -> &'static str {
        "scale-up-namespace"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["SCALE_UP"]
    }
    fn summary(&self) -> &'static str {
        "Restore the replica counts scale-down-namespace remembered, and remove its annotation"
    }
    fn params(&self) -> &'static [ParamDef] {
        SCALE_UP_PARAMS
    }
    fn mutating(&self) -> bool {
        true
    }
    fn example(&self) -> &'static str {
        "- name: unpark-e2e\n  type: scale-up-namespace\n  namespace: e2e-1234\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        check_namespace_selection(params)
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(async move {
            let (mut selected, skipped) = select_in_namespaces(cx, params, "scale up").await?;
            // Only what pearl scaled down has something to restore; the rest is not a match.
            selected.retain(|w| w.scaled_down_replicas().is_some());
            let result = apply(cx, params, selected, None, "scaled up", |w, attempt| async move {
                let w = fresh(cx, w, attempt).await?;
                let change = workloads::scale_up(&cx.cluster, &w).await?;
                Ok((change.changed, item(&change)))
            })
            .await;
            result.map(|mut out| {
                note_skipped(&mut out, &skipped);
                out
            })
        })
    }
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

    fn params(t: &dyn TaskType, v: Value) -> Result<Params, String> {
        let p = Params::from_json(t.params(), v.as_object().unwrap())
            .map_err(|e| e.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))?;
        t.check(&p)?;
        Ok(p)
    }

    #[test]
    fn seed_names_are_accepted() {
        let p = params(&Scale, json!({"deploymentName": "web", "replicas": 2})).unwrap();
        assert_eq!(p.str("name"), Some("web"));
        assert_eq!(p.str("kind"), Some("Deployment"));
        let p =
            params(&SetImage, json!({"deploymentName": "web", "containerName": "app", "newImage": "x:2"}))
                .unwrap();
        assert_eq!((p.str("container"), p.str("image")), (Some("app"), Some("x:2")));
    }

    #[test]
    fn name_or_selector_is_required_but_not_both() {
        let e = params(&Scale, json!({"replicas": 1})).unwrap_err();
        assert!(e.contains("give `name`"), "{e}");
        let e = params(&RolloutRestart, json!({"name": "a", "selector": "x=y"})).unwrap_err();
        assert!(e.contains("not both"), "{e}");
        assert!(params(&RolloutRestart, json!({"selector": ""})).is_ok());
        let e = params(&Scale, json!({"name": "a", "replicas": -1})).unwrap_err();
        assert!(e.contains("0 or more"), "{e}");
    }

    #[test]
    fn namespace_manager_selectors_parse_and_match() {
        let sels =
            parse_selectors(&json!([{"kind": "Deployment", "labels": {"tier": "web"}}, {"kind": "sts"}]))
                .unwrap();
        assert_eq!(
            sels[1],
            WorkloadSelector { kind: Some(WorkloadKind::StatefulSet), labels: BTreeMap::new() }
        );
        let w = |kind, labels: &[(&str, &str)]| {
            let o: kube::api::DynamicObject = serde_json::from_value(json!({
                "apiVersion": "apps/v1", "kind": kind,
                "metadata": {"name": "x", "labels": labels.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>()},
            }))
            .unwrap();
            WorkloadInfo::from_object(WorkloadKind::parse(kind).unwrap(), &o)
        };
        let any = |w: &WorkloadInfo| sels.iter().any(|s| s.matches(w));
        assert!(any(&w("Deployment", &[("tier", "web"), ("app", "a")])));
        assert!(!any(&w("Deployment", &[("tier", "db")])));
        assert!(any(&w("StatefulSet", &[])));
        assert!(parse_selectors(&json!([{"kind": "Pod"}])).unwrap_err().contains("not Deployment"));
        assert!(parse_selectors(&json!([{"knd": "Deployment"}])).unwrap_err().contains("unknown field"));
        let e = params(&ScaleDownNamespace, json!({"selectors": [], "kind": "Deployment"})).unwrap_err();
        assert!(e.contains("not both"), "{e}");
    }

    #[test]
    fn every_type_is_mutating_with_max_objects_and_documented() {
        for t in types() {
            assert!(t.mutating());
            assert!(t.params().iter().any(|p| p.name == "maxObjects"), "{}", t.name());
            assert!(t.example().contains(&format!("type: {}", t.name())), "{}", t.name());
            for p in t.params() {
                assert!(!p.example.is_empty(), "{}.{} has no example", t.name(), p.name);
            }
        }
    }
}
