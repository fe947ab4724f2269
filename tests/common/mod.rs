//! Helpers for integration tests that run against the local control plane started by
//! `tests/cluster/up` (etcd + kube-apiserver + controller-manager + scheduler + kwok).
//!
//! Use from an integration test with `mod common;`. The cluster is found through
//! `PEARL_CLUSTER_DIR` (its `kubeconfig`), else `KUBECONFIG`, else `/tmp/pearl-cluster` if a
//! cluster runs there. Without a cluster the helpers PANIC: integration tests fail, never skip.
//! `tests/run` starts the cluster and exports the variables.
//!
//! Clients are not cached: a `kube::Client` belongs to the tokio runtime that created it and
//! every `#[tokio::test]` has its own runtime, so build one per test (cheap).
//!
//! Pod outcomes on the fake kwok nodes are chosen with annotations (or labels), see [`Outcome`]
//! and `tests/cluster/kwok/stages.yaml`.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{Container, Namespace, Pod, PodSpec, PodTemplateSpec, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{
    ApiResource, AttachParams, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::wait::{Condition, await_condition, conditions};
use kube::runtime::watcher;
use kube::{Api, Client, Config, Resource};
use serde::de::DeserializeOwned;
use serde_json::json;

/// Default timeout for waits in tests.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Annotation (or label) choosing what kwok does with a pod: see [`Outcome`].
pub const OUTCOME: &str = "pearl.test/outcome";
/// Exit code for `fail` (terminated state) and `crashloop` (lastState), default "1".
pub const EXIT_CODE: &str = "pearl.test/exit-code";
/// restartCount for `crashloop`, default "3".
pub const RESTARTS: &str = "pearl.test/restarts";
/// Annotation only: Go duration ("2s") a `succeed`/`fail` pod stays Running first (default 0).
pub const DELAY: &str = "pearl.test/delay";
/// Label put on every namespace made by [`TestNs`].
pub const TEST_NS_LABEL: &str = "pearl.test/ephemeral";
/// Default container image of test pods (never pulled: kwok nodes are fake).
pub const TEST_IMAGE: &str = "registry.invalid/pearl/test:1";

const NOT_RUNNING: &str = "cluster not running: run tests/cluster/up \
     (then `source /tmp/pearl-cluster/env`), or run everything with tests/run";

// ----------------------------------------------------------------------------- locating the cluster

/// The cluster's state dir, if known (`PEARL_CLUSTER_DIR`, else the dir of a `KUBECONFIG` that
/// sits in a cluster dir, else `/tmp/pearl-cluster` when a cluster runs there).
pub fn cluster_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PEARL_CLUSTER_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(kc) = first_kubeconfig_env() {
        let dir = kc.parent()?.to_path_buf();
        return dir.join("env").is_file().then_some(dir);
    }
    let default = PathBuf::from("/tmp/pearl-cluster");
    default.join("env").is_file().then_some(default)
}

fn first_kubeconfig_env() -> Option<PathBuf> {
    let v = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty())?;
    std::env::split_paths(&v).next()
}

/// Path of the admin kubeconfig (user `pearl-admin`, cluster-admin through RBAC, not
/// `system:masters`). Panics with "cluster not running: run tests/cluster/up" when none.
pub fn kubeconfig_path() -> PathBuf {
    let path = if let Some(d) = std::env::var_os("PEARL_CLUSTER_DIR").filter(|d| !d.is_empty()) {
        PathBuf::from(d).join("kubeconfig")
    } else if let Some(kc) = first_kubeconfig_env() {
        kc
    } else {
        PathBuf::from("/tmp/pearl-cluster/kubeconfig")
    };
    if !path.is_file() {
        panic!("{NOT_RUNNING} (no kubeconfig at {})", path.display());
    }
    path
}

/// Path of the restricted kubeconfig: user `pearl-restricted` may only get/list pods in the
/// namespace [`RESTRICTED_NS`].
pub fn restricted_kubeconfig_path() -> PathBuf {
    let path = std::env::var_os("PEARL_RESTRICTED_KUBECONFIG")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| cluster_dir().map(|d| d.join("restricted.kubeconfig")))
        .unwrap_or_else(|| panic!("{NOT_RUNNING} (PEARL_CLUSTER_DIR not set)"));
    if !path.is_file() {
        panic!("{NOT_RUNNING} (no restricted kubeconfig at {})", path.display());
    }
    path
}

/// The only namespace where the restricted user may get/list pods.
pub const RESTRICTED_NS: &str = "pearl-restricted";

/// Builds a client from exactly this kubeconfig file (its current context), never from the
/// ambient kubeconfig. Refuses non-loopback servers unless PEARL_ALLOW_REMOTE=1, so tests
/// never create/delete namespaces on a real cluster by accident.
pub async fn client_from(path: &Path) -> Client {
    Client::try_from(config_from(path).await).expect("cannot build kube client")
}

/// A client from this kubeconfig with kube's built-in retry of 429/503/504 turned off, so a
/// test sees every throttled or refused request (and the pool's own retries can be counted).
pub async fn client_without_retry(path: &Path) -> Client {
    let mut config = config_from(path).await;
    config.default_retry = false;
    Client::try_from(config).expect("cannot build kube client")
}

/// The kube `Config` of exactly this kubeconfig file (current context), with the same
/// loopback-only guard as [`client_from`].
pub async fn config_from(path: &Path) -> Config {
    let kc = Kubeconfig::read_from(path)
        .unwrap_or_else(|e| panic!("{NOT_RUNNING} (cannot read {}: {e})", path.display()));
    let config = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap_or_else(|e| panic!("bad kubeconfig {}: {e}", path.display()));
    let host = config.cluster_url.host().unwrap_or_default().to_string();
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]" | "::1");
    if !loopback && std::env::var("PEARL_ALLOW_REMOTE").as_deref() != Ok("1") {
        panic!(
            "refusing to run tests against non-local cluster {} (from {}); \
             set PEARL_ALLOW_REMOTE=1 if you really mean it",
            config.cluster_url,
            path.display()
        );
    }
    config
}

/// Admin client for the local cluster (see [`kubeconfig_path`]).
pub async fn client() -> Client {
    client_from(&kubeconfig_path()).await
}

/// Client of the restricted user (get/list pods in [`RESTRICTED_NS`] only).
pub async fn restricted_client() -> Client {
    client_from(&restricted_kubeconfig_path()).await
}

/// The kubectl-pearl binary built by cargo for this test run.
pub fn pearl_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubectl-pearl"))
}

/// `kubectl-pearl` as a Command with KUBECONFIG pointing at the test cluster.
pub fn pearl() -> Command {
    let mut c = Command::new(pearl_bin());
    c.env("KUBECONFIG", kubeconfig_path());
    c
}

/// What a finished command printed and how it exited.
#[derive(Debug, Clone)]
pub struct CmdOutput {
    /// Exit code; None if killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CmdOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    fn from_output(o: std::process::Output) -> CmdOutput {
        CmdOutput {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Display for CmdOutput {
    /// For assertion messages: exit code, then both streams.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit code {:?}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs a command to completion (stdin closed), blocking; e.g. `run_cmd(pearl().args([..]))`.
pub fn run_cmd(cmd: &mut Command) -> CmdOutput {
    let o = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {:?}: {e}", cmd.get_program()));
    CmdOutput::from_output(o)
}

/// As [`run_cmd`] without blocking the test's runtime (other futures keep running meanwhile);
/// killed if the future is dropped.
pub async fn run_cmd_async(cmd: Command) -> CmdOutput {
    let program = cmd.get_program().to_os_string();
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.stdin(std::process::Stdio::null()).kill_on_drop(true);
    let o = cmd.output().await.unwrap_or_else(|e| panic!("cannot run {program:?}: {e}"));
    CmdOutput::from_output(o)
}

/// Path of the cluster's own kubectl (same version as the server), else `kubectl` on PATH.
pub fn kubectl_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("PEARL_KUBECTL").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    match cluster_dir().map(|d| d.join("bin/kubectl")) {
        Some(p) if p.exists() => p,
        _ => PathBuf::from("kubectl"),
    }
}

/// kubectl for the test cluster, `--kubeconfig` already set (admin user).
pub fn kubectl() -> Command {
    let mut c = Command::new(kubectl_bin());
    c.arg("--kubeconfig").arg(kubeconfig_path());
    c
}

// ----------------------------------------------------------------------------- names, objects

/// A DNS-1123 label: `<prefix>-<8 random chars>`, at most 63 chars.
pub fn unique_name(prefix: &str) -> String {
    let mut p: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    p.truncate(40);
    let p = p.trim_matches('-');
    let p = if p.is_empty() { "t" } else { p };
    let suffix: String = (0..8)
        .map(|_| {
            let c = fastrand::u8(0..36);
            if c < 10 { (b'0' + c) as char } else { (b'a' + c - 10) as char }
        })
        .collect();
    format!("{p}-{suffix}")
}

fn string_map(kv: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    (!kv.is_empty()).then(|| kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// What kwok makes of a pod (annotation `pearl.test/outcome` and friends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Running and Ready (kwok's default; no annotation).
    Run,
    /// Running, then Succeeded; containers terminated with exit code 0.
    Succeed,
    /// Running, then Failed; containers terminated with this exit code, reason Error.
    Fail(i32),
    /// Running, not ready; containers waiting CrashLoopBackOff with restartCount = restarts.
    CrashLoop { restarts: u32, exit_code: i32 },
    /// Pending, not ready; containers waiting ImagePullBackOff.
    ImagePull,
}

impl Outcome {
    /// Annotations producing this outcome.
    pub fn annotations(&self) -> Vec<(&'static str, String)> {
        match self {
            Outcome::Run => vec![],
            Outcome::Succeed => vec![(OUTCOME, "succeed".into())],
            Outcome::Fail(code) => vec![(OUTCOME, "fail".into()), (EXIT_CODE, code.to_string())],
            Outcome::CrashLoop { restarts, exit_code } => vec![
                (OUTCOME, "crashloop".into()),
                (RESTARTS, restarts.to_string()),
                (EXIT_CODE, exit_code.to_string()),
            ],
            Outcome::ImagePull => vec![(OUTCOME, "imagepull".into())],
        }
    }
}

/// A bare pod with one container `main` running [`TEST_IMAGE`].
pub fn pod_object(name: &str, labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: string_map(labels),
            annotations: string_map(annotations),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "main".into(),
                image: Some(TEST_IMAGE.into()),
                ..Default::default()
            }],
            termination_grace_period_seconds: Some(0),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A Deployment `name` whose pods carry `labels` (also its selector) and `app=<name>`.
pub fn deployment_object(name: &str, replicas: i32, labels: &[(&str, &str)]) -> Deployment {
    let mut pod_labels: BTreeMap<String, String> = string_map(labels).unwrap_or_default();
    pod_labels.entry("app".into()).or_insert_with(|| name.to_string());
    Deployment {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(pod_labels.clone()),
            ..Default::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(replicas),
            selector: LabelSelector { match_labels: Some(pod_labels.clone()), ..Default::default() },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(pod_labels), ..Default::default() }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "main".into(),
                        image: Some(TEST_IMAGE.into()),
                        ..Default::default()
                    }],
                    termination_grace_period_seconds: Some(0),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Label selector string `k=v,k2=v2`.
pub fn selector(labels: &[(&str, &str)]) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

// ----------------------------------------------------------------------------- waiting

/// `await_condition` with a timeout; returns the object (None if the condition holds for a
/// missing object, e.g. `is_deleted`).
pub async fn wait_for<K>(
    api: &Api<K>,
    name: &str,
    cond: impl Condition<K>,
    timeout: Duration,
) -> Result<Option<K>>
where
    K: Clone + std::fmt::Debug + Send + DeserializeOwned + Resource + 'static,
{
    tokio::time::timeout(timeout, await_condition(api.clone(), name, cond))
        .await
        .map_err(|_| anyhow!("timed out after {timeout:?} waiting for {name}"))?
        .with_context(|| format!("watching {name}"))
}

/// Watches objects matching `label_selector` until at least `count` of them satisfy `pred`;
/// returns those. Fails after `timeout`.
pub async fn wait_matching<K>(
    api: &Api<K>,
    label_selector: &str,
    count: usize,
    timeout: Duration,
    pred: impl Fn(&K) -> bool,
) -> Result<Vec<K>>
where
    K: Clone + std::fmt::Debug + Send + Sync + DeserializeOwned + Resource + 'static,
{
    let mut state: HashMap<String, K> = HashMap::new();
    let mut init: HashMap<String, K> = HashMap::new();
    let matched = |state: &HashMap<String, K>| -> Option<Vec<K>> {
        let v: Vec<K> = state.values().filter(|o| pred(o)).cloned().collect();
        (v.len() >= count).then_some(v)
    };
    let cfg = watcher::Config::default().labels(label_selector);
    let stream = watcher(api.clone(), cfg);
    let fut = async {
        let mut stream = std::pin::pin!(stream);
        while let Some(ev) = stream.try_next().await? {
            match ev {
                watcher::Event::Init => init.clear(),
                watcher::Event::InitApply(o) => {
                    init.insert(o.meta().name.clone().unwrap_or_default(), o);
                }
                watcher::Event::InitDone => state = std::mem::take(&mut init),
                watcher::Event::Apply(o) => {
                    state.insert(o.meta().name.clone().unwrap_or_default(), o);
                }
                watcher::Event::Delete(o) => {
                    state.remove(o.meta().name.as_deref().unwrap_or_default());
                }
            }
            if let Some(v) = matched(&state) {
                return Ok(v);
            }
        }
        bail!("watch stream ended")
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => {
            let n = state.values().filter(|o| pred(o)).count();
            bail!("timed out after {timeout:?}: {n} of {count} objects matching '{label_selector}' ready")
        }
    }
}

/// Pod phase ("Running", "Succeeded", ...), "" if none yet.
pub fn pod_phase(p: &Pod) -> &str {
    p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("")
}

/// Running with every container ready.
pub fn pod_running_ready(p: &Pod) -> bool {
    pod_phase(p) == "Running"
        && p.status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .is_some_and(|cs| !cs.is_empty() && cs.iter().all(|c| c.ready))
}

/// Condition: pod phase is one of `phases`.
pub fn pod_in_phase(phases: &'static [&'static str]) -> impl Condition<Pod> {
    move |p: Option<&Pod>| p.is_some_and(|p| phases.contains(&pod_phase(p)))
}

/// Condition: some container of the pod is waiting with this reason (CrashLoopBackOff, ...).
pub fn pod_waiting_reason(reason: &'static str) -> impl Condition<Pod> {
    move |p: Option<&Pod>| {
        p.and_then(|p| p.status.as_ref()).and_then(|s| s.container_statuses.as_ref()).is_some_and(|cs| {
            cs.iter().any(|c| {
                c.state
                    .as_ref()
                    .and_then(|s| s.waiting.as_ref())
                    .is_some_and(|w| w.reason.as_deref() == Some(reason))
            })
        })
    }
}

/// Exit code of the first terminated container of the pod.
pub fn pod_exit_code(p: &Pod) -> Option<i32> {
    p.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .iter()
        .find_map(|c| c.state.as_ref()?.terminated.as_ref().map(|t| t.exit_code))
}

// ----------------------------------------------------------------------------- kwok Logs/Exec

/// kwok's namespaced `Logs` kind (what `logs` returns for a pod; name = pod name).
pub fn kwok_logs_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("kwok.x-k8s.io", "v1alpha1", "Logs"), "logs")
}

/// kwok's namespaced `Exec` kind (where `exec` runs commands for a pod; name = pod name).
pub fn kwok_exec_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("kwok.x-k8s.io", "v1alpha1", "Exec"), "execs")
}

/// One CRI log line (`<RFC3339Nano> stdout F <text>`), the format kwok's logs files need.
pub fn cri_log_line(text: &str) -> String {
    format!("{} stdout F {text}\n", jiff::Timestamp::now())
}

/// Appends lines to a kwok logs file (shows up in `logs -f`).
pub fn append_log_lines(path: &Path, lines: &[&str]) -> Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    for l in lines {
        f.write_all(cri_log_line(l).as_bytes())?;
    }
    Ok(())
}

// ----------------------------------------------------------------------------- TestNs

/// A fresh, uniquely named namespace for one test; deleted when dropped (set
/// PEARL_KEEP_NAMESPACES=1 to keep them for debugging).
pub struct TestNs {
    pub name: String,
    pub client: Client,
}

impl TestNs {
    /// Creates `<prefix>-<random>` (labelled `pearl.test/ephemeral=true`) and waits until its
    /// `default` ServiceAccount exists (pods are rejected before that).
    pub async fn new(prefix: &str) -> TestNs {
        let client = client().await;
        let name = unique_name(prefix);
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                labels: string_map(&[(TEST_NS_LABEL, "true")]),
                ..Default::default()
            },
            ..Default::default()
        };
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .unwrap_or_else(|e| panic!("cannot create namespace {name} ({NOT_RUNNING}?): {e}"));
        let t = TestNs { name, client };
        let sas: Api<ServiceAccount> = t.api();
        wait_for(&sas, "default", conditions::is_created(), TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("namespace {}: no default ServiceAccount: {e}", t.name));
        t
    }

    /// A namespaced Api in this namespace.
    pub fn api<K>(&self) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as Resource>::DynamicType: Default,
    {
        Api::namespaced(self.client.clone(), &self.name)
    }

    pub fn pods(&self) -> Api<Pod> {
        self.api()
    }

    pub fn deployments(&self) -> Api<Deployment> {
        self.api()
    }

    /// Dynamic Api for a namespaced kind (e.g. [`kwok_logs_resource`]).
    pub fn dynamic(&self, ar: &ApiResource) -> Api<DynamicObject> {
        Api::namespaced_with(self.client.clone(), &self.name, ar)
    }

    /// Creates one bare pod.
    pub async fn create_pod(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        annotations: &[(&str, &str)],
    ) -> Result<Pod> {
        self.pods()
            .create(&PostParams::default(), &pod_object(name, labels, annotations))
            .await
            .with_context(|| format!("creating pod {}/{name}", self.name))
    }

    /// Creates one bare pod with the given kwok outcome.
    pub async fn create_pod_with_outcome(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        outcome: &Outcome,
    ) -> Result<Pod> {
        let ann = outcome.annotations();
        let ann: Vec<(&str, &str)> = ann.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.create_pod(name, labels, &ann).await
    }

    /// Creates `n` bare pods `<prefix>-<i>` concurrently (32 in flight); returns their names.
    pub async fn create_pods(&self, prefix: &str, n: usize, labels: &[(&str, &str)]) -> Result<Vec<String>> {
        self.create_pods_with(prefix, n, labels, &[]).await
    }

    /// As [`create_pods`](Self::create_pods), with annotations (e.g. an [`Outcome`]).
    pub async fn create_pods_with(
        &self,
        prefix: &str,
        n: usize,
        labels: &[(&str, &str)],
        annotations: &[(&str, &str)],
    ) -> Result<Vec<String>> {
        let names: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
        let api = self.pods();
        futures::stream::iter(names.iter().map(|name| {
            let api = api.clone();
            let pod = pod_object(name, labels, annotations);
            async move {
                api.create(&PostParams::default(), &pod).await.with_context(|| format!("creating pod {name}"))
            }
        }))
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await?;
        Ok(names)
    }

    /// Waits until at least `count` pods matching `label_selector` are Running and Ready.
    pub async fn wait_pods_running(
        &self,
        label_selector: &str,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Pod>> {
        wait_matching(&self.pods(), label_selector, count, timeout, pod_running_ready).await
    }

    /// Waits for one pod to satisfy a condition; returns it.
    pub async fn wait_pod(&self, name: &str, cond: impl Condition<Pod>, timeout: Duration) -> Result<Pod> {
        wait_for(&self.pods(), name, cond, timeout).await?.ok_or_else(|| anyhow!("pod {name} is gone"))
    }

    /// Creates a Deployment (pods labelled `app=<name>` plus `labels`).
    pub async fn create_deployment(
        &self,
        name: &str,
        replicas: i32,
        labels: &[(&str, &str)],
    ) -> Result<Deployment> {
        self.deployments()
            .create(&PostParams::default(), &deployment_object(name, replicas, labels))
            .await
            .with_context(|| format!("creating deployment {}/{name}", self.name))
    }

    /// Makes `logs` of `pod` return `lines` (any container): writes a CRI-format logs file under
    /// `$PEARL_CLUSTER_DIR/kwok/logs/` and creates a kwok `Logs` object for the pod (with
    /// `follow: true`, so lines appended with [`append_log_lines`] show up in `logs -f`).
    /// Waits until the API server actually returns the new content. Returns the file.
    pub async fn set_pod_logs(&self, pod: &str, lines: &[&str]) -> Result<PathBuf> {
        let dir = cluster_dir().ok_or_else(|| anyhow!("{NOT_RUNNING}"))?.join("kwok/logs").join(&self.name);
        std::fs::create_dir_all(&dir)?;
        let file = dir.join(format!("{pod}.log"));
        std::fs::write(&file, "")?;
        append_log_lines(&file, lines)?;
        let obj = DynamicObject::new(pod, &kwok_logs_resource()).within(&self.name).data(json!({
            "spec": { "logs": [ { "logsFile": file.to_string_lossy(), "follow": true } ] }
        }));
        self.apply_dynamic(&kwok_logs_resource(), pod, obj).await?;
        // kwok learns about the object through its informer: wait until the logs switch over.
        let want = lines.first().copied().unwrap_or_default();
        let pods = self.pods();
        self.poll_until(|| async {
            let got = pods.logs(pod, &Default::default()).await.unwrap_or_default();
            if lines.is_empty() { !got.contains("pearl: fake container log") } else { got.starts_with(want) }
        })
        .await
        .with_context(|| format!("kwok did not pick up the Logs object for {pod}"))?;
        Ok(file)
    }

    /// Makes `exec` into `pod` run commands on this machine in `work_dir` with `envs` set, via
    /// a kwok `Exec` object (without one, exec runs in `$PEARL_CLUSTER_DIR/kwok/exec`).
    /// Waits until kwok uses it.
    pub async fn set_pod_exec(&self, pod: &str, work_dir: &Path, envs: &[(&str, &str)]) -> Result<()> {
        let envs: Vec<_> = envs.iter().map(|(k, v)| json!({"name": k, "value": v})).collect();
        let obj = DynamicObject::new(pod, &kwok_exec_resource()).within(&self.name).data(json!({
            "spec": { "execs": [ { "local": { "workDir": work_dir.to_string_lossy(), "envs": envs } } ] }
        }));
        self.apply_dynamic(&kwok_exec_resource(), pod, obj).await?;
        let want = work_dir.canonicalize().unwrap_or_else(|_| work_dir.to_path_buf());
        self.poll_until(|| async {
            match exec_output(&self.pods(), pod, &["pwd"]).await {
                Ok(out) => Path::new(out.stdout.trim()) == want,
                Err(_) => false,
            }
        })
        .await
        .with_context(|| format!("kwok did not pick up the Exec object for {pod}"))
    }

    async fn apply_dynamic(&self, ar: &ApiResource, name: &str, obj: DynamicObject) -> Result<()> {
        self.dynamic(ar)
            .patch(name, &PatchParams::apply("pearl-tests").force(), &Patch::Apply(&obj))
            .await
            .with_context(|| format!("applying {} {}/{name}", ar.kind, self.name))?;
        Ok(())
    }

    /// Polls (every 100 ms, up to 15 s) for state that cannot be watched (kwok's in-memory view).
    async fn poll_until<F, Fut>(&self, f: F) -> Result<()>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            if f().await {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("timed out after 15s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Deletes the namespace now and waits until it is gone.
    pub async fn delete_and_wait(self, timeout: Duration) -> Result<()> {
        let api = Api::<Namespace>::all(self.client.clone());
        let ns = api.get(&self.name).await?;
        let uid = ns.metadata.uid.clone().unwrap_or_default();
        api.delete(&self.name, &DeleteParams::background()).await?;
        wait_for(&api, &self.name, conditions::is_deleted(&uid), timeout).await?;
        Ok(())
    }
}

impl Drop for TestNs {
    fn drop(&mut self) {
        if std::env::var("PEARL_KEEP_NAMESPACES").as_deref() == Ok("1") {
            eprintln!("keeping test namespace {}", self.name);
            return;
        }
        // Drop is sync and may run inside a runtime: send the delete from a thread with its own
        // runtime and wait (bounded) until the API server accepted it; don't wait for the
        // namespace to be gone.
        let name = self.name.clone();
        let path = kubeconfig_path();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(anyhow!(e)));
                    return;
                }
            };
            let r = rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), async {
                    let c = client_from(&path).await;
                    match Api::<Namespace>::all(c).delete(&name, &DeleteParams::background()).await {
                        Ok(_) => Ok(()),
                        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
                        Err(e) => Err(anyhow!(e)),
                    }
                })
                .await
                .unwrap_or_else(|_| Err(anyhow!("timed out")))
            });
            let _ = tx.send(r);
        });
        match rx.recv_timeout(Duration::from_secs(12)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not delete test namespace {}: {e}", self.name),
            Err(_) => eprintln!("warning: timed out deleting test namespace {}", self.name),
        }
    }
}

// ----------------------------------------------------------------------------- exec

/// Output of a command run with [`exec_output`].
#[derive(Debug, Default)]
pub struct ExecOutput {
    pub stdout: String,
    pub stderr: String,
    /// None for success; the exit code parsed from the Status otherwise (kwok reports
    /// "exit status N" with reason InternalError, a real kubelet NonZeroExitCode + ExitCode cause).
    pub exit_code: Option<i32>,
    pub status: Option<k8s_openapi::apimachinery::pkg::apis::meta::v1::Status>,
}

/// Runs `cmd` in the pod's first container through the API server (websocket exec).
pub async fn exec_output(pods: &Api<Pod>, pod: &str, cmd: &[&str]) -> Result<ExecOutput> {
    use tokio::io::AsyncReadExt;
    let ap = AttachParams::default().stdin(false).stdout(true).stderr(true);
    let mut proc = pods.exec(pod, cmd.to_vec(), &ap).await.with_context(|| format!("exec in {pod}"))?;
    let mut so = proc.stdout().ok_or_else(|| anyhow!("no stdout"))?;
    let mut se = proc.stderr().ok_or_else(|| anyhow!("no stderr"))?;
    let status = proc.take_status().ok_or_else(|| anyhow!("no status"))?;
    let (mut out, mut err) = (String::new(), String::new());
    let (r1, r2) = tokio::join!(so.read_to_string(&mut out), se.read_to_string(&mut err));
    r1?;
    r2?;
    let status = status.await;
    proc.join().await.ok();
    let exit_code = status.as_ref().and_then(status_exit_code);
    Ok(ExecOutput { stdout: out, stderr: err, exit_code, status })
}

/// Exit code from an exec Status: None on Success; from the ExitCode cause (real kubelet) or
/// from "exit status N" in the message (kwok); -1 if failed without a recognisable code.
pub fn status_exit_code(s: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Status) -> Option<i32> {
    if s.status.as_deref() == Some("Success") {
        return None;
    }
    let from_cause = s.details.as_ref().and_then(|d| d.causes.as_ref()).and_then(|cs| {
        cs.iter()
            .find(|c| c.reason.as_deref() == Some("ExitCode"))
            .and_then(|c| c.message.as_deref()?.trim().parse().ok())
    });
    let from_msg = || {
        let m = s.message.as_deref()?;
        let i = m.find("exit status ")? + "exit status ".len();
        m[i..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    };
    Some(from_cause.or_else(from_msg).unwrap_or(-1))
}

// ----------------------------------------------------------------------------- private clusters

/// `tests/cluster/` of this repository (the up/down/apiserver/status scripts).
pub fn cluster_scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/cluster")
}

/// Output of one of the `tests/cluster/*` scripts.
#[derive(Debug)]
pub struct ScriptOutput {
    pub success: bool,
    pub code: Option<i32>,
    /// stdout and stderr interleaved as written.
    pub output: String,
}

/// Runs `tests/cluster/<script> args...` for the cluster in `dir` (sets PEARL_CLUSTER_DIR).
pub async fn run_cluster_script(
    dir: &Path,
    script: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> Result<ScriptOutput> {
    let path = cluster_scripts_dir().join(script);
    // One pipe for both streams keeps the order of the script's messages.
    let (reader, writer) = std::io::pipe().context("pipe")?;
    let mut cmd = tokio::process::Command::new("bash");
    cmd.arg(&path)
        .args(args)
        .env("PEARL_CLUSTER_DIR", dir)
        .envs(envs.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(writer.try_clone().context("pipe")?)
        .stderr(writer)
        .kill_on_drop(true);
    let mut child = cmd.spawn().with_context(|| format!("running {}", path.display()))?;
    drop(cmd); // closes our copies of the write end, so reading ends when the script exits
    let read = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut s = String::new();
        let mut r = reader;
        r.read_to_string(&mut s).map(|_| s)
    });
    let status = child.wait().await.with_context(|| format!("waiting for {}", path.display()))?;
    let output = read.await.context("reading script output")?.context("reading script output")?;
    Ok(ScriptOutput { success: status.success(), code: status.code(), output })
}

/// A cluster of a test's own, in `/tmp/pearl-private-<name>-<random>`, for tests that stop,
/// restart or throttle the API server (doing that to the shared cluster would break the tests
/// of everyone else running against it). Costs about 10 s and ~1 GB of RAM; stopped and its
/// state dir removed on drop. Same binaries, scripts and kubeconfigs as the shared cluster.
pub struct PrivateCluster {
    pub dir: PathBuf,
    /// What `tests/cluster/up` printed.
    pub up_output: String,
}

impl PrivateCluster {
    /// Starts a private cluster with 2 fake nodes (fails with up's output if it cannot start).
    pub async fn start(name: &str) -> Result<PrivateCluster> {
        Self::start_with(name, &[]).await
    }

    /// As [`start`](Self::start), with extra environment for `tests/cluster/up`
    /// (`PEARL_NODES`, `PEARL_APISERVER_EXTRA_ARGS`, `PEARL_UP_TIMEOUT`).
    pub async fn start_with(name: &str, envs: &[(&str, &str)]) -> Result<PrivateCluster> {
        sweep_stale_private_clusters().await;
        let dir = PathBuf::from("/tmp").join(format!("{PRIVATE_PREFIX}{}", unique_name(name)));
        let out = run_cluster_script(&dir, "up", &[], envs).await?;
        // Built before checking success, so a half-started cluster is cleaned up by Drop.
        let c = PrivateCluster { dir, up_output: out.output };
        if !out.success {
            bail!("tests/cluster/up failed for {}:\n{}", c.dir.display(), c.up_output);
        }
        // Lets a later test stop this cluster if our process dies without running Drop.
        std::fs::write(c.dir.join(OWNER_FILE), std::process::id().to_string())?;
        Ok(c)
    }

    /// Admin kubeconfig of this cluster.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// Admin client of this cluster.
    pub async fn client(&self) -> Client {
        client_from(&self.kubeconfig()).await
    }

    /// Client of the restricted user of this cluster.
    pub async fn restricted_client(&self) -> Client {
        client_from(&self.dir.join("restricted.kubeconfig")).await
    }

    /// Variables of its `env` file (PEARL_APISERVER_PORT, PEARL_APISERVER_PID, ...).
    pub fn env(&self) -> Result<HashMap<String, String>> {
        let text = std::fs::read_to_string(self.dir.join("env"))
            .with_context(|| format!("no env file in {}", self.dir.display()))?;
        Ok(text
            .lines()
            .filter_map(|l| l.strip_prefix("export ")?.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect())
    }

    /// Runs one of the cluster scripts against this cluster (`"status"`, `"up"`, ...).
    pub async fn script(&self, script: &str, args: &[&str]) -> Result<ScriptOutput> {
        run_cluster_script(&self.dir, script, args, &[]).await
    }

    /// `tests/cluster/apiserver ARGS` (stop, start, restart, throttle N [M] [--no-apf],
    /// unthrottle); fails with the script's output if it exits non-zero. Async, so requests
    /// can run meanwhile on the same runtime.
    pub async fn apiserver(&self, args: &[&str]) -> Result<String> {
        let out = self.script("apiserver", args).await?;
        if !out.success {
            bail!("tests/cluster/apiserver {} failed ({:?}):\n{}", args.join(" "), out.code, out.output);
        }
        Ok(out.output)
    }

    /// `kubectl-pearl` with KUBECONFIG pointing at this cluster.
    pub fn pearl(&self) -> Command {
        let mut c = Command::new(pearl_bin());
        c.env("KUBECONFIG", self.kubeconfig());
        c
    }

    /// kubectl (the cluster's own) for this cluster, admin user.
    pub fn kubectl(&self) -> Command {
        let mut c = Command::new(self.dir.join("bin/kubectl"));
        c.arg("--kubeconfig").arg(self.kubeconfig());
        c
    }
}

const PRIVATE_PREFIX: &str = "pearl-private-";
const OWNER_FILE: &str = "owner.pid";

/// Stops private clusters left behind by test processes that died without dropping them
/// (killed by a timeout, SIGKILL): their `owner.pid` names a dead process, or they never got
/// one and are over 30 minutes old.
pub async fn sweep_stale_private_clusters() {
    let Ok(entries) = std::fs::read_dir("/tmp") else { return };
    for e in entries.flatten() {
        let dir = e.path();
        let is_private = e.file_name().to_str().is_some_and(|n| n.starts_with(PRIVATE_PREFIX))
            && !e.file_name().to_str().is_some_and(|n| n.ends_with(".lock"))
            && dir.is_dir();
        if !is_private {
            continue;
        }
        let stale = match std::fs::read_to_string(dir.join(OWNER_FILE)) {
            Ok(pid) => !Path::new("/proc").join(pid.trim()).exists(),
            Err(_) => e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > Duration::from_secs(1800))),
        };
        if stale {
            eprintln!("stopping stale private cluster {}", dir.display());
            if let Ok(out) = run_cluster_script(&dir, "down", &["--purge"], &[]).await
                && !out.success
            {
                eprintln!("warning: could not stop {}:\n{}", dir.display(), out.output);
            }
        }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let out = Command::new("bash")
            .arg(cluster_scripts_dir().join("down"))
            .arg("--purge")
            .env("PEARL_CLUSTER_DIR", &self.dir)
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "warning: could not stop private cluster {}: {}",
                self.dir.display(),
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("warning: could not run tests/cluster/down for {}: {e}", self.dir.display()),
        }
    }
}

// ----------------------------------------------------------------------------- processes, sockets

/// TCP addresses process `pid` listens on (from /proc/net/tcp{,6} and the process's socket
/// fds; needs the same user or root).
pub fn listening_addresses(pid: u32) -> Result<Vec<std::net::SocketAddr>> {
    let mut inodes = std::collections::HashSet::new();
    let fd_dir = format!("/proc/{pid}/fd");
    for e in std::fs::read_dir(&fd_dir).with_context(|| format!("reading {fd_dir}"))? {
        let Ok(target) = std::fs::read_link(e?.path()) else { continue };
        if let Some(inode) =
            target.to_str().and_then(|t| t.strip_prefix("socket:[")).and_then(|t| t.strip_suffix(']'))
        {
            inodes.insert(inode.to_string());
        }
    }
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            if f.len() > 9 && f[3] == "0A" && inodes.contains(f[9]) {
                out.push(
                    parse_proc_net_addr(f[1]).with_context(|| format!("bad address {} in {table}", f[1]))?,
                );
            }
        }
    }
    Ok(out)
}

/// `0100007F:1F90` (IPv4) or 32 hex digits + port (IPv6), as in /proc/net/tcp{,6}.
pub fn parse_proc_net_addr(s: &str) -> Result<std::net::SocketAddr> {
    let (ip, port) = s.split_once(':').ok_or_else(|| anyhow!("no port"))?;
    let port = u16::from_str_radix(port, 16)?;
    // The kernel prints the address as 32-bit words in host byte order: the native bytes of
    // each word are the address bytes in network order.
    if ip.len() % 8 != 0 || !ip.is_ascii() {
        bail!("bad address length");
    }
    let mut bytes = Vec::with_capacity(16);
    for i in 0..ip.len() / 8 {
        bytes.extend(u32::from_str_radix(&ip[i * 8..i * 8 + 8], 16)?.to_ne_bytes());
    }
    let ip: std::net::IpAddr = match bytes.len() {
        4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes.as_slice())?).into(),
        16 => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes.as_slice())?).into(),
        _ => bail!("bad address length"),
    };
    Ok(std::net::SocketAddr::new(ip, port))
}

/// Pids of processes whose executable path (argv[0]) starts with `prefix`.
pub fn pids_with_exe_prefix(prefix: &Path) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return vec![] };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| {
                let argv0 = c.split(|b| *b == 0).next().unwrap_or_default();
                Path::new(std::ffi::OsStr::new(std::str::from_utf8(argv0).unwrap_or_default()))
                    .starts_with(prefix)
            })
        })
        .collect()
}
