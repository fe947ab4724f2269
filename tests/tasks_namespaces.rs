//! `delete-namespace` against the real control plane: deletion with wait, selection by label,
//! `--protect` and kube-node-lease refusals, the API server's own refusal for `default`, the
//! no-terminal-no-`--yes` refusal, dry runs and `maxObjects`; each asserts what the cluster holds.

mod common;

use std::sync::Arc;

use common::*;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, Patch, PatchParams};
use pearl::ops::{Cluster, DryRun};
use pearl::pool::{Pool, PoolConfig, RetryPolicy};
use pearl::tasks::{Params, Safety, Targets, TaskCx, TaskError, TaskOutput, registry};
use serde_json::{Value, json};

fn task_cx(client: kube::Client, dry_run: DryRun, safety: Safety) -> TaskCx {
    TaskCx::new(
        "drop",
        Cluster::new(client, dry_run),
        Pool::new(&PoolConfig::default()),
        RetryPolicy::default(),
        Targets::Namespaces(vec!["default".into()]),
        Arc::new(safety),
    )
}

fn yes() -> Safety {
    Safety { yes: true, ..Safety::default() }
}

async fn run(cx: &TaskCx, params: Value) -> Result<TaskOutput, TaskError> {
    let t = registry().get("delete-namespace").unwrap();
    let p = Params::from_json(t.params(), params.as_object().unwrap()).expect("valid parameters");
    t.check(&p).expect("parameters pass the type's check");
    t.run(cx, &p).await
}

/// The namespace's phase, or None when it is gone.
async fn phase(client: &kube::Client, name: &str) -> Option<String> {
    match Api::<Namespace>::all(client.clone()).get_opt(name).await.unwrap() {
        Some(ns) => Some(ns.status.and_then(|s| s.phase).unwrap_or_default()),
        None => None,
    }
}

async fn label(ns: &TestNs, key: &str, value: &str) {
    let patch = json!({"metadata": {"labels": {key: value}}});
    Api::<Namespace>::all(ns.client.clone())
        .patch(&ns.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_with_wait_returns_when_the_namespace_is_gone() {
    let ns = TestNs::new("pearl-del").await;
    ns.create_deployment("web", 1, &[]).await.unwrap();
    let cx = task_cx(ns.client.clone(), DryRun::None, yes());
    let out = run(&cx, json!({"names": [ns.name], "wait": true, "timeout": "180s"})).await.unwrap();
    assert_eq!((out.matched, out.changed), (1, 1), "{out:?}");
    assert_eq!(phase(&ns.client, &ns.name).await, None, "the namespace still exists after wait");
}

#[tokio::test]
async fn delete_by_selector_removes_every_match_and_nothing_else() {
    let a = TestNs::new("pearl-dsel").await;
    let b = TestNs::new("pearl-dsel").await;
    let other = TestNs::new("pearl-dsel-keep").await;
    let mark = unique_name("mark");
    label(&a, "pearl.test/mark", &mark).await;
    label(&b, "pearl.test/mark", &mark).await;
    let cx = task_cx(a.client.clone(), DryRun::None, yes());
    let out =
        run(&cx, json!({"selector": format!("pearl.test/mark={mark}"), "wait": true, "timeout": "180s"}))
            .await
            .unwrap();
    assert_eq!(out.changed, 2, "{out:?}");
    assert_eq!(phase(&a.client, &a.name).await, None);
    assert_eq!(phase(&a.client, &b.name).await, None);
    assert_eq!(phase(&a.client, &other.name).await.as_deref(), Some("Active"));
}

#[tokio::test]
async fn protected_patterns_are_refused_unless_forced() {
    let ns = TestNs::new("pearl-prot").await;
    let protect = vec!["pearl-prot-*".to_string()];
    let cx = task_cx(
        ns.client.clone(),
        DryRun::None,
        Safety { yes: true, protect: protect.clone(), ..Safety::default() },
    );
    let err = run(&cx, json!({"names": [ns.name]})).await.unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, TaskError::Check { .. }), "{err:?}");
    assert!(
        text.contains(&format!("namespace {} matches --protect pattern `pearl-prot-*`", ns.name)),
        "{text}"
    );
    assert!(text.contains("nothing was deleted"), "{text}");
    assert_eq!(phase(&ns.client, &ns.name).await.as_deref(), Some("Active"));

    let forced = task_cx(
        ns.client.clone(),
        DryRun::None,
        Safety { yes: true, force: true, protect, ..Safety::default() },
    );
    run(&forced, json!({"names": [ns.name], "wait": true, "timeout": "180s"})).await.unwrap();
    assert_eq!(phase(&ns.client, &ns.name).await, None);
}

#[tokio::test]
async fn one_protected_name_stops_the_whole_task() {
    let keep = TestNs::new("pearl-prot2").await;
    let free = TestNs::new("pearl-free").await;
    let cx = task_cx(
        keep.client.clone(),
        DryRun::None,
        Safety { yes: true, protect: vec!["pearl-prot2-*".into()], ..Safety::default() },
    );
    run(&cx, json!({"names": [free.name, keep.name]})).await.unwrap_err();
    assert_eq!(phase(&keep.client, &free.name).await.as_deref(), Some("Active"), "nothing may be deleted");
    assert_eq!(phase(&keep.client, &keep.name).await.as_deref(), Some("Active"));
}

#[tokio::test]
async fn kube_node_lease_is_refused_without_force() {
    let client = client().await;
    let cx = task_cx(client.clone(), DryRun::None, yes());
    let err = run(&cx, json!({"names": ["kube-node-lease"]})).await.unwrap_err();
    assert!(err.to_string().contains("kube-node-lease holds the nodes' heartbeat Leases"), "{err}");
    assert_eq!(phase(&client, "kube-node-lease").await.as_deref(), Some("Active"));
}

#[tokio::test]
async fn the_api_servers_refusal_of_default_is_reported_as_such() {
    let client = client().await;
    // --force too: the refusal is the server's, no flag of ours can pass it.
    let cx = task_cx(client.clone(), DryRun::None, Safety { yes: true, force: true, ..Safety::default() });
    let err = run(&cx, json!({"names": ["default"]})).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("delete namespace default: the API server refuses:"), "{text}");
    assert!(text.contains("403"), "{text}");
    assert!(text.contains("no pearl flag (--force included) can change that"), "{text}");
    assert_eq!(phase(&client, "default").await.as_deref(), Some("Active"));
}

#[tokio::test]
async fn without_a_terminal_and_without_yes_nothing_is_deleted() {
    let ns = TestNs::new("pearl-noyes").await;
    let cx = task_cx(
        ns.client.clone(),
        DryRun::None,
        Safety { yes: false, interactive: false, ..Safety::default() },
    );
    let err = run(&cx, json!({"names": [ns.name]})).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("delete namespace {}", ns.name)), "{text}");
    assert!(text.contains("pass --yes"), "{text}");
    assert_eq!(phase(&ns.client, &ns.name).await.as_deref(), Some("Active"));
}

#[tokio::test]
async fn dry_runs_delete_nothing() {
    let ns = TestNs::new("pearl-ddry").await;
    for dry in [DryRun::Server, DryRun::Client] {
        // No --yes: a dry run deletes nothing, so it does not ask either.
        let cx = task_cx(ns.client.clone(), dry, Safety::default());
        let out = run(&cx, json!({"names": [ns.name], "wait": true})).await.unwrap();
        assert!(out.message.starts_with("(dry run) would delete 1 of 1"), "{dry:?}: {}", out.message);
        assert_eq!(phase(&ns.client, &ns.name).await.as_deref(), Some("Active"), "{dry:?}");
    }
}

#[tokio::test]
async fn max_objects_refuses_before_deleting_anything() {
    let a = TestNs::new("pearl-dmax").await;
    let b = TestNs::new("pearl-dmax").await;
    let mark = unique_name("max");
    label(&a, "pearl.test/mark", &mark).await;
    label(&b, "pearl.test/mark", &mark).await;
    let cx = task_cx(a.client.clone(), DryRun::None, yes());
    let err =
        run(&cx, json!({"selector": format!("pearl.test/mark={mark}"), "maxObjects": 1})).await.unwrap_err();
    assert!(err.to_string().contains("2 namespaces match, more than maxObjects=1"), "{err}");
    assert_eq!(phase(&a.client, &a.name).await.as_deref(), Some("Active"));
    assert_eq!(phase(&a.client, &b.name).await.as_deref(), Some("Active"));
}

#[tokio::test]
async fn a_missing_namespace_fails_the_task_with_its_name() {
    let client = client().await;
    let cx = task_cx(client, DryRun::None, yes());
    let ghost = unique_name("pearl-ghost");
    let err = run(&cx, json!({"names": [ghost]})).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("delete namespace {ghost}:")), "{text}");
    assert!(text.contains("not found"), "{text}");
}
