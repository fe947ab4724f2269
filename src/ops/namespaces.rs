//! Namespaces: list and get (labels, phase, age), delete under pearl's safety rules, ask for
//! confirmation, and wait (watch) until a deleted namespace is gone.
//!
//! Safety, in order: [`deletion_verdict`] (a pure function, shared with the Rhai bindings)
//! refuses `kube-node-lease` and any name matching a `--protect` glob unless `--force`;
//! [`confirm`] asks on the terminal unless `--yes`, and without a terminal refuses and says to
//! pass `--yes`. `default`, `kube-system` and `kube-public` are refused by the API server itself
//! (NamespaceLifecycle admission, 403 for every user): pearl sends the request and reports the
//! server's refusal as such, since no flag of ours can change it.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use tokio_util::sync::CancellationToken;

use super::workloads::{PAGE_SIZE, Step, watch_until};
use super::{Cluster, OpsError, object};
use crate::tasks::Safety;

/// Namespaces pearl refuses to delete unless `--force`: `kube-node-lease` holds the nodes'
/// heartbeat Leases; the API server lets anyone with RBAC delete it.
pub const GUARDED: &[&str] = &["kube-node-lease"];

/// Namespaces the API server's NamespaceLifecycle admission never lets anyone delete.
pub const SERVER_IMMUTABLE: &[&str] = &["default", "kube-system", "kube-public"];

/// What pearl knows of a namespace: plain data for task items, reports and Rhai.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceInfo {
    pub name: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `Active` or `Terminating`.
    pub phase: String,
    /// Creation time, RFC 3339.
    pub created: Option<String>,
    /// Seconds since creation, when it was read.
    pub age_seconds: Option<i64>,
}

impl NamespaceInfo {
    pub fn from_object(ns: &Namespace) -> Self {
        let created = ns.metadata.creation_timestamp.as_ref().map(|t| t.0);
        NamespaceInfo {
            name: ns.metadata.name.clone().unwrap_or_default(),
            uid: ns.metadata.uid.clone().unwrap_or_default(),
            labels: ns.metadata.labels.clone().unwrap_or_default(),
            annotations: ns.metadata.annotations.clone().unwrap_or_default(),
            phase: ns.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_else(|| "Active".into()),
            created: created.map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
            age_seconds: created.map(|t| jiff::Timestamp::now().duration_since(t).as_secs()),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn api(cluster: &Cluster) -> Api<Namespace> {
    Api::all(cluster.client.clone())
}

/// Every namespace matching `label_selector` (all when `None` or empty), all pages.
pub async fn list(cluster: &Cluster, label_selector: Option<&str>) -> Result<Vec<NamespaceInfo>, OpsError> {
    let mut lp = ListParams::default().limit(PAGE_SIZE);
    if let Some(sel) = label_selector.filter(|s| !s.trim().is_empty()) {
        lp = lp.labels(sel);
    }
    let mut out = Vec::new();
    loop {
        let page = api(cluster).list(&lp).await.map_err(|e| OpsError::api("list", "namespaces", e))?;
        out.extend(page.items.iter().map(NamespaceInfo::from_object));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => lp.continue_token = Some(token),
            None => break,
        }
    }
    Ok(out)
}

/// One namespace by name.
pub async fn get(cluster: &Cluster, name: &str) -> Result<NamespaceInfo, OpsError> {
    let ns =
        api(cluster).get(name).await.map_err(|e| OpsError::api("get", object("namespace", None, name), e))?;
    Ok(NamespaceInfo::from_object(&ns))
}

/// Shell-style glob: `*` is any run of characters, `?` one character, everything else itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // Position of the last `*` in the pattern and the text index it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The first `--protect` pattern that matches `name`.
pub fn protected_by<'a>(name: &str, patterns: &'a [String]) -> Option<&'a str> {
    patterns.iter().map(String::as_str).find(|p| glob_match(p, name))
}

/// Whether pearl may delete (or scale down) namespace `name` under `safety`: `Err` says why not
/// and what would allow it. Namespaces the API server protects itself are allowed here: the
/// server's own refusal is what the user gets to see.
pub fn deletion_verdict(name: &str, safety: &Safety) -> Result<(), String> {
    if safety.force {
        return Ok(());
    }
    if GUARDED.contains(&name) {
        return Err(format!(
            "namespace {name} holds the nodes' heartbeat Leases; pearl refuses to delete it unless --force"
        ));
    }
    if let Some(pattern) = protected_by(name, &safety.protect) {
        return Err(format!(
            "namespace {name} matches --protect pattern `{pattern}`; pass --force to override"
        ));
    }
    Ok(())
}

/// Serialises prompts: tasks run concurrently, questions must not interleave on the terminal.
static PROMPT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Ask before doing `action` (for example `delete namespaces a, b`). With `--yes`, go ahead;
/// with a terminal, ask (default no); without one, refuse and say to pass `--yes`.
pub async fn confirm(safety: &Safety, action: &str) -> Result<(), OpsError> {
    if safety.yes {
        return Ok(());
    }
    let refuse = |message: String| OpsError::Invalid { op: "confirm", object: action.to_string(), message };
    if !safety.interactive {
        return Err(refuse("no terminal to ask for confirmation on: pass --yes to confirm".into()));
    }
    let _turn = PROMPT.lock().await;
    let prompt = format!("{action}?");
    let answer = tokio::task::spawn_blocking(move || {
        // The progress bar would redraw over the question: hide it while asking.
        crate::report::with_bar_hidden(|| {
            dialoguer::Confirm::new().with_prompt(prompt).default(false).interact()
        })
    })
    .await
    .map_err(|e| refuse(format!("the prompt failed: {e}")))?;
    match answer {
        Ok(true) => Ok(()),
        Ok(false) => Err(refuse("not confirmed: nothing was done".into())),
        Err(e) => Err(refuse(format!("cannot ask on the terminal ({e}): pass --yes to confirm"))),
    }
}

/// What a namespace deletion did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NamespaceDeletion {
    pub name: String,
    /// The uid of the namespace that was deleted (to tell it from a new one of the same name).
    pub uid: String,
    /// It was already Terminating before this request.
    pub was_terminating: bool,
    /// False under `--dry-run=client` (nothing sent).
    pub sent: bool,
}

/// Delete namespace `name` (background propagation), after [`deletion_verdict`] allows it.
/// Does NOT ask: call [`confirm`] first. Under `--dry-run=client` only reads the namespace.
pub async fn delete(cluster: &Cluster, name: &str, safety: &Safety) -> Result<NamespaceDeletion, OpsError> {
    let what = object("namespace", None, name);
    deletion_verdict(name, safety).map_err(|message| OpsError::Invalid {
        op: "delete",
        object: what.clone(),
        message,
    })?;
    if cluster.dry_run.is_client() {
        let ns = get(cluster, name).await?;
        return Ok(NamespaceDeletion {
            name: name.to_string(),
            uid: ns.uid,
            was_terminating: ns.phase == "Terminating",
            sent: false,
        });
    }
    let deleted = api(cluster).delete(name, &cluster.delete_params()).await.map_err(|e| match e {
        kube::Error::Api(s) if s.code == 403 && SERVER_IMMUTABLE.contains(&name) => OpsError::Invalid {
            op: "delete",
            object: what.clone(),
            message: format!(
                "the API server refuses: {} ({}, {}). Kubernetes never allows deleting default, \
                 kube-system or kube-public; no pearl flag (--force included) can change that",
                s.message, s.reason, s.code
            ),
        },
        other => OpsError::api("delete", what.clone(), other),
    })?;
    // The server answers with the namespace (now Terminating) or, once finalized, a Status.
    let (uid, was_terminating) = match deleted.left() {
        Some(ns) => (ns.metadata.uid.clone().unwrap_or_default(), false),
        None => (String::new(), true),
    };
    Ok(NamespaceDeletion { name: name.to_string(), uid, was_terminating, sent: true })
}

/// Watch until namespace `name` is gone (or replaced by a new one when `uid` is given).
/// [`OpsError::Timeout`] after `timeout` says what still holds it (its conditions).
pub async fn wait_deleted(
    cluster: &Cluster,
    name: &str,
    uid: Option<&str>,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<(), OpsError> {
    let what = object("namespace", None, name);
    let uid = uid.filter(|u| !u.is_empty()).map(str::to_string);
    watch_until(
        api(cluster),
        name,
        "wait for deletion of",
        &what,
        timeout,
        cancel,
        |seen: Option<&Namespace>| match seen {
            None => Step::Done(()),
            Some(ns) if uid.is_some() && ns.metadata.uid != uid => Step::Done(()),
            Some(ns) => {
                let status = ns.status.as_ref();
                let phase = status.and_then(|s| s.phase.clone()).unwrap_or_else(|| "Active".into());
                let pending: Vec<String> = status
                    .and_then(|s| s.conditions.as_ref())
                    .into_iter()
                    .flatten()
                    .filter(|c| c.status == "True")
                    .map(|c| format!("{}: {}", c.type_, c.message.clone().unwrap_or_default()))
                    .collect();
                let mut text = format!("still {phase}");
                if !pending.is_empty() {
                    text.push_str(&format!(" ({})", pending.join("; ")));
                }
                Step::Wait(text)
            }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn safety(protect: &[&str], force: bool) -> Safety {
        Safety { protect: protect.iter().map(|s| s.to_string()).collect(), force, ..Safety::default() }
    }

    #[test]
    fn globs_match_like_a_shell() {
        assert!(glob_match("prod-*", "prod-eu"));
        assert!(glob_match("prod-*", "prod-"));
        assert!(!glob_match("prod-*", "preprod-eu"));
        assert!(glob_match("*-prod", "shop-prod"));
        assert!(glob_match("a*b*c", "axxbyyc"));
        assert!(!glob_match("a*b*c", "axxbyy"));
        assert!(glob_match("team-?", "team-a"));
        assert!(!glob_match("team-?", "team-ab"));
        assert!(glob_match("*", ""));
        assert!(glob_match("exact", "exact"));
        assert!(!glob_match("exact", "exactly"));
    }

    #[test]
    fn kube_node_lease_needs_force() {
        let e = deletion_verdict("kube-node-lease", &safety(&[], false)).unwrap_err();
        assert!(e.contains("--force"), "{e}");
        assert!(deletion_verdict("kube-node-lease", &safety(&[], true)).is_ok());
    }

    #[test]
    fn protect_patterns_refuse_unless_forced() {
        let e = deletion_verdict("prod-eu", &safety(&["staging", "prod-*"], false)).unwrap_err();
        assert_eq!(e, "namespace prod-eu matches --protect pattern `prod-*`; pass --force to override");
        assert!(deletion_verdict("prod-eu", &safety(&["prod-*"], true)).is_ok());
        assert!(deletion_verdict("dev-eu", &safety(&["prod-*"], false)).is_ok());
    }

    #[test]
    fn server_protected_namespaces_are_left_to_the_server() {
        // pearl sends these and reports the server's 403: no local rule may hide that refusal.
        for name in SERVER_IMMUTABLE {
            assert!(deletion_verdict(name, &safety(&[], false)).is_ok());
        }
    }

    #[tokio::test]
    async fn confirmation_without_terminal_or_yes_says_to_pass_yes() {
        let s = Safety { yes: false, interactive: false, ..Safety::default() };
        let e = confirm(&s, "delete namespace x").await.unwrap_err();
        assert!(e.to_string().contains("pass --yes"), "{e}");
        let yes = Safety { yes: true, interactive: false, ..Safety::default() };
        assert!(confirm(&yes, "delete namespace x").await.is_ok());
    }
}
