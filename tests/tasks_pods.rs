//! Pod task types and pod ops against the real control plane (tests/cluster/up): what the
//! cluster holds after each task, that nothing is sent for pods that already hold a change,
//! conflict re-reads, dry-run, blast radius, health verdicts, watch-based waits, delete, logs
//! and exec.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, Patch, PatchParams};
use kube::runtime::wait::conditions;
use pearl::ops::exec::{self, LogOptions};
use pearl::ops::pods::{self, MetaChange, MetaField, MetaOutcome, PodMeta};
use pearl::ops::{Cluster, DryRun, OpsError};
use pearl::pool::{Pool, PoolConfig, RetryPolicy};
use pearl::tasks::{Params, Safety, Targets, TaskCx, TaskError, TaskOutput, registry};
use serde_json::{Value, json};

fn cx_in(client: kube::Client, namespaces: &[&str], dry_run: DryRun, workers: usize) -> TaskCx {
    TaskCx::new(
        "test",
        Cluster::new(client, dry_run),
        Pool::new(&PoolConfig { workers, ..PoolConfig::default() }),
        RetryPolicy::default(),
        Targets::Namespaces(namespaces.iter().map(|s| s.to_string()).collect()),
        Arc::new(Safety::default()),
    )
}

fn cx(ns: &TestNs, dry_run: DryRun) -> TaskCx {
    cx_in(ns.client.clone(), &[&ns.name], dry_run, 16)
}

/// Validate and run a task by type name (or alias), as `kubectl pearl run` would.
async fn run(type_name: &str, cx: &TaskCx, params: Value) -> Result<TaskOutput, TaskError> {
    let ty = registry().get(type_name).unwrap_or_else(|| panic!("no task type {type_name}"));
    let p = Params::from_json(ty.params(), params.as_object().expect("params object"))
        .unwrap_or_else(|e| panic!("{type_name} params: {e:?}"));
    ty.check(&p).unwrap_or_else(|e| panic!("{type_name} check: {e}"));
    ty.run(cx, &p).await
}

/// Creates `n` pods `<prefix>-<i>` that no node can take (a nodeSelector nothing matches): they
/// stay Pending and nothing but the scheduler's one status update touches them, so their
/// resourceVersions are stable — kwok's asynchronous status updates would blur "nothing was
/// sent". Waits until the scheduler has reported each unschedulable.
async fn create_parked_pods(ns: &TestNs, prefix: &str, n: usize, labels: &[(&str, &str)]) {
    let names: Vec<String> = (0..n).map(|i| format!("{prefix}-{i}")).collect();
    let api = ns.pods();
    futures::stream::iter(names.iter().map(|name| {
        let mut pod = pod_object(name, labels, &[]);
        pod.spec.as_mut().unwrap().node_selector =
            Some([("pearl.test/parked".to_string(), "nowhere".to_string())].into());
        let api = api.clone();
        async move { api.create(&Default::default(), &pod).await.map(|_| ()) }
    }))
    .buffer_unordered(32)
    .collect::<Vec<_>>()
    .await
    .into_iter()
    .collect::<Result<Vec<()>, _>>()
    .unwrap();
    let sel = selector(labels);
    wait_matching(&api, &sel, n, Duration::from_secs(120), |p: &Pod| {
        p.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "PodScheduled" && c.status == "False"))
    })
    .await
    .unwrap();
}

/// name -> (resourceVersion, labels) of every pod in the namespace.
async fn pod_state(ns: &TestNs) -> BTreeMap<String, (String, BTreeMap<String, String>)> {
    ns.pods()
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|p| {
            let m = p.metadata;
            (m.name.unwrap(), (m.resource_version.unwrap(), m.labels.unwrap_or_default()))
        })
        .collect()
}

fn label<'a>(
    state: &'a BTreeMap<String, (String, BTreeMap<String, String>)>,
    pod: &str,
    key: &str,
) -> Option<&'a str> {
    state[pod].1.get(key).map(String::as_str)
}

#[tokio::test]
async fn label_pods_labels_exactly_the_selected_pods_and_a_rerun_sends_nothing() {
    let ns = TestNs::new("label").await;
    create_parked_pods(&ns, "sel", 520, &[("app", "sel")]).await;
    create_parked_pods(&ns, "other", 5, &[("app", "other")]).await;
    // Five selected pods already carry the label: they must get no PATCH.
    for i in 0..5 {
        ns.pods()
            .patch(
                &format!("sel-{i}"),
                &PatchParams::default(),
                &Patch::Merge(json!({"metadata": {"labels": {"env": "prod"}}})),
            )
            .await
            .unwrap();
    }
    let before = pod_state(&ns).await;

    let cx = cx_in(ns.client.clone(), &[&ns.name], DryRun::None, 32);
    let started = Instant::now();
    // The seed's type name and parameter names.
    let out = run(
        "CrewWriteLabelPods",
        &cx,
        json!({"labelSelector": "app=sel", "labelKey": "env", "labelValue": "prod"}),
    )
    .await
    .unwrap();
    eprintln!("labelled {} pods in {:?}", out.changed, started.elapsed());
    assert_eq!((out.matched, out.changed), (520, 515), "{}", out.message);
    assert!(out.message.contains("5 already had it"), "{}", out.message);
    assert_eq!(out.items.len(), 520);

    let after = pod_state(&ns).await;
    for (name, (rv, labels)) in &after {
        if name.starts_with("sel-") {
            assert_eq!(labels.get("env").map(String::as_str), Some("prod"), "{name}");
        } else {
            assert_eq!(labels.get("env"), None, "{name} is not selected");
            assert_eq!(rv, &before[name].0, "{name} was touched");
        }
    }
    for i in 0..5 {
        let name = format!("sel-{i}");
        assert_eq!(after[&name].0, before[&name].0, "{name} already had the label but was patched");
    }

    // Every pod now holds it: the re-run sends no patch at all.
    let rerun =
        run("label-pods", &cx, json!({"selector": "app=sel", "labels": {"env": "prod"}})).await.unwrap();
    assert_eq!((rerun.matched, rerun.changed), (520, 0), "{}", rerun.message);
    assert!(rerun.items.values().all(|i| i["outcome"] == "unchanged"), "a re-run patched a pod");
    let again = pod_state(&ns).await;
    let moved: Vec<&String> = again.keys().filter(|n| again[*n].0 != after[*n].0).collect();
    if !moved.is_empty() {
        let p = ns.pods().get(moved[0]).await.unwrap();
        panic!("a re-run changed resourceVersions of {moved:?}; first: {:#?}", p.metadata.managed_fields);
    }
    assert_eq!(again, after);
}

#[tokio::test]
async fn list_pods_reads_every_page_honours_limit_and_several_namespaces() {
    let a = TestNs::new("list-a").await;
    let b = TestNs::new("list-b").await;
    create_parked_pods(&a, "web", 510, &[("app", "web")]).await;
    a.create_pods("db", 3, &[("app", "db")]).await.unwrap();
    b.create_pods("web", 2, &[("app", "web")]).await.unwrap();
    b.wait_pods_running("app=web", 2, TIMEOUT).await.unwrap();

    let cx = cx_in(a.client.clone(), &[&a.name, &b.name], DryRun::None, 8);
    let out = run("GetPods", &cx, json!({"labelSelector": "app=web"})).await.unwrap();
    assert_eq!(out.matched, 512, "pods of both namespaces, over two pages: {}", out.message);
    assert!(out.items.values().all(|i| i["labels"]["app"] == "web"));
    assert_eq!(out.items.values().filter(|i| i["namespace"] == json!(b.name)).count(), 2);
    assert_eq!(out.message, "512 pods (2 ready)");
    let one = out.items.values().find(|i| i["namespace"] == json!(b.name)).unwrap();
    assert_eq!(one["phase"], "Running");
    assert_eq!(one["ready"], true);
    assert_eq!(one["images"], json!([TEST_IMAGE]));
    assert!(one["node"].as_str().unwrap().starts_with("kwok-node-"));

    let limited = run("list-pods", &cx, json!({"selector": "app=web", "limit": 7})).await.unwrap();
    assert_eq!(limited.matched, 7);
    let named =
        run("list-pods", &cx_in(a.client.clone(), &[&a.name], DryRun::None, 8), json!({"name": "db-1"}))
            .await
            .unwrap();
    assert_eq!(named.items.values().map(|i| i["name"].clone()).collect::<Vec<_>>(), vec![json!("db-1")]);
}

#[tokio::test]
async fn a_pod_changed_between_list_and_patch_is_reread_and_keeps_both_changes() {
    let ns = TestNs::new("conflict").await;
    ns.create_pod("p", &[("app", "c")], &[]).await.unwrap();
    ns.wait_pods_running("app=c", 1, TIMEOUT).await.unwrap();
    let cluster = Cluster::new(ns.client.clone(), DryRun::None);
    let stale = PodMeta::from_pod(&ns.pods().get("p").await.unwrap());
    // Another writer changes the pod after we listed it.
    ns.pods()
        .patch("p", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"team": "b"}}})))
        .await
        .unwrap();
    let change =
        MetaChange { set: [("env".to_string(), "prod".to_string())].into(), ..MetaChange::default() };

    // On its own, the stale patch is refused: the precondition works.
    let err = pods::update_pod_meta(&cluster, &stale, MetaField::Labels, &change, 1).await.unwrap_err();
    assert_eq!(err.status_code(), Some(409), "{err}");
    assert!(err.to_string().starts_with(&format!("label pod {}/p: ", ns.name)), "{err}");

    // Through the pool: the conflict is retried, the retry re-reads and re-applies.
    let cx = cx(&ns, DryRun::None);
    let update = cx
        .unit(|attempt| pods::update_pod_meta(&cluster, &stale, MetaField::Labels, &change, attempt))
        .await
        .unwrap();
    assert_eq!(update.outcome, MetaOutcome::Changed);
    assert_eq!(cx.attempts(), 2, "one conflict, one re-read and re-apply");
    let labels = ns.pods().get("p").await.unwrap().metadata.labels.unwrap();
    assert_eq!(labels.get("team").map(String::as_str), Some("b"), "the other writer's label was lost");
    assert_eq!(labels.get("env").map(String::as_str), Some("prod"));

    // After a conflict where the other writer already set our value, nothing more is sent.
    let stale = PodMeta::from_pod(&ns.pods().get("p").await.unwrap());
    ns.pods()
        .patch(
            "p",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"env": "staging"}}})),
        )
        .await
        .unwrap();
    ns.pods()
        .patch("p", &PatchParams::default(), &Patch::Merge(json!({"metadata": {"labels": {"env": "qa"}}})))
        .await
        .unwrap();
    let want_qa = MetaChange { set: [("env".to_string(), "qa".to_string())].into(), ..MetaChange::default() };
    let rv_before = ns.pods().get("p").await.unwrap().metadata.resource_version;
    let update = pods::update_pod_meta(&cluster, &stale, MetaField::Labels, &want_qa, 2).await.unwrap();
    assert_eq!(update.outcome, MetaOutcome::Unchanged);
    assert_eq!(ns.pods().get("p").await.unwrap().metadata.resource_version, rv_before);
}

#[tokio::test]
async fn two_concurrent_label_runs_on_the_same_pods_lose_no_update() {
    let ns = TestNs::new("concurrent").await;
    ns.create_pods("p", 60, &[("app", "x")]).await.unwrap();
    ns.wait_pods_running("app=x", 60, TIMEOUT).await.unwrap();
    let cx1 = cx(&ns, DryRun::None);
    let cx2 = cx(&ns, DryRun::None);
    let (r1, r2) = tokio::join!(
        run("label-pods", &cx1, json!({"selector": "app=x", "labels": {"one": "1"}})),
        run("label-pods", &cx2, json!({"selector": "app=x", "labels": {"two": "2"}})),
    );
    assert_eq!(r1.unwrap().changed, 60);
    assert_eq!(r2.unwrap().changed, 60);
    let state = pod_state(&ns).await;
    for name in state.keys() {
        assert_eq!(label(&state, name, "one"), Some("1"), "{name}");
        assert_eq!(label(&state, name, "two"), Some("2"), "{name}");
    }
}

#[tokio::test]
async fn annotate_and_remove_on_one_named_pod() {
    let ns = TestNs::new("annotate").await;
    ns.create_pod("a", &[("app", "x"), ("canary", "yes")], &[("old", "1")]).await.unwrap();
    ns.create_pod("b", &[("app", "x"), ("canary", "yes")], &[]).await.unwrap();
    let cx = cx(&ns, DryRun::None);
    let out = run(
        "annotate-pods",
        &cx,
        json!({"name": "a", "annotations": {"owner": "team-a", "note": "free text: ok"}, "remove": ["old"]}),
    )
    .await
    .unwrap();
    assert_eq!((out.matched, out.changed), (1, 1));
    let a = ns.pods().get("a").await.unwrap().metadata.annotations.unwrap();
    assert_eq!(a.get("owner").map(String::as_str), Some("team-a"));
    assert_eq!(a.get("note").map(String::as_str), Some("free text: ok"));
    assert!(!a.contains_key("old"));
    let b = ns.pods().get("b").await.unwrap().metadata.annotations.unwrap_or_default();
    assert!(!b.contains_key("owner"), "pod b was not named: {b:?}");

    let out = run("label-pods", &cx, json!({"selector": "app=x", "remove": ["canary"]})).await.unwrap();
    assert_eq!(out.changed, 2);
    let state = pod_state(&ns).await;
    assert_eq!(label(&state, "a", "canary"), None);
    assert_eq!(label(&state, "b", "canary"), None);
    assert_eq!(label(&state, "a", "app"), Some("x"));

    let missing = run("label-pods", &cx, json!({"name": "nope", "labels": {"a": "b"}})).await.unwrap_err();
    assert_eq!(missing.to_string(), format!("label pod {}/nope: not found", ns.name));
}

#[tokio::test]
async fn dry_run_server_and_client_change_nothing() {
    let ns = TestNs::new("dryrun").await;
    ns.create_pods("p", 4, &[("app", "d")]).await.unwrap();
    ns.wait_pods_running("app=d", 4, TIMEOUT).await.unwrap();
    let before = pod_state(&ns).await;
    for mode in [DryRun::Server, DryRun::Client] {
        let out = run("label-pods", &cx(&ns, mode), json!({"selector": "app=d", "labels": {"env": "prod"}}))
            .await
            .unwrap();
        assert_eq!(out.changed, 4, "{mode:?}: {}", out.message);
        assert!(out.message.starts_with("(dry run) labelled 4 of 4"), "{}", out.message);
        assert!(
            out.items.values().all(|i| i["outcome"] == "wouldChange" && i["labels"]["env"] == "prod"),
            "{:?}",
            out.items.to_vec()
        );
        let out = run("delete-pods", &cx(&ns, mode), json!({"selector": "app=d"})).await.unwrap();
        assert_eq!(out.changed, 4);
        assert_eq!(pod_state(&ns).await, before, "{mode:?} changed the cluster");
    }
}

#[tokio::test]
async fn max_objects_refuses_before_changing_anything() {
    let ns = TestNs::new("blast").await;
    ns.create_pods("p", 5, &[("app", "b")]).await.unwrap();
    ns.wait_pods_running("app=b", 5, TIMEOUT).await.unwrap();
    let before = pod_state(&ns).await;
    let err = run(
        "label-pods",
        &cx(&ns, DryRun::None),
        json!({"selector": "app=b", "labels": {"x": "y"}, "maxObjects": 3}),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, TaskError::Check { .. }), "{err:?}");
    assert_eq!(err.to_string(), "5 pods match, more than maxObjects=3: nothing was changed");
    let err = run("delete-pods", &cx(&ns, DryRun::None), json!({"selector": "app=b", "maxObjects": 4}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("more than maxObjects=4"), "{err}");
    assert_eq!(pod_state(&ns).await, before);
}

#[tokio::test]
async fn health_check_reports_crashloop_imagepull_and_failed_pods_with_reasons() {
    let ns = TestNs::new("health").await;
    let l = [("app", "h")];
    ns.create_pod_with_outcome("ok", &l, &Outcome::Run).await.unwrap();
    ns.create_pod_with_outcome("crash", &l, &Outcome::CrashLoop { restarts: 4, exit_code: 2 }).await.unwrap();
    ns.create_pod_with_outcome("pull", &l, &Outcome::ImagePull).await.unwrap();
    ns.create_pod_with_outcome("fail", &l, &Outcome::Fail(3)).await.unwrap();
    ns.wait_pod("ok", conditions::is_pod_running(), TIMEOUT).await.unwrap();
    ns.wait_pod("crash", pod_waiting_reason("CrashLoopBackOff"), TIMEOUT).await.unwrap();
    ns.wait_pod("pull", pod_waiting_reason("ImagePullBackOff"), TIMEOUT).await.unwrap();
    ns.wait_pod("fail", pod_in_phase(&["Failed"]), TIMEOUT).await.unwrap();

    let cx = cx(&ns, DryRun::None);
    let err = run("CrewCheckHealthPods", &cx, json!({"labelSelector": "app=h"})).await.unwrap_err();
    let TaskError::Check { message, output } = &err else { panic!("{err:?}") };
    assert!(message.starts_with("3 of 4 pods unhealthy: "), "{message}");
    let reasons = |name: &str| -> String {
        let item =
            output.items.values().find(|i| i["name"] == name).unwrap_or_else(|| panic!("{name} missing"));
        item["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect::<Vec<_>>().join("; ")
    };
    assert_eq!(reasons("ok"), "");
    assert_eq!(reasons("crash"), "container main waiting: CrashLoopBackOff (last exit code 2), 4 restarts");
    assert_eq!(reasons("pull"), "phase Pending; container main waiting: ImagePullBackOff");
    assert_eq!(reasons("fail"), "phase Failed; container main terminated: Error (exit code 3)");

    let report =
        run("check-pod-health", &cx, json!({"selector": "app=h", "reportOnly": true, "show": "unhealthy"}))
            .await
            .unwrap();
    assert_eq!(report.matched, 4);
    assert_eq!(report.items.len(), 3);
    assert!(report.message.starts_with("1 of 4 pods healthy"), "{}", report.message);
    let healthy = run("check-pod-health", &cx, json!({"name": "ok"})).await.unwrap();
    assert_eq!(healthy.message, "1 of 1 pod healthy");
}

#[tokio::test]
async fn wait_pods_succeeded_and_fail_fast_on_failed() {
    let ns = TestNs::new("wait").await;
    let cx = cx(&ns, DryRun::None);
    // Pods created after the wait started are waited for too.
    let waiter =
        run("wait-pods", &cx, json!({"selector": "job=a", "for": "Succeeded", "count": 2, "timeout": "60s"}));
    let creator = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        for name in ["a-0", "a-1"] {
            ns.create_pod(name, &[("job", "a")], &[(OUTCOME, "succeed"), (DELAY, "1s")]).await.unwrap();
        }
    };
    let (out, ()) = tokio::join!(waiter, creator);
    let out = out.unwrap();
    assert_eq!(out.matched, 2, "{}", out.message);
    for name in ["a-0", "a-1"] {
        assert_eq!(pod_phase(&ns.pods().get(name).await.unwrap()), "Succeeded");
    }

    // One pod fails while another is still running: the wait fails at once, naming it.
    ns.create_pod("slow", &[("job", "b")], &[(OUTCOME, "succeed"), (DELAY, "120s")]).await.unwrap();
    ns.create_pod("bad", &[("job", "b")], &[(OUTCOME, "fail"), (EXIT_CODE, "5"), (DELAY, "1s")])
        .await
        .unwrap();
    let started = Instant::now();
    let err = run("wait-pods", &cx, json!({"selector": "job=b", "for": "Succeeded", "timeout": "90s"}))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(30), "did not fail fast: {:?}", started.elapsed());
    let TaskError::Ops(OpsError::ConditionFailed { message, .. }) = &err else { panic!("{err:?}") };
    assert!(message.starts_with(&format!("pod {}/bad is Failed", ns.name)), "{message}");
    assert!(message.contains("exit code 5"), "{message}");

    // Any of several: Succeeded OR Failed finishes on the failed pod.
    let out = run("wait-pods", &cx, json!({"name": "bad", "for": ["Succeeded", "Failed"], "timeout": "30s"}))
        .await
        .unwrap();
    assert_eq!(out.items.to_vec()[0]["condition"], "Failed");
}

#[tokio::test]
async fn wait_pods_times_out_saying_what_is_missing() {
    let ns = TestNs::new("wait-timeout").await;
    ns.create_pod_with_outcome("pull", &[("app", "w")], &Outcome::ImagePull).await.unwrap();
    let cx = cx(&ns, DryRun::None);
    let err = run("wait-pods", &cx, json!({"selector": "app=w", "for": "Ready", "timeout": "3s"}))
        .await
        .unwrap_err();
    let TaskError::Ops(OpsError::Timeout { message, .. }) = &err else { panic!("{err:?}") };
    assert!(message.starts_with(&format!("1 of 1 pods not Ready: {}/pull (Pending", ns.name)), "{message}");
    let err = run("wait-pods", &cx, json!({"selector": "app=none", "timeout": "2s"})).await.unwrap_err();
    assert!(err.to_string().contains("0 of at least 1 pods exist"), "{err}");
    // Fail fast on a waiting reason when asked to.
    let err = run("wait-pods", &cx, json!({"name": "pull", "failOn": "ImagePullBackOff", "timeout": "30s"}))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is ImagePullBackOff"), "{err}");
}

#[tokio::test]
async fn delete_pods_by_selector_and_by_name() {
    let ns = TestNs::new("delete").await;
    ns.create_pods("del", 3, &[("app", "del")]).await.unwrap();
    ns.create_pods("keep", 3, &[("app", "keep")]).await.unwrap();
    ns.wait_pods_running("", 6, TIMEOUT).await.unwrap();
    let mut uids = Vec::new();
    for i in 0..3 {
        uids.push(ns.pods().get(&format!("del-{i}")).await.unwrap().metadata.uid.unwrap());
    }
    let cx = cx(&ns, DryRun::None);
    let out = run("delete-pods", &cx, json!({"selector": "app=del", "gracePeriodSeconds": 0})).await.unwrap();
    assert_eq!((out.matched, out.changed), (3, 3), "{}", out.message);
    for (i, uid) in uids.iter().enumerate() {
        wait_for(&ns.pods(), &format!("del-{i}"), conditions::is_deleted(uid), TIMEOUT).await.unwrap();
    }
    let left: Vec<String> = pod_state(&ns).await.into_keys().collect();
    assert_eq!(left, vec!["keep-0", "keep-1", "keep-2"]);

    let out = run("delete-pods", &cx, json!({"name": "keep-0"})).await.unwrap();
    assert_eq!(out.changed, 1);
    let err = run("delete-pods", &cx, json!({"name": "keep-0-missing"})).await.unwrap_err();
    assert_eq!(err.to_string(), format!("delete pod {}/keep-0-missing: not found", ns.name));
    // A pod gone before the delete is not an error.
    let cluster = Cluster::new(ns.client.clone(), DryRun::None);
    let outcome = pods::delete_pod(&cluster, &ns.name, "never-existed", None, Some(0)).await.unwrap();
    assert_eq!(outcome, pods::DeleteOutcome::AlreadyGone);
}

#[tokio::test]
async fn logs_tail_follow_and_exec_with_exit_code() {
    let ns = TestNs::new("exec").await;
    ns.create_pod("p", &[("app", "e")], &[]).await.unwrap();
    ns.wait_pods_running("app=e", 1, TIMEOUT).await.unwrap();
    let cluster = Cluster::new(ns.client.clone(), DryRun::None);

    ns.set_pod_logs("p", &["line one", "line two", "line three"]).await.unwrap();
    let tail = LogOptions { tail_lines: Some(2), ..LogOptions::default() };
    let text = exec::pod_logs(&cluster, &ns.name, "p", &tail).await.unwrap();
    assert_eq!(text, "line two\nline three\n");
    let mut lines = exec::follow_logs(&cluster, &ns.name, "p", &LogOptions::default()).await.unwrap();
    let mut got = Vec::new();
    while got.len() < 3 {
        let next =
            tokio::time::timeout(Duration::from_secs(20), lines.next()).await.expect("log line in time");
        got.push(next.expect("stream open").unwrap());
    }
    assert_eq!(got, vec!["line one", "line two", "line three"]);
    let err = exec::pod_logs(&cluster, &ns.name, "missing", &tail).await.unwrap_err();
    assert!(err.to_string().starts_with(&format!("logs of pod {}/missing: ", ns.name)), "{err}");

    let dir = tempfile::tempdir().unwrap();
    ns.set_pod_exec("p", dir.path(), &[("GREETING", "hello")]).await.unwrap();
    let cmd: Vec<String> =
        ["sh", "-c", "echo $GREETING; echo oops >&2; exit 3"].iter().map(|s| s.to_string()).collect();
    let out = exec::exec(&cluster, &ns.name, "p", Some("main"), &cmd, None).await.unwrap();
    assert_eq!((out.stdout.as_str(), out.stderr.as_str(), out.exit_code), ("hello\n", "oops\n", 3));
    let ok = exec::exec(&cluster, &ns.name, "p", None, &["pwd".to_string()], None).await.unwrap();
    assert_eq!(ok.exit_code, 0);
    assert_eq!(std::path::Path::new(ok.stdout.trim()), dir.path().canonicalize().unwrap());
}

/// Pods of a real workload: the health verdict sees what the Deployment's pods report.
#[tokio::test]
async fn list_and_health_of_deployment_pods() {
    let ns = TestNs::new("deploy").await;
    ns.create_deployment("web", 3, &[]).await.unwrap();
    ns.wait_pods_running("app=web", 3, TIMEOUT).await.unwrap();
    let cx = cx(&ns, DryRun::None);
    let out = run("check-pod-health", &cx, json!({"selector": "app=web"})).await.unwrap();
    assert_eq!(out.message, "3 of 3 pods healthy");
    let pods: Vec<Pod> = ns.pods().list(&ListParams::default().labels("app=web")).await.unwrap().items;
    assert_eq!(pods.len(), 3);
}
