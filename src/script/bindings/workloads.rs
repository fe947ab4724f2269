//! Deployments and StatefulSets: list/get, scale, set image, rollout restart, scale down/up
//! (remembering replicas), wait for ready/rollout. Generic functions take the kind
//! ("deployment"/"deploy", "statefulset"/"sts"); `*_deployment(s)` shorthands are given for the
//! common cases.

use std::time::Duration;

use rhai::{Array, Dynamic, INT};

use super::{Registrar, Res, scope, to_dyn};
use crate::ops::OpsError;
use crate::ops::namespaces::deletion_verdict;
use crate::ops::workloads::{self as ops, WaitFor, WorkloadInfo, WorkloadKind};
use crate::script::host::{self, runtime_error};

fn kind_of(text: &str) -> Res<WorkloadKind> {
    WorkloadKind::parse(text).ok_or_else(|| {
        runtime_error(format!("unknown workload kind `{text}`: use \"deployment\" or \"statefulset\""))
    })
}

fn list(kind: &str, namespace: &str, selector: &str) -> Res<Array> {
    let h = host::current()?;
    let kind = kind_of(kind)?;
    let sel = (!selector.is_empty()).then_some(selector);
    let items = h.block(h.cx.unit(|_| ops::list(&h.cx.cluster, kind, scope(namespace), sel)))?;
    h.add_matched(items.len());
    items.into_iter().map(to_dyn).collect()
}

fn get(kind: &str, namespace: &str, name: &str) -> Res<Dynamic> {
    let h = host::current()?;
    let kind = kind_of(kind)?;
    match h.block(h.cx.unit(|_| ops::get(&h.cx.cluster, kind, namespace, name))) {
        Ok(w) => {
            h.add_matched(1);
            to_dyn(w)
        }
        Err(e) if is_not_found(&e) => Ok(Dynamic::UNIT),
        Err(e) => Err(e),
    }
}

fn is_not_found(e: &rhai::EvalAltResult) -> bool {
    matches!(e, rhai::EvalAltResult::ErrorRuntime(d, _) if d.to_string().contains("(NotFound, 404)"))
}

/// Re-read the workload, then apply `op` to it; as one unit on the pool, so a 409 (the object
/// changed since it was read) re-reads and re-applies.
fn mutate<T, F, Fut>(kind: &str, namespace: &str, name: &str, op: F) -> Res<T>
where
    T: serde::Serialize,
    F: Fn(WorkloadInfo) -> Fut,
    Fut: Future<Output = Result<T, OpsError>>,
{
    let h = host::current()?;
    let kind = kind_of(kind)?;
    let cluster = &h.cx.cluster;
    let op = &op;
    h.block(h.cx.unit(|_| async move { op(ops::get(cluster, kind, namespace, name).await?).await }))
}

fn count(changed: bool) -> Res<()> {
    let h = host::current()?;
    h.add_matched(1);
    if changed {
        h.add_changed(1);
    }
    Ok(())
}

fn scale(kind: &str, namespace: &str, name: &str, replicas: INT) -> Res<Dynamic> {
    let h = host::current()?;
    let replicas =
        i32::try_from(replicas).map_err(|_| runtime_error(format!("scale: bad replicas {replicas}")))?;
    if replicas == 0 {
        deletion_verdict(namespace, &h.cx.safety)
            .map_err(|m| runtime_error(format!("scale {kind} {namespace}/{name} to 0: {m}")))?;
    }
    let cluster = h.cx.cluster.clone();
    let c = mutate(kind, namespace, name, |w| {
        let cluster = cluster.clone();
        async move { ops::scale(&cluster, &w, replicas).await }
    })?;
    count(c.changed)?;
    to_dyn(c)
}

fn set_image(kind: &str, namespace: &str, name: &str, container: &str, image: &str) -> Res<Dynamic> {
    let cluster = host::current()?.cx.cluster.clone();
    let c = mutate(kind, namespace, name, |w| {
        let cluster = cluster.clone();
        async move { ops::set_image(&cluster, &w, container, image).await }
    })?;
    count(c.changed)?;
    to_dyn(c)
}

fn restart(kind: &str, namespace: &str, name: &str) -> Res<Dynamic> {
    let cluster = host::current()?.cx.cluster.clone();
    let at = jiff::Timestamp::now().to_string();
    let c = mutate(kind, namespace, name, |w| {
        let (cluster, at) = (cluster.clone(), at.clone());
        async move { ops::rollout_restart(&cluster, &w, &at).await }
    })?;
    count(c.changed)?;
    to_dyn(c)
}

fn scale_down(kind: &str, namespace: &str, name: &str) -> Res<Dynamic> {
    let h = host::current()?;
    deletion_verdict(namespace, &h.cx.safety)
        .map_err(|m| runtime_error(format!("scale down {kind} {namespace}/{name}: {m}")))?;
    let cluster = h.cx.cluster.clone();
    let c = mutate(kind, namespace, name, |w| {
        let cluster = cluster.clone();
        async move { ops::scale_down(&cluster, &w).await }
    })?;
    count(c.changed)?;
    to_dyn(c)
}

fn scale_up(kind: &str, namespace: &str, name: &str) -> Res<Dynamic> {
    let cluster = host::current()?.cx.cluster.clone();
    let c = mutate(kind, namespace, name, |w| {
        let cluster = cluster.clone();
        async move { ops::scale_up(&cluster, &w).await }
    })?;
    count(c.changed)?;
    to_dyn(c)
}

fn wait(kind: &str, namespace: &str, name: &str, until: &str, timeout_secs: INT) -> Res<Dynamic> {
    let h = host::current()?;
    let kind = kind_of(kind)?;
    let until = match until.to_ascii_lowercase().as_str() {
        "ready" => WaitFor::Ready,
        "rollout" | "rolledout" | "rollout-complete" => WaitFor::Rollout,
        other => {
            return Err(runtime_error(format!(
                "wait_workload: unknown condition `{other}`: use \"ready\" or \"rollout\""
            )));
        }
    };
    let timeout = Duration::from_secs(timeout_secs.max(0) as u64);
    let w = h.block(ops::wait(&h.cx.cluster, kind, namespace, name, until, timeout, &h.stop))?;
    to_dyn(w)
}

pub fn register(r: &mut Registrar) {
    r.func(
        "list_workloads",
        &["kind: String", "namespace: String", "selector: String"],
        "Array",
        "Deployments or StatefulSets (kind \"deployment\"/\"statefulset\"; namespace \"*\" = all; selector \"\" = any): maps with name, namespace, labels, annotations, replicas, readyReplicas, containers, ...",
        list,
    )
    .func("list_deployments", &["namespace: String"], "Array", "Deployments in a namespace (\"*\" = all).", |ns: &str| {
        list("deployment", ns, "")
    })
    .func(
        "list_deployments",
        &["namespace: String", "selector: String"],
        "Array",
        "Deployments matching a label selector.",
        |ns: &str, sel: &str| list("deployment", ns, sel),
    )
    .func("list_statefulsets", &["namespace: String"], "Array", "StatefulSets in a namespace (\"*\" = all).", |ns: &str| {
        list("statefulset", ns, "")
    })
    .func(
        "get_workload",
        &["kind: String", "namespace: String", "name: String"],
        "Map",
        "One Deployment/StatefulSet, or () if it does not exist.",
        get,
    )
    .func("get_deployment", &["namespace: String", "name: String"], "Map", "One Deployment, or ().", |ns: &str, n: &str| {
        get("deployment", ns, n)
    })
    .func("get_statefulset", &["namespace: String", "name: String"], "Map", "One StatefulSet, or ().", |ns: &str, n: &str| {
        get("statefulset", ns, n)
    })
    .func(
        "scale",
        &["kind: String", "namespace: String", "name: String", "replicas: INT"],
        "Map",
        "Set replicas through the /scale subresource; returns {previous, replicas, changed}. 0 obeys --protect.",
        scale,
    )
    .func(
        "scale_deployment",
        &["namespace: String", "name: String", "replicas: INT"],
        "Map",
        "Scale a Deployment; returns {previous, replicas, changed}.",
        |ns: &str, n: &str, r: INT| scale("deployment", ns, n, r),
    )
    .func(
        "set_image",
        &["kind: String", "namespace: String", "name: String", "container: String", "image: String"],
        "Map",
        "Set one container's image; returns {container, previous, image, changed}.",
        set_image,
    )
    .func(
        "rollout_restart",
        &["kind: String", "namespace: String", "name: String"],
        "Map",
        "Restart the pods of a Deployment/StatefulSet (as kubectl rollout restart); returns {previous, restartedAt, changed}.",
        restart,
    )
    .func(
        "restart_deployment",
        &["namespace: String", "name: String"],
        "Map",
        "Rollout-restart a Deployment.",
        |ns: &str, n: &str| restart("deployment", ns, n),
    )
    .func(
        "scale_down",
        &["kind: String", "namespace: String", "name: String"],
        "Map",
        "Scale to 0, remembering the replicas in an annotation (scale_up restores them). Obeys --protect.",
        scale_down,
    )
    .func(
        "scale_up",
        &["kind: String", "namespace: String", "name: String"],
        "Map",
        "Restore the replicas remembered by scale_down (nothing if pearl did not scale it down).",
        scale_up,
    )
    .func(
        "wait_workload",
        &["kind: String", "namespace: String", "name: String", "until: String", "timeout_secs: INT"],
        "Map",
        "Watch until \"ready\" or \"rollout\" (complete) holds; throws on timeout. Returns the workload.",
        wait,
    );
}
