//! Inside pods: logs (tail), exec a command, and waiting for pod conditions.

use std::time::Duration;

use rhai::{Array, Dynamic, INT, Map};

use super::{Registrar, Res, scope, string_list, to_dyn};
use crate::ops::exec::{self, LogOptions};
use crate::ops::pods::PodSelector;
use crate::ops::wait::{self, PodCondition, WaitSpec};
use crate::script::host::{self, runtime_error};

fn logs(namespace: &str, name: &str, tail: INT, container: &str) -> Res<String> {
    let h = host::current()?;
    let options = LogOptions {
        container: (!container.is_empty()).then(|| container.to_string()),
        tail_lines: (tail > 0).then_some(tail),
        ..LogOptions::default()
    };
    h.block(h.cx.unit(|_| exec::pod_logs(&h.cx.cluster, namespace, name, &options)))
}

fn run_exec(namespace: &str, name: &str, container: &str, command: Array) -> Res<Dynamic> {
    let h = host::current()?;
    let command = string_list(&command, "exec")?;
    let container = (!container.is_empty()).then_some(container);
    // Not retried: a command may not be safe to run twice.
    let out = h.block(exec::exec(&h.cx.cluster, namespace, name, container, &command, None))?;
    to_dyn(out)
}

fn conditions(text: &str) -> Res<Vec<PodCondition>> {
    text.split([',', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| PodCondition::parse(s).map_err(|m| runtime_error(format!("wait_pods: {m}"))))
        .collect()
}

fn wait_pods(namespace: &str, selector: &str, until: &str, timeout_secs: INT, options: Map) -> Res<Dynamic> {
    let h = host::current()?;
    let sel = PodSelector {
        label_selector: (!selector.is_empty()).then(|| selector.to_string()),
        ..PodSelector::default()
    };
    let mut spec = WaitSpec::new(sel, conditions(until)?, Duration::from_secs(timeout_secs.max(0) as u64));
    if let Some(f) = options.get("failOn") {
        spec.fail_on = conditions(&f.to_string())?;
    }
    if let Some(n) = options.get("minPods").and_then(|v| v.as_int().ok()) {
        spec.min_pods = n.max(0) as usize;
    }
    let scopes = [scope(namespace)];
    let r = h.block(wait::wait_pods(&h.cx.cluster, &scopes, &spec, &h.stop))?;
    to_dyn(r)
}

pub fn register(r: &mut Registrar) {
    r.func(
        "pod_logs",
        &["namespace: String", "name: String"],
        "String",
        "The logs of a pod's (only) container.",
        |ns: &str, n: &str| logs(ns, n, 0, ""),
    )
    .func(
        "pod_logs",
        &["namespace: String", "name: String", "tail: INT"],
        "String",
        "The last `tail` lines of a pod's logs.",
        |ns: &str, n: &str, t: INT| logs(ns, n, t, ""),
    )
    .func(
        "pod_logs",
        &["namespace: String", "name: String", "tail: INT", "container: String"],
        "String",
        "The last `tail` lines (0 = all) of one container's logs.",
        logs,
    )
    .func(
        "exec",
        &["namespace: String", "pod: String", "command: Array"],
        "Map",
        "Run a command in the pod's first container: {stdout, stderr, exitCode}.",
        |ns: &str, p: &str, c: Array| run_exec(ns, p, "", c),
    )
    .func(
        "exec",
        &["namespace: String", "pod: String", "container: String", "command: Array"],
        "Map",
        "Run a command in a named container: {stdout, stderr, exitCode}.",
        run_exec,
    )
    .func(
        "wait_pods",
        &["namespace: String", "selector: String", "until: String", "timeout_secs: INT"],
        "Map",
        "Watch until every selected pod meets one of `until` (\"Ready\", \"Running\", \"Succeeded\", \"Completed\", \"Deleted\", ... comma-separated); throws on timeout. Returns {pods, elapsed}.",
        |ns: &str, sel: &str, until: &str, t: INT| wait_pods(ns, sel, until, t, Map::new()),
    )
    .func(
        "wait_pods",
        &["namespace: String", "selector: String", "until: String", "timeout_secs: INT", "options: Map"],
        "Map",
        "As wait_pods, with options #{failOn: \"Failed,CrashLoopBackOff\", minPods: 3}.",
        wait_pods,
    );
}
