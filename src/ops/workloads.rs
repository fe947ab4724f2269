//! Deployments and StatefulSets ("workloads") through ONE code path over both kinds: list, get,
//! scale (through the `/scale` subresource), set a container's image, rollout restart with
//! kubectl's annotation, wait for ready replicas or a finished rollout (watches, not polling),
//! and scale a namespace down to zero and back up, remembering the replica count.
//!
//! Every mutation first compares with the state the caller read ([`WorkloadInfo`]) and sends
//! nothing when the object already holds the wanted value. `--dry-run=server` sends with
//! `dryRun=All`; `--dry-run=client` sends no mutation and reports what would change.
//!
//! Operations that take a [`WorkloadInfo`] act on that snapshot; when one fails with a conflict
//! (409, see `crate::pool::RetryClass::Conflict`), re-read it with [`get`] and call again.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Mutex;
use std::time::Duration;

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch};
use kube::runtime::{WatchStreamExt, watcher};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::{Cluster, FIELD_MANAGER, OpsError, kube_retry_class, object};
use crate::pool::RetryClass;

/// The pod-template annotation `kubectl rollout restart` writes (RFC 3339 time). kube's
/// `Api::restart` writes `kube.kubernetes.io/restartedAt` instead; we write kubectl's key so a
/// restart by pearl and one by kubectl are the same thing.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// Annotation on a Deployment/StatefulSet scaled to 0 by [`scale_down`]: the replica count it
/// had before, as a decimal string. [`scale_up`] restores that count and removes the annotation.
/// Written in the same PATCH as `spec.replicas: 0`, so the count is never lost half-way.
pub const SCALED_DOWN_REPLICAS: &str = "pearl.dev/scaled-down-replicas";

/// Objects per page when listing (kubectl's `--chunk-size` default).
pub const PAGE_SIZE: u32 = 500;

/// The two workload kinds pearl scales, updates and restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
}

impl WorkloadKind {
    /// Both kinds, in listing order.
    pub const ALL: [WorkloadKind; 2] = [WorkloadKind::Deployment, WorkloadKind::StatefulSet];

    /// The API kind: `Deployment`, `StatefulSet`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "Deployment",
            WorkloadKind::StatefulSet => "StatefulSet",
        }
    }

    /// The word used in messages, as kubectl prints it: `deployment`, `statefulset`.
    pub fn noun(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
        }
    }

    /// Plural, for messages about several objects.
    pub fn plural(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployments",
            WorkloadKind::StatefulSet => "statefulsets",
        }
    }

    /// Parse a kind as users write it (case-insensitive): `Deployment`, `deploy`, `deployments`,
    /// `StatefulSet`, `sts`, `statefulsets`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "deployment" | "deployments" | "deploy" | "deployment.apps" => Some(WorkloadKind::Deployment),
            "statefulset" | "statefulsets" | "sts" | "statefulset.apps" => Some(WorkloadKind::StatefulSet),
            _ => None,
        }
    }

    fn resource(self) -> ApiResource {
        let gvk = GroupVersionKind::gvk("apps", "v1", self.as_str());
        ApiResource::from_gvk_with_plural(&gvk, self.plural())
    }

    fn api(self, cluster: &Cluster, namespace: &str) -> Api<DynamicObject> {
        Api::namespaced_with(cluster.client.clone(), namespace, &self.resource())
    }

    fn api_in(self, cluster: &Cluster, namespace: Option<&str>) -> Api<DynamicObject> {
        match namespace {
            Some(ns) => self.api(cluster, ns),
            None => Api::all_with(cluster.client.clone(), &self.resource()),
        }
    }
}

impl std::fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One container of a workload's pod template and its image.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerImage {
    pub name: String,
    pub image: String,
    /// An init container (`spec.template.spec.initContainers`).
    pub init: bool,
}

/// What pearl knows of a Deployment or StatefulSet: plain data for task items, reports and the
/// Rhai bindings. Missing status fields count as 0; a missing `spec.replicas` as 1 (the default).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadInfo {
    pub kind: WorkloadKind,
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Desired replicas (`spec.replicas`).
    pub replicas: i32,
    /// Pods the controller currently has (`status.replicas`), old ones included.
    pub status_replicas: i32,
    pub ready_replicas: i32,
    pub updated_replicas: i32,
    pub available_replicas: i32,
    /// Containers then init containers of the pod template.
    pub containers: Vec<ContainerImage>,
    pub generation: i64,
    pub observed_generation: i64,
    pub resource_version: String,
    /// The pod template's `kubectl.kubernetes.io/restartedAt`, if any.
    pub restarted_at: Option<String>,
    /// StatefulSets only: `status.currentRevision` and `status.updateRevision`.
    pub current_revision: Option<String>,
    pub update_revision: Option<String>,
}

fn string_map(map: &Option<BTreeMap<String, String>>) -> BTreeMap<String, String> {
    map.clone().unwrap_or_default()
}

fn int(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

impl WorkloadInfo {
    /// Read the fields pearl uses from an apps/v1 object of `kind`.
    pub fn from_object(kind: WorkloadKind, o: &DynamicObject) -> Self {
        let spec = &o.data["spec"];
        let status = &o.data["status"];
        let pod_spec = &spec["template"]["spec"];
        let mut containers = Vec::new();
        for (field, init) in [("containers", false), ("initContainers", true)] {
            for c in pod_spec[field].as_array().into_iter().flatten() {
                containers.push(ContainerImage {
                    name: c["name"].as_str().unwrap_or_default().to_string(),
                    image: c["image"].as_str().unwrap_or_default().to_string(),
                    init,
                });
            }
        }
        let text = |v: &Value| v.as_str().map(str::to_string);
        WorkloadInfo {
            kind,
            name: o.metadata.name.clone().unwrap_or_default(),
            namespace: o.metadata.namespace.clone().unwrap_or_default(),
            labels: string_map(&o.metadata.labels),
            annotations: string_map(&o.metadata.annotations),
            replicas: spec["replicas"].as_i64().unwrap_or(1) as i32,
            status_replicas: int(&status["replicas"]) as i32,
            ready_replicas: int(&status["readyReplicas"]) as i32,
            updated_replicas: int(&status["updatedReplicas"]) as i32,
            available_replicas: int(&status["availableReplicas"]) as i32,
            containers,
            generation: o.metadata.generation.unwrap_or(0),
            observed_generation: int(&status["observedGeneration"]),
            resource_version: o.metadata.resource_version.clone().unwrap_or_default(),
            restarted_at: text(&spec["template"]["metadata"]["annotations"][RESTARTED_AT]),
            current_revision: text(&status["currentRevision"]),
            update_revision: text(&status["updateRevision"]),
        }
    }

    /// `deployment ns/name`, for messages.
    pub fn object(&self) -> String {
        object(self.kind.noun(), Some(&self.namespace), &self.name)
    }

    /// The image of container `name` (regular or init), if the template has that container.
    pub fn image_of(&self, container: &str) -> Option<&ContainerImage> {
        self.containers.iter().find(|c| c.name == container)
    }

    /// The controller has seen the latest spec, and exactly `replicas` pods exist, all ready.
    pub fn is_ready(&self) -> bool {
        self.observed_generation >= self.generation
            && self.ready_replicas == self.replicas
            && self.status_replicas == self.replicas
    }

    /// The rollout of the latest spec is finished, as `kubectl rollout status` judges it: the
    /// controller saw the spec, every replica is updated and available, no old pod is left, and
    /// (StatefulSets) the current revision is the update revision.
    pub fn rollout_complete(&self) -> bool {
        let revision_done = match self.kind {
            WorkloadKind::Deployment => true,
            WorkloadKind::StatefulSet => {
                self.update_revision.is_none() || self.current_revision == self.update_revision
            }
        };
        self.observed_generation >= self.generation
            && self.updated_replicas >= self.replicas
            && self.available_replicas >= self.replicas
            && self.ready_replicas >= self.replicas
            && self.status_replicas == self.replicas
            && revision_done
    }

    /// `2/3 ready, 1 updated, 2 available, 4 pods, generation 5 observed 4`: where a wait stands.
    pub fn progress(&self) -> String {
        let mut s = format!(
            "{}/{} ready, {} updated, {} available, {} pods",
            self.ready_replicas,
            self.replicas,
            self.updated_replicas,
            self.available_replicas,
            self.status_replicas
        );
        if self.observed_generation < self.generation {
            s.push_str(&format!(
                ", generation {} not yet observed (controller at {})",
                self.generation, self.observed_generation
            ));
        }
        s
    }

    /// The replica count remembered by [`scale_down`], if the annotation is there.
    pub fn scaled_down_replicas(&self) -> Option<&str> {
        self.annotations.get(SCALED_DOWN_REPLICAS).map(String::as_str)
    }

    /// JSON for task items and reports.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// What a replica change did (or would do under `--dry-run=client`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaChange {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    pub previous: i32,
    pub replicas: i32,
    /// False when the object already held the wanted state and nothing was sent.
    pub changed: bool,
}

/// What a set-image did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageChange {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    pub container: String,
    pub previous: String,
    pub image: String,
    pub changed: bool,
}

/// What a rollout restart wrote.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestartChange {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
    pub previous: Option<String>,
    pub restarted_at: String,
    pub changed: bool,
}

/// Every workload of `kind` in `namespace` (`None`: all namespaces) matching `label_selector`,
/// all pages.
pub async fn list(
    cluster: &Cluster,
    kind: WorkloadKind,
    namespace: Option<&str>,
    label_selector: Option<&str>,
) -> Result<Vec<WorkloadInfo>, OpsError> {
    let api = kind.api_in(cluster, namespace);
    let scope = match namespace {
        Some(ns) => format!("{} in namespace {ns}", kind.plural()),
        None => format!("{} in all namespaces", kind.plural()),
    };
    let mut lp = ListParams::default().limit(PAGE_SIZE);
    if let Some(sel) = label_selector.filter(|s| !s.trim().is_empty()) {
        lp = lp.labels(sel);
    }
    let mut out = Vec::new();
    loop {
        let page = api.list(&lp).await.map_err(|e| OpsError::api("list", scope.clone(), e))?;
        out.extend(page.items.iter().map(|o| WorkloadInfo::from_object(kind, o)));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => lp.continue_token = Some(token),
            None => break,
        }
    }
    Ok(out)
}

/// One workload by name.
pub async fn get(
    cluster: &Cluster,
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
) -> Result<WorkloadInfo, OpsError> {
    let o = kind
        .api(cluster, namespace)
        .get(name)
        .await
        .map_err(|e| OpsError::api("get", object(kind.noun(), Some(namespace), name), e))?;
    Ok(WorkloadInfo::from_object(kind, &o))
}

/// `--dry-run` aware patch parameters, writing as pearl's field manager (so `managedFields`
/// shows which fields pearl set).
fn patch_params(cluster: &Cluster) -> kube::api::PatchParams {
    let mut pp = cluster.patch_params();
    pp.field_manager = Some(FIELD_MANAGER.into());
    pp
}

fn check_replicas(op: &'static str, w: &WorkloadInfo, replicas: i32) -> Result<(), OpsError> {
    if replicas < 0 {
        return Err(OpsError::Invalid {
            op,
            object: w.object(),
            message: format!("replicas must be 0 or more, not {replicas}"),
        });
    }
    Ok(())
}

/// Set `spec.replicas` through the `/scale` subresource (so it works for users allowed only
/// `update` on `deployments/scale`). Sends nothing when `w` already wants `replicas`.
pub async fn scale(cluster: &Cluster, w: &WorkloadInfo, replicas: i32) -> Result<ReplicaChange, OpsError> {
    check_replicas("scale", w, replicas)?;
    let change = ReplicaChange {
        kind: w.kind,
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        previous: w.replicas,
        replicas,
        changed: w.replicas != replicas,
    };
    if !change.changed || cluster.dry_run.is_client() {
        return Ok(change);
    }
    let patch = json!({ "spec": { "replicas": replicas } });
    w.kind
        .api(cluster, &w.namespace)
        .patch_scale(&w.name, &patch_params(cluster), &Patch::Merge(&patch))
        .await
        .map_err(|e| OpsError::api("scale", w.object(), e))?;
    Ok(change)
}

/// Set the image of one container (regular or init) of the pod template. Fails, sending
/// nothing, when the template has no such container (the error lists those it has); sends
/// nothing when the container already runs `image`.
pub async fn set_image(
    cluster: &Cluster,
    w: &WorkloadInfo,
    container: &str,
    image: &str,
) -> Result<ImageChange, OpsError> {
    let Some(current) = w.image_of(container) else {
        let names: Vec<String> = w
            .containers
            .iter()
            .map(|c| if c.init { format!("{} (init)", c.name) } else { c.name.clone() })
            .collect();
        return Err(OpsError::Invalid {
            op: "set image",
            object: w.object(),
            message: format!(
                "no container named `{container}`; its containers are: {}",
                if names.is_empty() { "(none)".to_string() } else { names.join(", ") }
            ),
        });
    };
    let change = ImageChange {
        kind: w.kind,
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        container: container.to_string(),
        previous: current.image.clone(),
        image: image.to_string(),
        changed: current.image != image,
    };
    if !change.changed || cluster.dry_run.is_client() {
        return Ok(change);
    }
    // A strategic merge patch merges the container list by name: only this image changes.
    let field = if current.init { "initContainers" } else { "containers" };
    let patch =
        json!({ "spec": { "template": { "spec": { field: [ { "name": container, "image": image } ] } } } });
    w.kind
        .api(cluster, &w.namespace)
        .patch(&w.name, &patch_params(cluster), &Patch::Strategic(&patch))
        .await
        .map_err(|e| OpsError::api("set image", w.object(), e))?;
    Ok(change)
}

/// The time as `kubectl rollout restart` writes it: RFC 3339, whole seconds, UTC.
pub fn restart_timestamp(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Rollout restart: set the pod template annotation `kubectl.kubernetes.io/restartedAt` to
/// `restarted_at` (see [`restart_timestamp`]), which makes the controller replace every pod.
/// Sends nothing when the template already carries exactly that value.
pub async fn rollout_restart(
    cluster: &Cluster,
    w: &WorkloadInfo,
    restarted_at: &str,
) -> Result<RestartChange, OpsError> {
    let change = RestartChange {
        kind: w.kind,
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        previous: w.restarted_at.clone(),
        restarted_at: restarted_at.to_string(),
        changed: w.restarted_at.as_deref() != Some(restarted_at),
    };
    if !change.changed || cluster.dry_run.is_client() {
        return Ok(change);
    }
    let patch =
        json!({ "spec": { "template": { "metadata": { "annotations": { RESTARTED_AT: restarted_at } } } } });
    w.kind
        .api(cluster, &w.namespace)
        .patch(&w.name, &patch_params(cluster), &Patch::Merge(&patch))
        .await
        .map_err(|e| OpsError::api("rollout restart", w.object(), e))?;
    Ok(change)
}

/// Scale to 0, remembering the current count in [`SCALED_DOWN_REPLICAS`] (one PATCH guarded
/// by `w`'s resourceVersion: if the object changed since it was read the server answers 409 and
/// the caller re-reads). Sends nothing when already at 0; an existing annotation is kept then.
pub async fn scale_down(cluster: &Cluster, w: &WorkloadInfo) -> Result<ReplicaChange, OpsError> {
    let change = ReplicaChange {
        kind: w.kind,
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        previous: w.replicas,
        replicas: 0,
        changed: w.replicas != 0,
    };
    if !change.changed || cluster.dry_run.is_client() {
        return Ok(change);
    }
    let patch = json!({
        "metadata": {
            "resourceVersion": w.resource_version,
            "annotations": { SCALED_DOWN_REPLICAS: w.replicas.to_string() },
        },
        "spec": { "replicas": 0 },
    });
    w.kind
        .api(cluster, &w.namespace)
        .patch(&w.name, &patch_params(cluster), &Patch::Merge(&patch))
        .await
        .map_err(|e| OpsError::api("scale down", w.object(), e))?;
    Ok(change)
}

/// Undo [`scale_down`]: set replicas to the count in [`SCALED_DOWN_REPLICAS`] and remove the
/// annotation (one PATCH guarded by resourceVersion). Sends nothing for a workload without
/// the annotation (pearl did not scale it down): `changed` is false and `replicas` unchanged.
pub async fn scale_up(cluster: &Cluster, w: &WorkloadInfo) -> Result<ReplicaChange, OpsError> {
    let mut change = ReplicaChange {
        kind: w.kind,
        namespace: w.namespace.clone(),
        name: w.name.clone(),
        previous: w.replicas,
        replicas: w.replicas,
        changed: false,
    };
    let Some(text) = w.scaled_down_replicas() else {
        return Ok(change);
    };
    let remembered: i32 = text.trim().parse().ok().filter(|n| *n >= 0).ok_or_else(|| OpsError::Invalid {
        op: "scale up",
        object: w.object(),
        message: format!("annotation {SCALED_DOWN_REPLICAS}={text:?} is not a replica count"),
    })?;
    change.replicas = remembered;
    change.changed = true;
    if cluster.dry_run.is_client() {
        return Ok(change);
    }
    let patch = json!({
        "metadata": {
            "resourceVersion": w.resource_version,
            "annotations": { SCALED_DOWN_REPLICAS: null },
        },
        "spec": { "replicas": remembered },
    });
    w.kind
        .api(cluster, &w.namespace)
        .patch(&w.name, &patch_params(cluster), &Patch::Merge(&patch))
        .await
        .map_err(|e| OpsError::api("scale up", w.object(), e))?;
    Ok(change)
}

/// What to wait for with [`wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitFor {
    /// [`WorkloadInfo::is_ready`]: exactly `replicas` pods, all ready.
    Ready,
    /// [`WorkloadInfo::rollout_complete`].
    Rollout,
}

impl WaitFor {
    fn op(self) -> &'static str {
        match self {
            WaitFor::Ready => "wait for ready replicas of",
            WaitFor::Rollout => "wait for rollout of",
        }
    }

    /// Whether `w` is in the awaited state.
    pub fn holds(self, w: &WorkloadInfo) -> bool {
        match self {
            WaitFor::Ready => w.is_ready(),
            WaitFor::Rollout => w.rollout_complete(),
        }
    }
}

/// Watch one workload until `until` holds; returns its state then. Fails with
/// [`OpsError::Timeout`] (saying where it stood) after `timeout`, with
/// [`OpsError::ConditionFailed`] if it is deleted or does not exist, and with
/// [`OpsError::Cancelled`] when `cancel` fires.
pub async fn wait(
    cluster: &Cluster,
    kind: WorkloadKind,
    namespace: &str,
    name: &str,
    until: WaitFor,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<WorkloadInfo, OpsError> {
    let api = kind.api(cluster, namespace);
    let what = object(kind.noun(), Some(namespace), name);
    watch_until(api, name, until.op(), &what, timeout, cancel, |seen: Option<&DynamicObject>| match seen {
        Some(o) => {
            let w = WorkloadInfo::from_object(kind, o);
            if until.holds(&w) { Step::Done(w) } else { Step::Wait(w.progress()) }
        }
        None => Step::Fail("it does not exist (or was deleted)".into()),
    })
    .await
}

/// What a [`watch_until`] judge decides about the object's latest state.
pub(crate) enum Step<T> {
    /// The condition holds: stop with this value.
    Done(T),
    /// Keep watching; the text says where things stand (used in the timeout message).
    Wait(String),
    /// The condition can no longer hold: stop with this message.
    Fail(String),
}

/// Watch the object `name` of `api` (a watch with a `metadata.name` field selector, relisting
/// with backoff after transient errors) and feed each state to `judge`: `Some(obj)` when it
/// exists, `None` when it is absent from the initial list or deleted.
pub(crate) async fn watch_until<K, T>(
    api: Api<K>,
    name: &str,
    op: &'static str,
    what: &str,
    timeout: Duration,
    cancel: &CancellationToken,
    mut judge: impl FnMut(Option<&K>) -> Step<T>,
) -> Result<T, OpsError>
where
    K: kube::Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let progress = Mutex::new(String::from("no state seen yet"));
    let watching = async {
        let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
        let mut events = std::pin::pin!(watcher(api, config).default_backoff());
        let mut seen = false;
        while let Some(event) = events.next().await {
            let step = match event {
                Ok(watcher::Event::Init) => {
                    seen = false;
                    continue;
                }
                Ok(watcher::Event::InitApply(o)) | Ok(watcher::Event::Apply(o)) => {
                    seen = true;
                    judge(Some(&o))
                }
                Ok(watcher::Event::InitDone) if seen => continue,
                Ok(watcher::Event::InitDone) | Ok(watcher::Event::Delete(_)) => judge(None),
                Err(e) => {
                    let source = match e {
                        watcher::Error::InitialListFailed(e)
                        | watcher::Error::WatchStartFailed(e)
                        | watcher::Error::WatchFailed(e) => e,
                        watcher::Error::WatchError(status) => kube::Error::Api(status),
                        watcher::Error::NoResourceVersion => continue,
                    };
                    if kube_retry_class(&source) == RetryClass::Never {
                        return Err(OpsError::api(op, what, source));
                    }
                    continue;
                }
            };
            match step {
                Step::Done(v) => return Ok(v),
                Step::Wait(text) => *progress.lock().expect("progress lock") = text,
                Step::Fail(message) => {
                    return Err(OpsError::ConditionFailed { op, object: what.to_string(), message });
                }
            }
        }
        Err(OpsError::ConditionFailed { op, object: what.to_string(), message: "the watch ended".into() })
    };
    tokio::select! {
        r = tokio::time::timeout(timeout, watching) => r.unwrap_or_else(|_| {
            let message = progress.lock().expect("progress lock").clone();
            Err(OpsError::Timeout { op, object: what.to_string(), after: timeout, message })
        }),
        _ = cancel.cancelled() => Err(OpsError::Cancelled { op, object: what.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(v: Value) -> WorkloadInfo {
        let o: DynamicObject = serde_json::from_value(v).unwrap();
        WorkloadInfo::from_object(WorkloadKind::Deployment, &o)
    }

    fn deployment(spec_replicas: i64, status: Value) -> WorkloadInfo {
        info(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "generation": 2, "resourceVersion": "7",
                         "annotations": {SCALED_DOWN_REPLICAS: "4"}},
            "spec": {"replicas": spec_replicas, "template": {
                "metadata": {"annotations": {RESTARTED_AT: "2026-01-02T03:04:05Z"}},
                "spec": {"containers": [{"name": "app", "image": "app:1"}, {"name": "side", "image": "side:2"}],
                         "initContainers": [{"name": "setup", "image": "setup:3"}]}}},
            "status": status,
        }))
    }

    #[test]
    fn kinds_parse_the_way_users_write_them() {
        assert_eq!(WorkloadKind::parse("deploy"), Some(WorkloadKind::Deployment));
        assert_eq!(WorkloadKind::parse("Deployments"), Some(WorkloadKind::Deployment));
        assert_eq!(WorkloadKind::parse("sts"), Some(WorkloadKind::StatefulSet));
        assert_eq!(WorkloadKind::parse("StatefulSet"), Some(WorkloadKind::StatefulSet));
        assert_eq!(WorkloadKind::parse("pod"), None);
    }

    #[test]
    fn info_reads_containers_annotations_and_status() {
        let w = deployment(3, json!({"replicas": 3, "readyReplicas": 2, "observedGeneration": 2}));
        assert_eq!(w.object(), "deployment shop/web");
        assert_eq!(w.replicas, 3);
        assert_eq!(w.ready_replicas, 2);
        assert_eq!(w.updated_replicas, 0);
        assert_eq!(w.image_of("side").map(|c| c.image.as_str()), Some("side:2"));
        assert!(w.image_of("setup").unwrap().init);
        assert_eq!(w.restarted_at.as_deref(), Some("2026-01-02T03:04:05Z"));
        assert_eq!(w.scaled_down_replicas(), Some("4"));
        assert_eq!(w.resource_version, "7");
    }

    #[test]
    fn missing_replicas_defaults_to_one() {
        let w = info(
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}, "spec": {}}),
        );
        assert_eq!(w.replicas, 1);
        assert!(!w.is_ready());
    }

    #[test]
    fn ready_needs_observed_generation_and_no_extra_pods() {
        let full = json!({"replicas": 3, "readyReplicas": 3, "updatedReplicas": 3, "availableReplicas": 3,
                          "observedGeneration": 2});
        assert!(deployment(3, full.clone()).is_ready());
        assert!(deployment(3, full.clone()).rollout_complete());
        let mut stale = full.clone();
        stale["observedGeneration"] = json!(1);
        assert!(!deployment(3, stale.clone()).is_ready());
        assert!(deployment(3, stale).progress().contains("not yet observed"));
        let mut old_pods_left = full.clone();
        old_pods_left["replicas"] = json!(4);
        assert!(!deployment(3, old_pods_left.clone()).is_ready());
        assert!(!deployment(3, old_pods_left).rollout_complete());
        let mut not_updated = full;
        not_updated["updatedReplicas"] = json!(2);
        assert!(deployment(3, not_updated.clone()).is_ready());
        assert!(!deployment(3, not_updated).rollout_complete());
        // Scaled to zero: ready once the last pod is gone.
        assert!(deployment(0, json!({"observedGeneration": 2})).is_ready());
        assert!(!deployment(0, json!({"replicas": 1, "observedGeneration": 2})).is_ready());
    }

    #[test]
    fn restart_timestamp_is_rfc3339_in_whole_seconds() {
        let t: jiff::Timestamp = "2026-11-23T10:37:03.123456Z".parse().unwrap();
        assert_eq!(restart_timestamp(t), "2026-11-23T10:37:03Z");
    }
}
