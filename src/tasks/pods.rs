//! Task types for pods: `list-pods`, `check-pod-health`, `label-pods`, `annotate-pods`,
//! `delete-pods` and `wait-pods`. The seed's names (`CrewGetPodsTaskRunner`, `GetPods`,
//! `CrewCheckHealthPods`, `CrewWriteLabelPods`) are aliases, and so are its parameter names
//! (`labelSelector`, `podName`, `labelKey`/`labelValue`). The cluster work is `crate::ops::pods`,
//! `ops::wait`; per-pod fan-out runs on the shared pool through `cx.each`.
//!
//! Selection: `name` (one pod) or `selector` (label selector), plus an optional `fieldSelector`;
//! with neither name nor selector, every pod of the task's namespaces is selected (the seed's
//! `label-all-pods`) — `maxObjects` bounds what a mutating task may touch.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::BoxFuture;
use serde_json::{Value, json};

use super::check_blast_radius;
use super::{Items, MAX_OBJECTS, ParamDef, ParamKind, Params, TaskCx, TaskError, TaskOutput, TaskType};
use crate::ops::pods::{
    self, DeleteOutcome, HealthRules, MetaChange, MetaField, MetaOutcome, PodInfo, PodMeta, PodSelector,
};
use crate::ops::wait::{self, PodCondition, WaitSpec};
use crate::ops::{OpsError, object};

/// The task types this module registers.
pub fn types() -> Vec<&'static dyn TaskType> {
    vec![&ListPods, &CheckPodHealth, &LabelPods, &AnnotatePods, &DeletePods, &WaitPods]
}

// ----------------------------------------------------------------------------- parameters

const NAME: ParamDef =
    ParamDef::new("name", ParamKind::String, "One pod by name (give `name` or `selector`, not both)")
        .aliases(&["podName"])
        .example("web-0");
const SELECTOR: ParamDef = ParamDef::new(
    "selector",
    ParamKind::String,
    "Label selector choosing pods in the task's namespaces (kubectl syntax)",
)
.aliases(&["labelSelector"])
.example("app=web,tier!=cache");
const FIELD_SELECTOR: ParamDef = ParamDef::new(
    "fieldSelector",
    ParamKind::String,
    "Field selector narrowing the pods further (status.phase, spec.nodeName, ...)",
)
.example("status.phase=Running");
const LIMIT: ParamDef =
    ParamDef::new("limit", ParamKind::Int, "At most this many pods in all (all pages are read up to it)")
        .example("10");
const REMOVE: ParamDef =
    ParamDef::new("remove", ParamKind::StringList, "Keys to remove (pods without them are left alone)")
        .example("[canary, old-key]");

static LIST_PARAMS: &[ParamDef] = &[NAME, SELECTOR, FIELD_SELECTOR, LIMIT];

static HEALTH_PARAMS: &[ParamDef] = &[
    NAME,
    SELECTOR,
    FIELD_SELECTOR,
    LIMIT,
    ParamDef::new(
        "maxRestarts",
        ParamKind::Int,
        "A container that restarted more often than this makes its pod unhealthy (unset: restarts alone do not)",
    )
    .example("5"),
    ParamDef::new("reportOnly", ParamKind::Bool, "Report unhealthy pods without failing the task")
        .default("false")
        .example("true"),
    ParamDef::new(
        "show",
        ParamKind::Enum(&["all", "unhealthy"]),
        "Which pods to list in the task's items: every pod's verdict, or only the unhealthy ones",
    )
    .default("all")
    .example("unhealthy"),
];

static LABEL_PARAMS: &[ParamDef] = &[
    NAME,
    SELECTOR,
    FIELD_SELECTOR,
    ParamDef::new("labels", ParamKind::StringMap, "Labels to set").example("{env: production, tier: web}"),
    ParamDef::new("labelKey", ParamKind::String, "One label key to set (the seed's form; with `labelValue`)")
        .example("environment"),
    ParamDef::new("labelValue", ParamKind::String, "The value for `labelKey`").example("production"),
    REMOVE,
    MAX_OBJECTS,
];

static ANNOTATE_PARAMS: &[ParamDef] = &[
    NAME,
    SELECTOR,
    FIELD_SELECTOR,
    ParamDef::new("annotations", ParamKind::StringMap, "Annotations to set")
        .example("{owner: team-a, example.com/ticket: OPS-12}"),
    ParamDef::new("annotationKey", ParamKind::String, "One annotation key to set (with `annotationValue`)")
        .example("owner"),
    ParamDef::new("annotationValue", ParamKind::String, "The value for `annotationKey`").example("team-a"),
    REMOVE,
    MAX_OBJECTS,
];

static DELETE_PARAMS: &[ParamDef] = &[
    NAME,
    SELECTOR,
    FIELD_SELECTOR,
    ParamDef::new(
        "gracePeriodSeconds",
        ParamKind::Int,
        "Seconds the pods get to stop (0 = at once; unset: each pod's own terminationGracePeriodSeconds)",
    )
    .aliases(&["gracePeriod"])
    .example("30"),
    MAX_OBJECTS,
];

static WAIT_PARAMS: &[ParamDef] = &[
    NAME,
    SELECTOR,
    FIELD_SELECTOR,
    ParamDef::new(
        "for",
        ParamKind::Any,
        "The condition, or a list of conditions any of which will do: Ready, Running, Succeeded, Failed, \
         Completed, Deleted, CrashLoopBackOff, ImagePullBackOff",
    )
    .default("Ready")
    .example("[Succeeded, Failed]"),
    ParamDef::new(
        "failOn",
        ParamKind::Any,
        "Fail at once when a pod meets one of these (default: Failed, unless Failed or Completed is awaited)",
    )
    .example("[Failed, CrashLoopBackOff, ImagePullBackOff]"),
    ParamDef::new(
        "count",
        ParamKind::Int,
        "At least this many pods must match before the wait can succeed (pods created later count)",
    )
    .default("1")
    .example("3"),
    ParamDef::new("timeout", ParamKind::Duration, "How long to wait").default("5m").example("90s"),
];

// ----------------------------------------------------------------------------- shared helpers

fn selector_of(params: &Params) -> PodSelector {
    PodSelector {
        name: params.str("name").map(str::to_string),
        label_selector: params.str("selector").map(str::to_string),
        field_selector: params.str("fieldSelector").map(str::to_string),
        limit: params.int("limit").and_then(|l| usize::try_from(l).ok()),
    }
}

fn not_both_name_and_selector(params: &Params) -> Result<(), String> {
    if params.has("name") && params.has("selector") {
        return Err("give `name` (one pod) or `selector`, not both".into());
    }
    if params.str("name").is_some_and(|n| n.trim().is_empty()) {
        return Err("`name` is empty".into());
    }
    Ok(())
}

fn dry_prefix(cx: &TaskCx) -> &'static str {
    if cx.cluster.dry_run.is_client() || cx.cluster.dry_run.is_server() { "(dry run) " } else { "" }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "pod" } else { "pods" }
}

/// Whether `key` is a valid label/annotation key: an optional DNS-subdomain prefix and `/`,
/// then a name of at most 63 characters, alphanumeric at both ends, `-`, `_`, `.` inside.
pub fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        let ok_label = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if p.is_empty() || p.len() > 253 || !p.split('.').all(ok_label) {
            return Err(format!("key `{key}`: prefix `{p}` must be a DNS subdomain (example.com)"));
        }
    }
    if name.is_empty() || name.len() > 63 || !is_name_chars(name) {
        return Err(format!(
            "key `{key}`: the name part must be 1-63 characters, alphanumeric at both ends, with - _ . inside"
        ));
    }
    Ok(())
}

/// Whether `value` is a valid label value (empty, or like a key's name part).
pub fn check_label_value(key: &str, value: &str) -> Result<(), String> {
    if value.is_empty() || (value.len() <= 63 && is_name_chars(value)) {
        Ok(())
    } else {
        Err(format!(
            "label `{key}`: value `{value}` must be at most 63 characters, alphanumeric at both ends, with - _ . inside"
        ))
    }
}

fn is_name_chars(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
}

/// The change a label/annotate task asks for, from its map, single key/value and `remove`.
fn meta_change(params: &Params, field: MetaField) -> Result<MetaChange, String> {
    let (map, key, value) = match field {
        MetaField::Labels => ("labels", "labelKey", "labelValue"),
        MetaField::Annotations => ("annotations", "annotationKey", "annotationValue"),
    };
    let mut set = params.string_map(map).unwrap_or_default();
    match (params.str(key), params.str(value)) {
        (Some(k), Some(v)) => {
            if set.get(k).is_some_and(|old| old != v) {
                return Err(format!("`{key}: {k}` and `{map}` set `{k}` to different values"));
            }
            set.insert(k.to_string(), v.to_string());
        }
        (Some(_), None) => return Err(format!("`{key}` needs `{value}`")),
        (None, Some(_)) => return Err(format!("`{value}` needs `{key}`")),
        (None, None) => {}
    }
    let remove: BTreeSet<String> = params.string_list("remove").unwrap_or_default().into_iter().collect();
    if let Some(k) = remove.iter().find(|k| set.contains_key(*k)) {
        return Err(format!("`{k}` is both set and removed"));
    }
    for (k, v) in &set {
        check_key(k)?;
        if field == MetaField::Labels {
            check_label_value(k, v)?;
        }
    }
    for k in &remove {
        check_key(k)?;
    }
    let change = MetaChange { set, remove };
    if change.is_empty() {
        return Err(format!("nothing to do: give `{map}`, `{key}`/`{value}` or `remove`"));
    }
    Ok(change)
}

/// Parse `for`/`failOn`: one condition name or a list of them.
fn conditions(params: &Params, name: &str) -> Result<Option<Vec<PodCondition>>, String> {
    let Some(value) = params.raw(name) else { return Ok(None) };
    let texts: Vec<&str> = match value {
        Value::String(s) => s.split(['|', ',']).map(str::trim).filter(|s| !s.is_empty()).collect(),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().ok_or_else(|| format!("`{name}`: every item must be a condition name")))
            .collect::<Result<_, _>>()?,
        _ => return Err(format!("`{name}` must be a condition name or a list of them")),
    };
    if texts.is_empty() {
        return Err(format!("`{name}` names no condition"));
    }
    texts
        .into_iter()
        .map(|t| PodCondition::parse(t).map_err(|e| format!("`{name}`: {e}")))
        .collect::<Result<_, _>>()
        .map(Some)
}

// ----------------------------------------------------------------------------- list-pods

/// `list-pods`: the selected pods, each summarised ([`PodInfo`]).
pub struct ListPods;

impl TaskType for ListPods {
    fn name(&self) -> &'static str {
        "list-pods"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["CrewGetPodsTaskRunner", "GetPods", "get-pods"]
    }
    fn summary(&self) -> &'static str {
        "List pods by name, label and field selector over every page, with phase, readiness and restarts"
    }
    fn params(&self) -> &'static [ParamDef] {
        LIST_PARAMS
    }
    fn mutating(&self) -> bool {
        false
    }
    fn example(&self) -> &'static str {
        "- name: list-web-pods\n  type: list-pods\n  namespace: shop\n  parameters:\n    selector: app=web\n    fieldSelector: status.phase=Running\n    limit: 10\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        not_both_name_and_selector(params)?;
        match params.int("limit") {
            Some(l) if l < 1 => Err(format!("`limit` must be 1 or more, not {l}")),
            _ => Ok(()),
        }
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(async move {
            let selector = selector_of(params);
            let scopes = cx.targets.scopes();
            let (items, ready) = cx
                .unit(|_| {
                    let (selector, scopes) = (&selector, &scopes);
                    async move {
                        // Pages are summarised as they arrive and dropped; only the summaries
                        // (as compact JSON) are kept.
                        let (mut items, mut ready) = (Items::new(), 0);
                        let now = jiff::Timestamp::now();
                        pods::for_each_pod_page(&cx.cluster, scopes, selector, |page| {
                            for p in &page {
                                let info = PodInfo::from_pod_at(p, now);
                                ready += usize::from(info.ready);
                                items.push(&info);
                            }
                            Ok(())
                        })
                        .await?;
                        Ok((items, ready))
                    }
                })
                .await?;
            let message = format!("{} {} ({ready} ready)", items.len(), plural(items.len()));
            Ok(TaskOutput { matched: items.len(), changed: 0, message, items })
        })
    }
}

// ----------------------------------------------------------------------------- check-pod-health

/// `check-pod-health`: a verdict per pod; fails when any is unhealthy unless `reportOnly`.
pub struct CheckPodHealth;

#[derive(Default)]
struct HealthTally {
    total: usize,
    unhealthy: usize,
    items: Items,
    examples: Vec<String>,
}

impl TaskType for CheckPodHealth {
    fn name(&self) -> &'static str {
        "check-pod-health"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["CrewCheckHealthPods", "check-health-pods"]
    }
    fn summary(&self) -> &'static str {
        "Judge each selected pod healthy or not (phase, containers not ready, waiting reasons, restarts)"
    }
    fn params(&self) -> &'static [ParamDef] {
        HEALTH_PARAMS
    }
    fn mutating(&self) -> bool {
        false
    }
    fn example(&self) -> &'static str {
        "- name: web-healthy\n  type: check-pod-health\n  namespace: shop\n  parameters:\n    selector: app=web\n    maxRestarts: 5\n    reportOnly: false\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        not_both_name_and_selector(params)?;
        if let Some(l) = params.int("limit").filter(|l| *l < 1) {
            return Err(format!("`limit` must be 1 or more, not {l}"));
        }
        match params.int("maxRestarts") {
            Some(m) if m < 0 => Err(format!("`maxRestarts` must be 0 or more, not {m}")),
            _ => Ok(()),
        }
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(async move {
            let selector = selector_of(params);
            let scopes = cx.targets.scopes();
            let rules =
                HealthRules { max_restarts: params.int("maxRestarts").and_then(|m| i32::try_from(m).ok()) };
            let only_unhealthy = params.str("show") == Some("unhealthy");
            // Pages are judged as they arrive and dropped: only the verdicts are kept.
            let tally = cx
                .unit(|_| {
                    let (selector, scopes, rules) = (&selector, &scopes, &rules);
                    async move {
                        let mut t = HealthTally::default();
                        pods::for_each_pod_page(&cx.cluster, scopes, selector, |page| {
                            for p in &page {
                                let info = PodInfo::from_pod(p);
                                let v = pods::pod_health(&info, rules);
                                t.total += 1;
                                if !v.healthy {
                                    t.unhealthy += 1;
                                    if t.examples.len() < 3 {
                                        t.examples.push(format!(
                                            "{}: {}",
                                            object("pod", Some(&info.namespace), &info.name),
                                            v.summary()
                                        ));
                                    }
                                }
                                if !v.healthy || !only_unhealthy {
                                    t.items.push(json!({
                                        "namespace": info.namespace,
                                        "name": info.name,
                                        "healthy": v.healthy,
                                        "phase": info.phase,
                                        "ready": info.ready,
                                        "restarts": info.restarts,
                                        "reasons": v.reasons,
                                    }));
                                }
                            }
                            Ok(())
                        })
                        .await?;
                        Ok(t)
                    }
                })
                .await?;
            let healthy = tally.total - tally.unhealthy;
            let mut message = format!("{healthy} of {} {} healthy", tally.total, plural(tally.total));
            if tally.unhealthy > 0 {
                message.push_str(&format!("; {}", tally.examples.join("; ")));
                if tally.unhealthy > tally.examples.len() {
                    message.push_str(&format!("; and {} more", tally.unhealthy - tally.examples.len()));
                }
            }
            let output =
                TaskOutput { matched: tally.total, changed: 0, message: message.clone(), items: tally.items };
            if tally.unhealthy > 0 && !params.bool("reportOnly").unwrap_or(false) {
                return Err(TaskError::Check {
                    message: format!(
                        "{} of {} {} unhealthy: {}",
                        tally.unhealthy,
                        tally.total,
                        plural(tally.total),
                        tally.examples.join("; ")
                    ),
                    output,
                });
            }
            Ok(output)
        })
    }
}

// ----------------------------------------------------------------------------- label / annotate

/// List the selected pods' metadata, check the blast radius, then patch each on the pool.
async fn update_meta(cx: &TaskCx, params: &Params, field: MetaField) -> Result<TaskOutput, TaskError> {
    let change = meta_change(params, field).map_err(TaskError::Usage)?;
    let selector = PodSelector { limit: None, ..selector_of(params) };
    let scopes = cx.targets.scopes();
    let listed: Vec<PodMeta> = cx.unit(|_| pods::list_pod_meta(&cx.cluster, &scopes, &selector)).await?;
    if let (Some(name), true) = (&selector.name, listed.is_empty()) {
        let ns = scopes.first().copied().flatten();
        return Err(OpsError::Invalid {
            op: field.op(),
            object: object("pod", ns, name),
            message: "not found".into(),
        }
        .into());
    }
    check_blast_radius(params, listed.len(), plural(listed.len()))?;
    let change = &change;
    let results = cx
        .each(listed.clone(), |pod, attempt| async move {
            pods::update_pod_meta(&cx.cluster, &pod, field, change, attempt).await
        })
        .await;
    let mut output = TaskOutput { matched: listed.len(), ..TaskOutput::default() };
    let (mut unchanged, mut gone) = (0, 0);
    for update in results.iter().flatten() {
        match update.outcome {
            MetaOutcome::Changed | MetaOutcome::WouldChange => output.changed += 1,
            MetaOutcome::Unchanged => unchanged += 1,
            MetaOutcome::Gone => gone += 1,
        }
        let values = match field {
            MetaField::Labels => &update.pod.labels,
            MetaField::Annotations => &update.pod.annotations,
        };
        output.items.push(json!({
            "namespace": update.pod.namespace,
            "name": update.pod.name,
            "outcome": update.outcome,
            field.key(): values,
        }));
    }
    let verb = match field {
        MetaField::Labels => "labelled",
        MetaField::Annotations => "annotated",
    };
    output.message = format!(
        "{}{verb} {} of {} {}",
        dry_prefix(cx),
        output.changed,
        output.matched,
        plural(output.matched)
    );
    if unchanged > 0 {
        output.message.push_str(&format!(" ({unchanged} already had it: nothing sent)"));
    }
    if gone > 0 {
        output.message.push_str(&format!(" ({gone} deleted meanwhile)"));
    }
    TaskError::collect(results, output)
}

fn meta_check(params: &Params, field: MetaField) -> Result<(), String> {
    not_both_name_and_selector(params)?;
    meta_change(params, field).map(|_| ())
}

/// `label-pods`: set and remove labels on one pod or every selected pod.
pub struct LabelPods;

impl TaskType for LabelPods {
    fn name(&self) -> &'static str {
        "label-pods"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["CrewWriteLabelPods", "label-pod"]
    }
    fn summary(&self) -> &'static str {
        "Set or remove labels on pods; pods that already hold them get no request, changed pods are re-read"
    }
    fn params(&self) -> &'static [ParamDef] {
        LABEL_PARAMS
    }
    fn mutating(&self) -> bool {
        true
    }
    fn example(&self) -> &'static str {
        "- name: label-web\n  type: label-pods\n  namespace: shop\n  parameters:\n    selector: app=web\n    labels: {environment: production}\n    remove: [canary]\n    maxObjects: 500\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        meta_check(params, MetaField::Labels)
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(update_meta(cx, params, MetaField::Labels))
    }
}

/// `annotate-pods`: set and remove annotations on one pod or every selected pod.
pub struct AnnotatePods;

impl TaskType for AnnotatePods {
    fn name(&self) -> &'static str {
        "annotate-pods"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["annotate-pod"]
    }
    fn summary(&self) -> &'static str {
        "Set or remove annotations on pods; pods that already hold them get no request"
    }
    fn params(&self) -> &'static [ParamDef] {
        ANNOTATE_PARAMS
    }
    fn mutating(&self) -> bool {
        true
    }
    fn example(&self) -> &'static str {
        "- name: annotate-web\n  type: annotate-pods\n  namespace: shop\n  parameters:\n    selector: app=web\n    annotations: {owner: team-a}\n    remove: [example.com/old]\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        meta_check(params, MetaField::Annotations)
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(update_meta(cx, params, MetaField::Annotations))
    }
}

// ----------------------------------------------------------------------------- delete-pods

/// `delete-pods`: delete one pod or every selected pod.
pub struct DeletePods;

impl TaskType for DeletePods {
    fn name(&self) -> &'static str {
        "delete-pods"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["delete-pod"]
    }
    fn summary(&self) -> &'static str {
        "Delete pods by name or selector, with an optional grace period; pods already gone are not errors"
    }
    fn params(&self) -> &'static [ParamDef] {
        DELETE_PARAMS
    }
    fn mutating(&self) -> bool {
        true
    }
    fn example(&self) -> &'static str {
        "- name: recycle-web\n  type: delete-pods\n  namespace: shop\n  parameters:\n    selector: app=web\n    gracePeriodSeconds: 10\n    maxObjects: 20\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        not_both_name_and_selector(params)?;
        if !params.has("name") && !params.has("selector") && !params.has("fieldSelector") {
            return Err(
                "give `name`, `selector` or `fieldSelector` (`selector: \"\"` deletes every pod)".into()
            );
        }
        match params.int("gracePeriodSeconds") {
            Some(g) if g < 0 => Err(format!("`gracePeriodSeconds` must be 0 or more, not {g}")),
            _ => Ok(()),
        }
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(async move {
            let selector = PodSelector { limit: None, ..selector_of(params) };
            let grace = params.int("gracePeriodSeconds").and_then(|g| u32::try_from(g).ok());
            let scopes = cx.targets.scopes();
            let listed: Vec<PodMeta> =
                cx.unit(|_| pods::list_pod_meta(&cx.cluster, &scopes, &selector)).await?;
            if let (Some(name), true) = (&selector.name, listed.is_empty()) {
                let ns = scopes.first().copied().flatten();
                return Err(OpsError::Invalid {
                    op: "delete",
                    object: object("pod", ns, name),
                    message: "not found".into(),
                }
                .into());
            }
            check_blast_radius(params, listed.len(), plural(listed.len()))?;
            let results = cx
                .each(listed.clone(), |pod, _| async move {
                    let outcome =
                        pods::delete_pod(&cx.cluster, &pod.namespace, &pod.name, Some(&pod.uid), grace)
                            .await?;
                    Ok((pod, outcome))
                })
                .await;
            let mut output = TaskOutput { matched: listed.len(), ..TaskOutput::default() };
            let mut gone = 0;
            for (pod, outcome) in results.iter().flatten() {
                match outcome {
                    DeleteOutcome::Deleted | DeleteOutcome::WouldDelete => output.changed += 1,
                    DeleteOutcome::AlreadyGone => gone += 1,
                }
                output.items.push(json!({"namespace": pod.namespace, "name": pod.name, "outcome": outcome}));
            }
            output.message = format!(
                "{}deleted {} of {} {}",
                dry_prefix(cx),
                output.changed,
                output.matched,
                plural(output.matched)
            );
            if gone > 0 {
                output.message.push_str(&format!(" ({gone} already gone)"));
            }
            TaskError::collect(results, output)
        })
    }
}

// ----------------------------------------------------------------------------- wait-pods

/// `wait-pods`: watch until every selected pod meets any of the awaited conditions.
pub struct WaitPods;

fn wait_spec(params: &Params) -> Result<WaitSpec, String> {
    let any_of = conditions(params, "for")?.unwrap_or_else(|| vec![PodCondition::Ready]);
    let timeout = params.duration("timeout").unwrap_or(Duration::from_secs(300));
    let mut spec = WaitSpec::new(PodSelector { limit: None, ..selector_of(params) }, any_of, timeout);
    if let Some(fail_on) = conditions(params, "failOn")? {
        if let Some(c) = fail_on.iter().find(|c| spec.any_of.contains(c)) {
            return Err(format!("`{c}` is both awaited (`for`) and a failure (`failOn`)"));
        }
        spec.fail_on = fail_on;
    }
    if spec.any_of.contains(&PodCondition::Deleted) && spec.any_of.len() > 1 {
        return Err("`Deleted` cannot be combined with other conditions in `for`".into());
    }
    let count = params.int("count").unwrap_or(1);
    spec.min_pods = usize::try_from(count).map_err(|_| format!("`count` must be 0 or more, not {count}"))?;
    Ok(spec)
}

impl TaskType for WaitPods {
    fn name(&self) -> &'static str {
        "wait-pods"
    }
    fn aliases(&self) -> &'static [&'static str] {
        &["wait-pod"]
    }
    fn summary(&self) -> &'static str {
        "Watch pods until each is Ready, Succeeded, ... (any of several), failing fast on a failure condition"
    }
    fn params(&self) -> &'static [ParamDef] {
        WAIT_PARAMS
    }
    fn mutating(&self) -> bool {
        false
    }
    fn example(&self) -> &'static str {
        "- name: migration-done\n  type: wait-pods\n  namespace: shop\n  parameters:\n    selector: job-name=migrate\n    for: Succeeded\n    failOn: [Failed, CrashLoopBackOff]\n    timeout: 10m\n"
    }
    fn check(&self, params: &Params) -> Result<(), String> {
        not_both_name_and_selector(params)?;
        wait_spec(params).map(|_| ())
    }
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>> {
        Box::pin(async move {
            let spec = wait_spec(params).map_err(TaskError::Usage)?;
            let scopes = cx.targets.scopes();
            // A watch holds no worker slot: it sends nothing while it waits.
            let result = wait::wait_pods(&cx.cluster, &scopes, &spec, &cx.pool.stop_token()).await?;
            let n = result.pods.len();
            let wanted: Vec<&str> = spec.any_of.iter().map(|c| c.name()).collect();
            let message = format!(
                "{n} {} {} after {}",
                plural(n),
                wanted.join(" or "),
                humantime::format_duration(Duration::from_millis(result.elapsed.as_millis() as u64))
            );
            let items = result.pods.iter().map(|p| serde_json::to_value(p).unwrap_or(Value::Null)).collect();
            Ok(TaskOutput { matched: n, changed: 0, message, items })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(defs: &'static [ParamDef], v: Value) -> Params {
        Params::from_json(defs, v.as_object().unwrap()).unwrap()
    }

    #[test]
    fn seed_label_parameters_are_accepted() {
        let p = params(
            LABEL_PARAMS,
            json!({"podName": "web-0", "labelKey": "environment", "labelValue": "production"}),
        );
        assert_eq!(p.str("name"), Some("web-0"));
        let c = meta_change(&p, MetaField::Labels).unwrap();
        assert_eq!(c.set.get("environment").map(String::as_str), Some("production"));
        assert!(LabelPods.check(&p).is_ok());
        assert!(LabelPods.aliases().contains(&"CrewWriteLabelPods"));
        let p = params(
            LIST_PARAMS,
            json!({"labelSelector": "app=nginx", "fieldSelector": "status.phase=Running", "limit": 10}),
        );
        assert_eq!(selector_of(&p).label_selector.as_deref(), Some("app=nginx"));
        assert_eq!(selector_of(&p).limit, Some(10));
    }

    #[test]
    fn label_rules_across_parameters() {
        let bad = |v: Value| LabelPods.check(&params(LABEL_PARAMS, v)).unwrap_err();
        assert!(bad(json!({"name": "a", "selector": "x=y", "labels": {"a": "b"}})).contains("not both"));
        assert!(bad(json!({"labelKey": "a"})).contains("needs `labelValue`"));
        assert!(bad(json!({"labels": {"a": "b"}, "remove": ["a"]})).contains("both set and removed"));
        assert!(bad(json!({})).contains("nothing to do"));
        assert!(bad(json!({"labels": {"a": "has space"}})).contains("value `has space`"));
        assert!(bad(json!({"labels": {"-bad": "x"}})).contains("key `-bad`"));
        // Annotation values are free text.
        assert!(
            AnnotatePods
                .check(&params(ANNOTATE_PARAMS, json!({"annotations": {"note": "any text: ok"}})))
                .is_ok()
        );
    }

    #[test]
    fn keys_follow_kubernetes_syntax() {
        assert!(check_key("app").is_ok());
        assert!(check_key("example.com/tier").is_ok());
        assert!(check_key("kubectl.kubernetes.io/restartedAt").is_ok());
        assert!(check_key("Example.com/x").is_err());
        assert!(check_key("/x").is_err());
        assert!(check_key(&"a".repeat(64)).is_err());
        assert!(check_label_value("k", "").is_ok());
        assert!(check_label_value("k", "v1.2_x-y").is_ok());
        assert!(check_label_value("k", "-v").is_err());
    }

    #[test]
    fn wait_accepts_one_condition_or_any_of_a_list() {
        let s = wait_spec(&params(WAIT_PARAMS, json!({"selector": "a=b", "for": "Succeeded"}))).unwrap();
        assert_eq!(s.any_of, vec![PodCondition::Succeeded]);
        assert_eq!(s.fail_on, vec![PodCondition::Failed]);
        assert_eq!(s.timeout, Duration::from_secs(300));
        let s = wait_spec(&params(WAIT_PARAMS, json!({"for": ["Succeeded", "Failed"], "failOn": ["CrashLoopBackOff"], "count": 3, "timeout": "90s"}))).unwrap();
        assert_eq!(s.any_of, vec![PodCondition::Succeeded, PodCondition::Failed]);
        assert_eq!(s.fail_on, vec![PodCondition::CrashLoopBackOff]);
        assert_eq!(s.min_pods, 3);
        let s = wait_spec(&params(WAIT_PARAMS, json!({"for": "Succeeded|Failed"}))).unwrap();
        assert_eq!(s.any_of.len(), 2);
        assert!(
            wait_spec(&params(WAIT_PARAMS, json!({"for": "Redy"})))
                .unwrap_err()
                .contains("did you mean `Ready`")
        );
        assert!(
            wait_spec(&params(WAIT_PARAMS, json!({"for": "Ready", "failOn": "Ready"})))
                .unwrap_err()
                .contains("both awaited")
        );
    }

    #[test]
    fn delete_needs_a_selection() {
        assert!(DeletePods.check(&params(DELETE_PARAMS, json!({}))).unwrap_err().contains("give `name`"));
        assert!(DeletePods.check(&params(DELETE_PARAMS, json!({"selector": ""}))).is_ok());
        assert!(
            DeletePods.check(&params(DELETE_PARAMS, json!({"name": "a", "gracePeriodSeconds": -1}))).is_err()
        );
    }

    #[test]
    fn every_mutating_type_has_max_objects_and_examples_parse() {
        for t in types() {
            if t.mutating() {
                assert!(t.params().iter().any(|p| p.name == "maxObjects"), "{}", t.name());
            }
            let doc: Vec<serde_json::Map<String, Value>> = serde_saphyr::from_str(t.example()).unwrap();
            assert_eq!(doc[0]["type"], json!(t.name()));
            let params = doc[0]["parameters"].as_object().unwrap();
            let p = Params::from_json(t.params(), params).unwrap_or_else(|e| panic!("{}: {e:?}", t.name()));
            t.check(&p).unwrap_or_else(|e| panic!("{}: {e}", t.name()));
        }
    }
}
