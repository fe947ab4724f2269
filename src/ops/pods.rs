//! Pod operations: list (every page, or streamed page by page), get, label/annotate with a
//! resourceVersion precondition and re-read on conflict, delete, and the plain-data [`PodInfo`]
//! summary with its health verdict ([`pod_health`]) that task items and Rhai bindings share.
//!
//! Label and annotate never send a request for a pod that already holds what is asked, and send
//! a JSON merge patch of only the keys that differ, carrying the resourceVersion the pod was
//! listed at: a pod changed under us answers 409, the pool retries, and attempt 2+ re-reads the
//! pod first and recomputes the change (which may by then be nothing).

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, ObjectList, PartialObjectMeta, Patch};
use serde_json::{Map, Value, json};

use super::{Cluster, FIELD_MANAGER, OpsError, object};

/// Page size for every pod list: kubectl's `--chunk-size` default. Large enough to keep the
/// number of round trips low, small enough that one page of 20,000 pods is never held at once.
pub const PAGE_SIZE: u32 = 500;

/// Which pods an operation selects. All fields are optional; an empty selector selects every
/// pod of the namespace(s).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSelector {
    /// One pod by name (becomes the field selector `metadata.name=NAME`).
    pub name: Option<String>,
    /// A label selector as kubectl writes it (`app=web,tier!=db`).
    pub label_selector: Option<String>,
    /// A field selector (`status.phase=Running`, `spec.nodeName=n1`).
    pub field_selector: Option<String>,
    /// At most this many pods in total (over every namespace); `None` for all.
    pub limit: Option<usize>,
}

impl PodSelector {
    /// Every pod.
    pub fn all() -> Self {
        Self::default()
    }
    /// One pod by name.
    pub fn named(name: impl Into<String>) -> Self {
        Self { name: Some(name.into()), ..Self::default() }
    }
    /// Pods matching a label selector.
    pub fn labels(selector: impl Into<String>) -> Self {
        Self { label_selector: Some(selector.into()), ..Self::default() }
    }

    /// The field selector sent to the API server (the user's plus the name).
    pub fn fields(&self) -> Option<String> {
        let parts: Vec<String> = self
            .name
            .iter()
            .map(|n| format!("metadata.name={n}"))
            .chain(self.field_selector.iter().filter(|f| !f.trim().is_empty()).cloned())
            .collect();
        (!parts.is_empty()).then(|| parts.join(","))
    }

    fn list_params(&self, page: u32, continue_token: Option<&str>) -> ListParams {
        let mut lp = ListParams::default().limit(page);
        if let Some(l) = self.label_selector.as_deref().filter(|l| !l.trim().is_empty()) {
            lp = lp.labels(l);
        }
        if let Some(f) = self.fields() {
            lp = lp.fields(&f);
        }
        if let Some(token) = continue_token {
            lp = lp.continue_token(token);
        }
        lp
    }

    /// How the selection reads in messages: `pods matching app=web in namespace ns1`.
    pub fn describe(&self, scope: Option<&str>) -> String {
        let what = match (&self.name, &self.label_selector, &self.field_selector) {
            (Some(name), _, _) => return object("pod", scope, name),
            (None, Some(l), Some(f)) => format!("pods matching {l} and {f}"),
            (None, Some(l), None) => format!("pods matching {l}"),
            (None, None, Some(f)) => format!("pods matching {f}"),
            (None, None, None) => "pods".to_string(),
        };
        match scope {
            Some(ns) => format!("{what} in namespace {ns}"),
            None => format!("{what} in all namespaces"),
        }
    }
}

fn pods_api(cluster: &Cluster, scope: Option<&str>) -> Api<Pod> {
    match scope {
        Some(ns) => Api::namespaced(cluster.client.clone(), ns),
        None => Api::all(cluster.client.clone()),
    }
}

/// Lists one scope page by page through `fetch`, handing each page to `sink`, stopping at
/// `remaining` objects. Returns how many objects were handed over.
async fn page_through<T, F, Fut, S>(
    selector: &PodSelector,
    scope: Option<&str>,
    mut remaining: Option<usize>,
    mut fetch: F,
    sink: &mut S,
) -> Result<usize, OpsError>
where
    S: FnMut(Vec<T>) -> Result<(), OpsError>,
    F: FnMut(ListParams) -> Fut,
    Fut: Future<Output = Result<ObjectList<T>, kube::Error>>,
    T: Clone,
{
    let mut token: Option<String> = None;
    let mut seen = 0usize;
    loop {
        let page = match remaining {
            Some(0) => return Ok(seen),
            Some(r) => PAGE_SIZE.min(u32::try_from(r).unwrap_or(PAGE_SIZE)),
            None => PAGE_SIZE,
        };
        let list = fetch(selector.list_params(page, token.as_deref()))
            .await
            .map_err(|e| OpsError::api("list", selector.describe(scope), e))?;
        let mut items = list.items;
        if let Some(r) = remaining.as_mut() {
            items.truncate(*r);
            *r -= items.len();
        }
        seen += items.len();
        if !items.is_empty() {
            sink(items)?;
        }
        token = list.metadata.continue_.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(seen);
        }
    }
}

/// Streams the selected pods to `sink` one page (at most [`PAGE_SIZE`] pods) at a time, over
/// every scope in turn (`None` = all namespaces), so a caller keeps only what it needs of each
/// page. Returns how many pods were seen. An error from `sink` stops the listing.
pub async fn for_each_pod_page(
    cluster: &Cluster,
    scopes: &[Option<&str>],
    selector: &PodSelector,
    mut sink: impl FnMut(Vec<Pod>) -> Result<(), OpsError>,
) -> Result<usize, OpsError> {
    let mut total = 0;
    for scope in scopes {
        let api = pods_api(cluster, *scope);
        let remaining = selector.limit.map(|l| l.saturating_sub(total));
        total += page_through(
            selector,
            *scope,
            remaining,
            |lp| {
                let api = api.clone();
                async move { api.list(&lp).await }
            },
            &mut sink,
        )
        .await?;
    }
    Ok(total)
}

/// Every selected pod, all pages, over every scope.
pub async fn list_pods(
    cluster: &Cluster,
    scopes: &[Option<&str>],
    selector: &PodSelector,
) -> Result<Vec<Pod>, OpsError> {
    let mut out = Vec::new();
    for_each_pod_page(cluster, scopes, selector, |page| {
        out.extend(page);
        Ok(())
    })
    .await?;
    Ok(out)
}

/// The metadata of every selected pod (name, namespace, resourceVersion, labels, annotations):
/// what label/annotate/delete need, at a fraction of the bytes of full pods.
pub async fn list_pod_meta(
    cluster: &Cluster,
    scopes: &[Option<&str>],
    selector: &PodSelector,
) -> Result<Vec<PodMeta>, OpsError> {
    let mut out = Vec::new();
    let mut sink = |page: Vec<PartialObjectMeta<Pod>>| {
        out.extend(page.iter().map(|p| PodMeta::from_meta(&p.metadata)));
        Ok(())
    };
    let mut total = 0;
    for scope in scopes {
        let api = pods_api(cluster, *scope);
        let remaining = selector.limit.map(|l| l.saturating_sub(total));
        total += page_through(
            selector,
            *scope,
            remaining,
            |lp| {
                let api = api.clone();
                async move { api.list_metadata(&lp).await }
            },
            &mut sink,
        )
        .await?;
    }
    Ok(out)
}

/// One pod by name; `Ok(None)` when there is none.
pub async fn get_pod(cluster: &Cluster, namespace: &str, name: &str) -> Result<Option<Pod>, OpsError> {
    pods_api(cluster, Some(namespace))
        .get_opt(name)
        .await
        .map_err(|e| OpsError::api("get", object("pod", Some(namespace), name), e))
}

/// What label/annotate/delete need to know of a pod.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMeta {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub resource_version: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl PodMeta {
    pub fn from_meta(m: &ObjectMeta) -> Self {
        Self {
            namespace: m.namespace.clone().unwrap_or_default(),
            name: m.name.clone().unwrap_or_default(),
            uid: m.uid.clone().unwrap_or_default(),
            resource_version: m.resource_version.clone().unwrap_or_default(),
            labels: m.labels.clone().unwrap_or_default(),
            annotations: m.annotations.clone().unwrap_or_default(),
        }
    }

    pub fn from_pod(p: &Pod) -> Self {
        Self::from_meta(&p.metadata)
    }

    /// `pod ns/name`, for messages.
    pub fn describe(&self) -> String {
        object("pod", Some(&self.namespace), &self.name)
    }

    fn field(&self, field: MetaField) -> &BTreeMap<String, String> {
        match field {
            MetaField::Labels => &self.labels,
            MetaField::Annotations => &self.annotations,
        }
    }

    fn field_mut(&mut self, field: MetaField) -> &mut BTreeMap<String, String> {
        match field {
            MetaField::Labels => &mut self.labels,
            MetaField::Annotations => &mut self.annotations,
        }
    }
}

/// Which metadata map a [`MetaChange`] applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetaField {
    Labels,
    Annotations,
}

impl MetaField {
    /// The JSON key under `metadata`.
    pub fn key(self) -> &'static str {
        match self {
            MetaField::Labels => "labels",
            MetaField::Annotations => "annotations",
        }
    }
    /// The operation's name in errors.
    pub fn op(self) -> &'static str {
        match self {
            MetaField::Labels => "label",
            MetaField::Annotations => "annotate",
        }
    }
}

/// Keys to set and keys to remove in a pod's labels or annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MetaChange {
    pub set: BTreeMap<String, String>,
    pub remove: BTreeSet<String>,
}

impl MetaChange {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.remove.is_empty()
    }

    /// The merge-patch entries needed to bring `current` to what is asked: only keys whose value
    /// differs (`null` removes a key). `None` when `current` already holds it.
    pub fn diff(&self, current: &BTreeMap<String, String>) -> Option<Map<String, Value>> {
        let mut out = Map::new();
        for (k, v) in &self.set {
            if current.get(k) != Some(v) {
                out.insert(k.clone(), Value::String(v.clone()));
            }
        }
        for k in &self.remove {
            if current.contains_key(k) && !self.set.contains_key(k) {
                out.insert(k.clone(), Value::Null);
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// `current` with the change applied.
    pub fn apply(&self, current: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut out = current.clone();
        for k in &self.remove {
            out.remove(k);
        }
        out.extend(self.set.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }
}

/// What happened to one pod in a label/annotate operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum MetaOutcome {
    /// The pod already held it: no request was sent.
    Unchanged,
    /// Patched.
    Changed,
    /// `--dry-run`: it would have been patched (server: admission ran; client: nothing sent).
    WouldChange,
    /// The pod was deleted before it could be patched.
    Gone,
}

impl MetaOutcome {
    /// Changed, or would be under --dry-run.
    pub fn counts_as_change(self) -> bool {
        matches!(self, MetaOutcome::Changed | MetaOutcome::WouldChange)
    }
}

/// The result of [`update_pod_meta`]: the outcome and the pod's metadata after it (as it would
/// be, under --dry-run).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MetaUpdate {
    pub outcome: MetaOutcome,
    pub pod: PodMeta,
}

/// Set/remove label or annotation keys on one pod, as listed in `listed`.
///
/// Attempt 1 trusts `listed`: nothing is sent when it already holds the change; otherwise one
/// merge patch of the differing keys with `listed.resourceVersion` as precondition. Any later
/// `attempt` (the pool retries a 409 Conflict) first re-reads the pod's metadata and recomputes,
/// so a concurrent writer's change is kept, never overwritten.
pub async fn update_pod_meta(
    cluster: &Cluster,
    listed: &PodMeta,
    field: MetaField,
    change: &MetaChange,
    attempt: u32,
) -> Result<MetaUpdate, OpsError> {
    let api = pods_api(cluster, Some(&listed.namespace));
    let op = field.op();
    let current = if attempt > 1 {
        match api.get_metadata_opt(&listed.name).await {
            Ok(Some(m)) => PodMeta::from_meta(&m.metadata),
            Ok(None) => return Ok(MetaUpdate { outcome: MetaOutcome::Gone, pod: listed.clone() }),
            Err(e) => return Err(OpsError::api(op, listed.describe(), e)),
        }
    } else {
        listed.clone()
    };
    let Some(diff) = change.diff(current.field(field)) else {
        return Ok(MetaUpdate { outcome: MetaOutcome::Unchanged, pod: current });
    };
    if cluster.dry_run.is_client() {
        let mut pod = current;
        *pod.field_mut(field) = change.apply(pod.field(field));
        return Ok(MetaUpdate { outcome: MetaOutcome::WouldChange, pod });
    }
    let mut metadata = Map::new();
    if !current.resource_version.is_empty() {
        metadata.insert("resourceVersion".into(), Value::String(current.resource_version.clone()));
    }
    metadata.insert(field.key().into(), Value::Object(diff));
    let body = json!({ "metadata": metadata });
    let mut pp = cluster.patch_params();
    pp.field_manager = Some(FIELD_MANAGER.into());
    match api.patch_metadata(&current.name, &pp, &Patch::Merge(&body)).await {
        Ok(after) => {
            let outcome =
                if cluster.dry_run.is_server() { MetaOutcome::WouldChange } else { MetaOutcome::Changed };
            Ok(MetaUpdate { outcome, pod: PodMeta::from_meta(&after.metadata) })
        }
        Err(kube::Error::Api(s)) if s.code == 404 => {
            Ok(MetaUpdate { outcome: MetaOutcome::Gone, pod: current })
        }
        Err(e) => Err(OpsError::api(op, current.describe(), e)),
    }
}

/// What happened to one pod in [`delete_pod`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DeleteOutcome {
    /// The API server accepted the deletion (the pod may take its grace period to go).
    Deleted,
    /// `--dry-run`: it would have been deleted.
    WouldDelete,
    /// There was no such pod (already gone): not an error.
    AlreadyGone,
}

/// Delete one pod. `grace_period_seconds` overrides the pod's own; `uid`, when given, makes
/// the delete apply only to that incarnation of the name (a pod recreated since it was listed
/// is left alone and reported as already gone).
pub async fn delete_pod(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    uid: Option<&str>,
    grace_period_seconds: Option<u32>,
) -> Result<DeleteOutcome, OpsError> {
    if cluster.dry_run.is_client() {
        return Ok(DeleteOutcome::WouldDelete);
    }
    let mut dp: DeleteParams = cluster.delete_params();
    dp.grace_period_seconds = grace_period_seconds;
    if let Some(uid) = uid.filter(|u| !u.is_empty()) {
        dp.preconditions =
            Some(kube::api::Preconditions { uid: Some(uid.to_string()), resource_version: None });
    }
    match pods_api(cluster, Some(namespace)).delete(name, &dp).await {
        Ok(_) if cluster.dry_run.is_server() => Ok(DeleteOutcome::WouldDelete),
        Ok(_) => Ok(DeleteOutcome::Deleted),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(DeleteOutcome::AlreadyGone),
        // A uid precondition that fails means the name now belongs to a newer pod.
        Err(kube::Error::Api(s)) if s.code == 409 && uid.is_some() && s.message.contains("UID") => {
            Ok(DeleteOutcome::AlreadyGone)
        }
        Err(e) => Err(OpsError::api("delete", object("pod", Some(namespace), name), e)),
    }
}

// ----------------------------------------------------------------------------- PodInfo

/// A pod summarised as plain data: what `list-pods` items, health checks and Rhai bindings show.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Pending, Running, Succeeded, Failed, Unknown ("" before the scheduler saw it).
    pub phase: String,
    /// The pod's own reason (`Evicted`, ...), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Running with every container ready.
    pub ready: bool,
    /// Restarts over all containers.
    pub restarts: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    pub images: Vec<String>,
    /// Creation time, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Seconds since creation, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<i64>,
    /// Being deleted (has a deletionTimestamp).
    pub terminating: bool,
    pub containers: Vec<ContainerInfo>,
}

/// One container's status.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerInfo {
    pub name: String,
    pub image: String,
    /// An init container (those run before the others).
    pub init: bool,
    pub ready: bool,
    pub restarts: i32,
    /// running, waiting, terminated, or unknown (no status reported yet).
    pub state: String,
    /// Waiting or terminated reason (`CrashLoopBackOff`, `ImagePullBackOff`, `Error`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Exit code of the terminated state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Exit code of the previous run (for a container that restarted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_exit_code: Option<i32>,
}

impl ContainerInfo {
    fn from_status(s: &ContainerStatus, init: bool) -> Self {
        let state = s.state.as_ref();
        let (kind, reason, message, exit_code) = if let Some(w) = state.and_then(|st| st.waiting.as_ref()) {
            ("waiting", w.reason.clone(), w.message.clone(), None)
        } else if let Some(t) = state.and_then(|st| st.terminated.as_ref()) {
            ("terminated", t.reason.clone(), t.message.clone(), Some(t.exit_code))
        } else if state.and_then(|st| st.running.as_ref()).is_some() {
            ("running", None, None, None)
        } else {
            ("unknown", None, None, None)
        };
        let last_exit_code = s.last_state.as_ref().and_then(|l| l.terminated.as_ref()).map(|t| t.exit_code);
        Self {
            name: s.name.clone(),
            image: s.image.clone(),
            init,
            ready: s.ready,
            restarts: s.restart_count,
            state: kind.to_string(),
            reason: reason.filter(|r| !r.is_empty()),
            message: message.filter(|m| !m.is_empty()),
            exit_code,
            last_exit_code,
        }
    }
}

impl PodInfo {
    /// Summarise a pod; `now` is the time ages are computed against.
    pub fn from_pod_at(p: &Pod, now: jiff::Timestamp) -> Self {
        let m = &p.metadata;
        let status = p.status.as_ref();
        let spec = p.spec.as_ref();
        let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
        let statuses = status.and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
        let init_statuses = status.and_then(|s| s.init_container_statuses.as_deref()).unwrap_or_default();
        let mut containers: Vec<ContainerInfo> =
            init_statuses.iter().map(|s| ContainerInfo::from_status(s, true)).collect();
        containers.extend(statuses.iter().map(|s| ContainerInfo::from_status(s, false)));
        // Containers with no status yet (just created, unscheduled) still count as not ready.
        if let Some(spec) = spec {
            for c in &spec.containers {
                if !statuses.iter().any(|s| s.name == c.name) {
                    containers.push(ContainerInfo {
                        name: c.name.clone(),
                        image: c.image.clone().unwrap_or_default(),
                        state: "unknown".into(),
                        ..ContainerInfo::default()
                    });
                }
            }
        }
        let images =
            spec.map(|s| s.containers.iter().filter_map(|c| c.image.clone()).collect()).unwrap_or_default();
        let regular: Vec<&ContainerInfo> = containers.iter().filter(|c| !c.init).collect();
        let ready = phase == "Running" && !regular.is_empty() && regular.iter().all(|c| c.ready);
        let created_ts = m.creation_timestamp.as_ref().map(|t| t.0);
        Self {
            namespace: m.namespace.clone().unwrap_or_default(),
            name: m.name.clone().unwrap_or_default(),
            labels: m.labels.clone().unwrap_or_default(),
            annotations: m.annotations.clone().unwrap_or_default(),
            phase,
            reason: status.and_then(|s| s.reason.clone()).filter(|r| !r.is_empty()),
            ready,
            restarts: regular.iter().map(|c| c.restarts).sum(),
            node: spec.and_then(|s| s.node_name.clone()),
            images,
            created: created_ts.map(|t| t.to_string()),
            age_seconds: created_ts.map(|t| now.as_second() - t.as_second()),
            terminating: m.deletion_timestamp.is_some(),
            containers,
        }
    }

    /// Summarise a pod as of now.
    pub fn from_pod(p: &Pod) -> Self {
        Self::from_pod_at(p, jiff::Timestamp::now())
    }
}

// ----------------------------------------------------------------------------- health

/// What counts as healthy beyond phase and readiness.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthRules {
    /// A container restarted more often than this is unhealthy (`None`: restarts alone do not
    /// make a pod unhealthy).
    pub max_restarts: Option<i32>,
}

/// A pod's health verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub healthy: bool,
    /// Why it is unhealthy, most important first (empty when healthy).
    pub reasons: Vec<String>,
}

impl Verdict {
    /// The reasons as one line.
    pub fn summary(&self) -> String {
        if self.healthy { "healthy".into() } else { self.reasons.join("; ") }
    }
}

fn container_detail(c: &ContainerInfo) -> String {
    let kind = if c.init { "init container" } else { "container" };
    let mut s = match (c.state.as_str(), &c.reason) {
        ("waiting", Some(r)) => format!("{kind} {} waiting: {r}", c.name),
        ("terminated", Some(r)) => format!("{kind} {} terminated: {r}", c.name),
        ("terminated", None) => format!("{kind} {} terminated", c.name),
        ("unknown", _) => format!("{kind} {} not started", c.name),
        _ => format!("{kind} {} not ready", c.name),
    };
    if let Some(code) = c.exit_code {
        s.push_str(&format!(" (exit code {code})"));
    } else if let Some(code) = c.last_exit_code.filter(|_| c.restarts > 0) {
        s.push_str(&format!(" (last exit code {code})"));
    }
    if c.restarts > 0 {
        s.push_str(&format!(", {} restarts", c.restarts));
    }
    s
}

/// Judge a pod: Running with every container ready is healthy, and so is Succeeded (a finished
/// job); Pending, Failed, Unknown, terminating, or a container not ready is not, and the reasons
/// name the phase, each container at fault and its waiting/terminated reason and exit code.
/// With `rules.max_restarts`, a container that restarted more often is unhealthy too.
pub fn pod_health(info: &PodInfo, rules: &HealthRules) -> Verdict {
    let mut reasons = Vec::new();
    if info.terminating {
        reasons.push("terminating".to_string());
    }
    let phase = if info.phase.is_empty() { "Pending" } else { info.phase.as_str() };
    match phase {
        "Succeeded" => {}
        "Running" => {
            for c in info.containers.iter().filter(|c| !c.init && !c.ready) {
                reasons.push(container_detail(c));
            }
        }
        other => {
            let mut head = format!("phase {other}");
            if let Some(r) = &info.reason {
                head.push_str(&format!(" ({r})"));
            }
            reasons.push(head);
            let at_fault = info.containers.iter().filter(|c| match other {
                // A failed pod: the containers that did not exit cleanly.
                "Failed" => c.exit_code.is_some_and(|code| code != 0) || c.state == "waiting",
                // Pending/Unknown: init containers not done, containers not ready.
                _ => !(c.ready || (c.init && c.exit_code == Some(0))),
            });
            reasons.extend(at_fault.map(container_detail));
        }
    }
    if let Some(max) = rules.max_restarts {
        for c in info.containers.iter().filter(|c| c.restarts > max) {
            let line = format!("container {} restarted {} times (more than {max})", c.name, c.restarts);
            if !reasons.contains(&line) {
                reasons.push(line);
            }
        }
    }
    Verdict { healthy: reasons.is_empty(), reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        Container, ContainerState, ContainerStateRunning, ContainerStateTerminated, ContainerStateWaiting,
        PodSpec, PodStatus,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn map(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn change(set: &[(&str, &str)], remove: &[&str]) -> MetaChange {
        MetaChange { set: map(set), remove: remove.iter().map(|s| s.to_string()).collect() }
    }

    #[test]
    fn diff_sends_only_keys_that_differ() {
        let current = map(&[("env", "prod"), ("tier", "web"), ("old", "x")]);
        let c = change(&[("env", "prod"), ("tier", "db")], &["old", "absent"]);
        let d = c.diff(&current).unwrap();
        assert_eq!(Value::Object(d), json!({"tier": "db", "old": null}));
        assert_eq!(c.apply(&current), map(&[("env", "prod"), ("tier", "db")]));
    }

    #[test]
    fn diff_is_none_when_the_pod_already_holds_the_change() {
        let current = map(&[("env", "prod")]);
        assert_eq!(change(&[("env", "prod")], &["gone"]).diff(&current), None);
        assert_eq!(MetaChange::default().diff(&current), None);
    }

    #[test]
    fn selector_adds_the_name_as_a_field_selector() {
        let s = PodSelector {
            field_selector: Some("status.phase=Running".into()),
            ..PodSelector::named("web-0")
        };
        assert_eq!(s.fields().as_deref(), Some("metadata.name=web-0,status.phase=Running"));
        assert_eq!(PodSelector::all().fields(), None);
        assert_eq!(s.describe(Some("ns1")), "pod ns1/web-0");
        assert_eq!(PodSelector::labels("app=web").describe(None), "pods matching app=web in all namespaces");
    }

    fn running(name: &str) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            image: "img:1".into(),
            ready: true,
            state: Some(ContainerState {
                running: Some(ContainerStateRunning::default()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn waiting(name: &str, reason: &str, restarts: i32, last_exit: Option<i32>) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            image: "img:1".into(),
            ready: false,
            restart_count: restarts,
            state: Some(ContainerState {
                waiting: Some(ContainerStateWaiting { reason: Some(reason.into()), ..Default::default() }),
                ..Default::default()
            }),
            last_state: last_exit.map(|code| ContainerState {
                terminated: Some(ContainerStateTerminated { exit_code: code, ..Default::default() }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn terminated(name: &str, reason: &str, code: i32) -> ContainerStatus {
        ContainerStatus {
            name: name.into(),
            image: "img:1".into(),
            state: Some(ContainerState {
                terminated: Some(ContainerStateTerminated {
                    exit_code: code,
                    reason: Some(reason.into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn pod(phase: &str, statuses: Vec<ContainerStatus>) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some("web-0".into()),
                namespace: Some("ns1".into()),
                creation_timestamp: Some(Time("2026-01-01T00:00:00Z".parse().unwrap())),
                ..Default::default()
            },
            spec: Some(PodSpec {
                containers: statuses
                    .iter()
                    .map(|s| Container {
                        name: s.name.clone(),
                        image: Some("img:1".into()),
                        ..Default::default()
                    })
                    .collect(),
                node_name: Some("node-a".into()),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                container_statuses: Some(statuses),
                ..Default::default()
            }),
        }
    }

    fn verdict(p: &Pod) -> Verdict {
        pod_health(&PodInfo::from_pod(p), &HealthRules::default())
    }

    #[test]
    fn running_and_ready_is_healthy() {
        let p = pod("Running", vec![running("main"), running("side")]);
        let info = PodInfo::from_pod_at(&p, "2026-01-01T00:01:40Z".parse().unwrap());
        assert!(info.ready);
        assert_eq!(info.age_seconds, Some(100));
        assert_eq!(info.node.as_deref(), Some("node-a"));
        assert_eq!(info.created.as_deref(), Some("2026-01-01T00:00:00Z"));
        assert_eq!(verdict(&p), Verdict { healthy: true, reasons: vec![] });
    }

    #[test]
    fn crashloop_names_the_container_reason_restarts_and_last_exit_code() {
        let p = pod("Running", vec![running("side"), waiting("main", "CrashLoopBackOff", 4, Some(2))]);
        let v = verdict(&p);
        assert!(!v.healthy);
        assert_eq!(
            v.reasons,
            vec!["container main waiting: CrashLoopBackOff (last exit code 2), 4 restarts"]
        );
        assert_eq!(PodInfo::from_pod(&p).restarts, 4);
    }

    #[test]
    fn image_pull_backoff_in_pending_names_phase_and_reason() {
        let v = verdict(&pod("Pending", vec![waiting("main", "ImagePullBackOff", 0, None)]));
        assert_eq!(v.reasons, vec!["phase Pending", "container main waiting: ImagePullBackOff"]);
    }

    #[test]
    fn failed_pod_names_the_exit_code() {
        let v =
            verdict(&pod("Failed", vec![terminated("main", "Error", 3), terminated("ok", "Completed", 0)]));
        assert_eq!(v.reasons, vec!["phase Failed", "container main terminated: Error (exit code 3)"]);
    }

    #[test]
    fn succeeded_is_healthy_and_terminating_is_not() {
        assert!(verdict(&pod("Succeeded", vec![terminated("main", "Completed", 0)])).healthy);
        let mut p = pod("Running", vec![running("main")]);
        p.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
        assert_eq!(verdict(&p).reasons, vec!["terminating"]);
    }

    #[test]
    fn restart_limit_applies_only_when_set() {
        let mut c = running("main");
        c.restart_count = 5;
        let p = pod("Running", vec![c]);
        assert!(verdict(&p).healthy);
        let v = pod_health(&PodInfo::from_pod(&p), &HealthRules { max_restarts: Some(3) });
        assert_eq!(v.reasons, vec!["container main restarted 5 times (more than 3)"]);
    }

    #[test]
    fn container_without_status_is_not_ready() {
        let mut p = pod("Pending", vec![]);
        p.spec.as_mut().unwrap().containers.push(Container { name: "main".into(), ..Default::default() });
        let info = PodInfo::from_pod(&p);
        assert!(!info.ready);
        assert_eq!(
            pod_health(&info, &HealthRules::default()).reasons,
            vec!["phase Pending", "container main not started"]
        );
    }
}
