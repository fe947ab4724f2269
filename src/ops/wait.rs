//! Watch-based waits for pods: until every selected pod meets any of several conditions (Ready,
//! Succeeded, ... or gone), failing fast when one meets a failure condition (Failed,
//! CrashLoopBackOff, ...), with a timeout that says how many pods were still not there, and
//! cancellation. Pods that appear after the wait started are waited for too.
//!
//! This uses `kube::runtime::watcher` (one list, then a watch that resumes after a dropped
//! connection), never a polling loop; the decision itself ([`evaluate`]) is pure.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::{WatchStreamExt, watcher};
use tokio_util::sync::CancellationToken;

use super::pods::{HealthRules, PAGE_SIZE, PodInfo, PodSelector, pod_health};
use super::{Cluster, OpsError};

/// A state a pod can be waited for (or fail on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum PodCondition {
    /// Running with every container ready.
    Ready,
    /// Phase Running (ready or not).
    Running,
    /// Phase Succeeded.
    Succeeded,
    /// Phase Failed.
    Failed,
    /// Succeeded or Failed: the pod has finished.
    Completed,
    /// The pod no longer exists (for a selector: no pod matches).
    Deleted,
    /// A container is waiting in CrashLoopBackOff.
    CrashLoopBackOff,
    /// A container is waiting in ImagePullBackOff or ErrImagePull.
    ImagePullBackOff,
}

impl PodCondition {
    /// Every condition, as written in task files.
    pub const NAMES: &'static [&'static str] = &[
        "Ready",
        "Running",
        "Succeeded",
        "Failed",
        "Completed",
        "Deleted",
        "CrashLoopBackOff",
        "ImagePullBackOff",
    ];

    pub const ALL: [PodCondition; 8] = [
        PodCondition::Ready,
        PodCondition::Running,
        PodCondition::Succeeded,
        PodCondition::Failed,
        PodCondition::Completed,
        PodCondition::Deleted,
        PodCondition::CrashLoopBackOff,
        PodCondition::ImagePullBackOff,
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|c| *c == self).expect("listed")]
    }

    /// Parse a condition name, case-insensitively (`ready`, `Succeeded`).
    pub fn parse(text: &str) -> Result<PodCondition, String> {
        let t = text.trim();
        Self::ALL.iter().copied().find(|c| c.name().eq_ignore_ascii_case(t)).ok_or_else(|| {
            let hint = crate::tasks::params::suggest(t, Self::NAMES.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            format!("`{t}` is not a pod condition: use one of {}{hint}", Self::NAMES.join(", "))
        })
    }

    /// Whether an existing pod is in this state (`Deleted` never holds for an existing pod).
    pub fn holds(self, info: &PodInfo) -> bool {
        let waiting = |reasons: &[&str]| {
            info.containers
                .iter()
                .any(|c| c.state == "waiting" && c.reason.as_deref().is_some_and(|r| reasons.contains(&r)))
        };
        match self {
            PodCondition::Ready => info.ready && !info.terminating,
            PodCondition::Running => info.phase == "Running",
            PodCondition::Succeeded => info.phase == "Succeeded",
            PodCondition::Failed => info.phase == "Failed",
            PodCondition::Completed => info.phase == "Succeeded" || info.phase == "Failed",
            PodCondition::Deleted => false,
            PodCondition::CrashLoopBackOff => waiting(&["CrashLoopBackOff"]),
            PodCondition::ImagePullBackOff => waiting(&["ImagePullBackOff", "ErrImagePull"]),
        }
    }
}

impl std::fmt::Display for PodCondition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What to wait for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitSpec {
    /// The pods (by name or selectors; `limit` is ignored).
    pub selector: PodSelector,
    /// Done when every selected pod meets any of these.
    pub any_of: Vec<PodCondition>,
    /// Fail at once when a selected pod meets any of these.
    pub fail_on: Vec<PodCondition>,
    /// At least this many pods must be selected before the wait can succeed (pods that do not
    /// exist yet are waited for). Ignored when waiting for `Deleted`.
    pub min_pods: usize,
    pub timeout: Duration,
}

impl WaitSpec {
    /// Wait for `any_of` on the selected pods, at least one pod, failing fast on `Failed`
    /// unless `Failed` is itself awaited (a failed pod never becomes Ready or Succeeded).
    pub fn new(selector: PodSelector, any_of: Vec<PodCondition>, timeout: Duration) -> Self {
        let fail_on = if any_of.iter().any(|c| matches!(c, PodCondition::Failed | PodCondition::Completed)) {
            vec![]
        } else {
            vec![PodCondition::Failed]
        };
        Self { selector, any_of, fail_on, min_pods: 1, timeout }
    }

    fn wanted(&self) -> String {
        self.any_of.iter().map(|c| c.name()).collect::<Vec<_>>().join(" or ")
    }
}

/// What a wait knows of one pod (kept small: a wait over thousands of pods holds no pod objects).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodWaitState {
    pub namespace: String,
    pub name: String,
    pub phase: String,
    /// The first awaited condition the pod meets.
    pub met: Option<PodCondition>,
    /// The first failure condition it meets.
    pub failed: Option<PodCondition>,
    /// Phase and health reasons, for messages.
    pub detail: String,
}

impl PodWaitState {
    pub fn of(pod: &Pod, spec: &WaitSpec) -> Self {
        let info = PodInfo::from_pod(pod);
        let verdict = pod_health(&info, &HealthRules::default());
        let phase = if info.phase.is_empty() { "Pending".to_string() } else { info.phase.clone() };
        let detail = if verdict.healthy { phase.clone() } else { format!("{phase}: {}", verdict.summary()) };
        Self {
            met: spec.any_of.iter().copied().find(|c| c.holds(&info)),
            failed: spec.fail_on.iter().copied().find(|c| c.holds(&info)),
            namespace: info.namespace,
            name: info.name,
            phase,
            detail,
        }
    }

    fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// Where a wait stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Every selected pod meets an awaited condition.
    Done,
    /// A pod met a failure condition: the message names it.
    Failed(String),
    /// Not yet: why.
    Pending(String),
}

/// Decide from the current pod states (keyed `ns/name`). Pure.
pub fn evaluate(states: &BTreeMap<String, PodWaitState>, spec: &WaitSpec) -> Decision {
    if let Some(s) = states.values().find(|s| s.failed.is_some()) {
        let cond = s.failed.expect("found above");
        return Decision::Failed(format!(
            "pod {} is {cond} ({}) while waiting for {}",
            s.key(),
            s.detail,
            spec.wanted()
        ));
    }
    if spec.any_of.contains(&PodCondition::Deleted) && states.is_empty() {
        return Decision::Done;
    }
    let waiting_for_pods = !spec.any_of.contains(&PodCondition::Deleted) && states.len() < spec.min_pods;
    let not_met: Vec<&PodWaitState> = states.values().filter(|s| s.met.is_none()).collect();
    if !waiting_for_pods && not_met.is_empty() {
        return Decision::Done;
    }
    let mut parts = Vec::new();
    if waiting_for_pods {
        parts.push(format!("{} of at least {} pods exist", states.len(), spec.min_pods));
    }
    if !not_met.is_empty() {
        let shown: Vec<String> =
            not_met.iter().take(5).map(|s| format!("{} ({})", s.key(), s.detail)).collect();
        let more =
            if not_met.len() > 5 { format!(", and {} more", not_met.len() - 5) } else { String::new() };
        parts.push(format!(
            "{} of {} pods not {}: {}{more}",
            not_met.len(),
            states.len(),
            spec.wanted(),
            shown.join(", ")
        ));
    }
    Decision::Pending(parts.join("; "))
}

/// One pod that met what was awaited.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitedPod {
    pub namespace: String,
    pub name: String,
    pub phase: String,
    /// The condition it met.
    pub condition: String,
}

/// The result of a successful wait.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitResult {
    pub pods: Vec<WaitedPod>,
    pub elapsed: Duration,
}

fn fatal(e: &watcher::Error) -> Option<&kube::Error> {
    match e {
        // Permission, a bad selector, an unknown namespace: a retry cannot help.
        watcher::Error::InitialListFailed(k) | watcher::Error::WatchStartFailed(k) => match k {
            kube::Error::Api(s) if matches!(s.code, 400 | 401 | 403 | 404 | 422) => Some(k),
            _ => None,
        },
        _ => None,
    }
}

/// Wait until every pod selected by `spec.selector` in `scopes` (`None` = all namespaces) meets
/// any of `spec.any_of`. Fails with [`OpsError::ConditionFailed`] as soon as a pod meets one of
/// `spec.fail_on`, [`OpsError::Timeout`] (saying how many pods were not there yet) after
/// `spec.timeout`, and [`OpsError::Cancelled`] when `cancel` fires.
pub async fn wait_pods(
    cluster: &Cluster,
    scopes: &[Option<&str>],
    spec: &WaitSpec,
    cancel: &CancellationToken,
) -> Result<WaitResult, OpsError> {
    let started = Instant::now();
    let what = match scopes {
        [one] => spec.selector.describe(*one),
        _ => format!(
            "{} in namespaces {}",
            spec.selector.describe(None).trim_end_matches(" in all namespaces"),
            scopes.iter().map(|s| s.unwrap_or("*")).collect::<Vec<_>>().join(",")
        ),
    };
    let mut config = watcher::Config::default().page_size(PAGE_SIZE);
    if let Some(l) = spec.selector.label_selector.as_deref().filter(|l| !l.trim().is_empty()) {
        config = config.labels(l);
    }
    if let Some(f) = spec.selector.fields() {
        config = config.fields(&f);
    }
    let streams = scopes.iter().enumerate().map(|(index, scope)| {
        let api: Api<Pod> = match scope {
            Some(ns) => Api::namespaced(cluster.client.clone(), ns),
            None => Api::all(cluster.client.clone()),
        };
        watcher(api, config.clone()).default_backoff().map(move |ev| (index, ev)).boxed()
    });
    let mut events = futures::stream::select_all(streams);

    // Per scope: what the last complete list + watch says, and the list being (re)built.
    let mut live: Vec<BTreeMap<String, PodWaitState>> = vec![BTreeMap::new(); scopes.len()];
    let mut building: Vec<BTreeMap<String, PodWaitState>> = vec![BTreeMap::new(); scopes.len()];
    let mut synced = vec![false; scopes.len()];
    let deadline = tokio::time::Instant::now() + spec.timeout;
    let mut last = Decision::Pending("the pods have not been listed yet".into());
    loop {
        let next = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(OpsError::Cancelled { op: "wait for", object: what }),
            _ = tokio::time::sleep_until(deadline) => {
                let message = match &last {
                    Decision::Pending(m) => m.clone(),
                    other => format!("{other:?}"),
                };
                return Err(OpsError::Timeout { op: "wait for", object: what, after: spec.timeout, message });
            }
            next = events.next() => next,
        };
        let Some((index, event)) = next else {
            return Err(OpsError::Invalid {
                op: "wait for",
                object: what,
                message: "the watch ended".into(),
            });
        };
        match event {
            Err(e) => {
                if let Some(k) = fatal(&e) {
                    return Err(OpsError::api("wait for", what, clone_kube_error(k)));
                }
                tracing::debug!(error = %e, "pod watch interrupted; resuming");
                continue;
            }
            Ok(watcher::Event::Init) => building[index].clear(),
            Ok(watcher::Event::InitApply(p)) => {
                let s = PodWaitState::of(&p, spec);
                building[index].insert(s.key(), s);
            }
            Ok(watcher::Event::InitDone) => {
                live[index] = std::mem::take(&mut building[index]);
                synced[index] = true;
            }
            Ok(watcher::Event::Apply(p)) => {
                let s = PodWaitState::of(&p, spec);
                live[index].insert(s.key(), s);
            }
            Ok(watcher::Event::Delete(p)) => {
                let s = PodWaitState::of(&p, spec);
                live[index].remove(&s.key());
            }
        }
        if !synced.iter().all(|s| *s) {
            continue;
        }
        let all: BTreeMap<String, PodWaitState> =
            live.iter().flat_map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone()))).collect();
        last = evaluate(&all, spec);
        match &last {
            Decision::Done => {
                let pods = all
                    .into_values()
                    .map(|s| WaitedPod {
                        namespace: s.namespace,
                        name: s.name,
                        phase: s.phase,
                        condition: s.met.map(|c| c.name().to_string()).unwrap_or_default(),
                    })
                    .collect();
                return Ok(WaitResult { pods, elapsed: started.elapsed() });
            }
            Decision::Failed(message) => {
                return Err(OpsError::ConditionFailed {
                    op: "wait for",
                    object: what,
                    message: message.clone(),
                });
            }
            Decision::Pending(_) => {}
        }
    }
}

/// `kube::Error` is not `Clone`; an API error is all a fatal watch error carries.
fn clone_kube_error(e: &kube::Error) -> kube::Error {
    match e {
        kube::Error::Api(s) => kube::Error::Api(s.clone()),
        other => kube::Error::Service(other.to_string().into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(name: &str, met: Option<PodCondition>, failed: Option<PodCondition>) -> (String, PodWaitState) {
        let s = PodWaitState {
            namespace: "ns".into(),
            name: name.into(),
            phase: "Running".into(),
            met,
            failed,
            detail: "Running".into(),
        };
        (s.key(), s)
    }

    fn spec(any_of: Vec<PodCondition>) -> WaitSpec {
        WaitSpec::new(PodSelector::labels("app=x"), any_of, Duration::from_secs(5))
    }

    #[test]
    fn parse_is_case_insensitive_and_suggests() {
        assert_eq!(PodCondition::parse("succeeded"), Ok(PodCondition::Succeeded));
        assert_eq!(PodCondition::parse("CrashLoopBackOff"), Ok(PodCondition::CrashLoopBackOff));
        let e = PodCondition::parse("Redy").unwrap_err();
        assert!(e.contains("did you mean `Ready`"), "{e}");
    }

    #[test]
    fn failed_is_a_fail_fast_condition_unless_awaited() {
        assert_eq!(spec(vec![PodCondition::Succeeded]).fail_on, vec![PodCondition::Failed]);
        assert!(spec(vec![PodCondition::Succeeded, PodCondition::Failed]).fail_on.is_empty());
    }

    #[test]
    fn done_only_when_every_pod_meets_a_condition() {
        let s = spec(vec![PodCondition::Ready]);
        let mut states: BTreeMap<_, _> =
            [state("a", Some(PodCondition::Ready), None), state("b", None, None)].into_iter().collect();
        match evaluate(&states, &s) {
            Decision::Pending(m) => assert_eq!(m, "1 of 2 pods not Ready: ns/b (Running)"),
            other => panic!("{other:?}"),
        }
        states.insert(
            state("b", Some(PodCondition::Ready), None).0,
            state("b", Some(PodCondition::Ready), None).1,
        );
        assert_eq!(evaluate(&states, &s), Decision::Done);
    }

    #[test]
    fn no_pods_is_pending_until_min_pods_exist() {
        let s = spec(vec![PodCondition::Ready]);
        match evaluate(&BTreeMap::new(), &s) {
            Decision::Pending(m) => assert_eq!(m, "0 of at least 1 pods exist"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_failure_condition_fails_fast_naming_the_pod() {
        let s = spec(vec![PodCondition::Succeeded]);
        let states: BTreeMap<_, _> =
            [state("a", Some(PodCondition::Succeeded), None), state("b", None, Some(PodCondition::Failed))]
                .into_iter()
                .collect();
        match evaluate(&states, &s) {
            Decision::Failed(m) => assert_eq!(m, "pod ns/b is Failed (Running) while waiting for Succeeded"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deleted_is_met_when_nothing_matches() {
        let s = spec(vec![PodCondition::Deleted]);
        assert_eq!(evaluate(&BTreeMap::new(), &s), Decision::Done);
        let states: BTreeMap<_, _> = [state("a", None, None)].into_iter().collect();
        assert!(matches!(evaluate(&states, &s), Decision::Pending(_)));
    }
}
