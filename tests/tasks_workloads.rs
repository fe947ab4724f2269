//! Workload task types (`scale`, `set-image`, `rollout-restart`, `scale-down-namespace`,
//! `scale-up-namespace`) run through the library against the real control plane; each test
//! asserts what the cluster holds afterwards. kwok makes the pods Ready.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::*;
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet, StatefulSet, StatefulSetSpec};
use k8s_openapi::api::core::v1::{Container, Pod, PodSpec, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use kube::api::{Api, ListParams, PostParams};
use pearl::ops::workloads::{RESTARTED_AT, SCALED_DOWN_REPLICAS};
use pearl::ops::{Cluster, DryRun};
use pearl::pool::{Pool, PoolConfig, RetryPolicy};
use pearl::tasks::{Params, Safety, Targets, TaskCx, TaskError, TaskOutput, registry};
use serde_json::{Value, json};

fn task_cx(ns: &TestNs, dry_run: DryRun) -> TaskCx {
    TaskCx::new(
        "test-task",
        Cluster::new(ns.client.clone(), dry_run),
        Pool::new(&PoolConfig::default()),
        RetryPolicy::default(),
        Targets::Namespaces(vec![ns.name.clone()]),
        Arc::new(Safety::default()),
    )
}

async fn run(type_name: &str, cx: &TaskCx, params: Value) -> Result<TaskOutput, TaskError> {
    let t = registry().get(type_name).unwrap_or_else(|| panic!("no task type {type_name}"));
    let p = Params::from_json(t.params(), params.as_object().unwrap()).expect("valid parameters");
    t.check(&p).expect("parameters pass the type's check");
    t.run(cx, &p).await
}

async fn deployment(ns: &TestNs, name: &str) -> Deployment {
    ns.deployments().get(name).await.unwrap()
}

fn spec_replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().unwrap().replicas.unwrap()
}

fn image(d: &Deployment) -> String {
    d.spec.as_ref().unwrap().template.spec.as_ref().unwrap().containers[0].image.clone().unwrap()
}

/// Whether pearl (field manager `kubectl-pearl`) ever wrote to this object.
fn touched_by_pearl<K: kube::Resource>(o: &K) -> bool {
    o.meta().managed_fields.iter().flatten().any(|m| m.manager.as_deref() == Some(pearl::ops::FIELD_MANAGER))
}

fn annotation<K: kube::Resource>(o: &K, key: &str) -> Option<String> {
    o.meta().annotations.as_ref().and_then(|a| a.get(key).cloned())
}

/// Pods of `app=<name>` that are not being deleted.
async fn live_pods(ns: &TestNs, app: &str) -> Vec<Pod> {
    let pods = ns.pods().list(&ListParams::default().labels(&format!("app={app}"))).await.unwrap();
    pods.items.into_iter().filter(|p| p.metadata.deletion_timestamp.is_none()).collect()
}

async fn statefulset(ns: &TestNs, name: &str, replicas: i32, labels: &[(&str, &str)]) -> StatefulSet {
    let mut all: BTreeMap<String, String> =
        labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    all.insert("app".into(), name.into());
    let sts = StatefulSet {
        metadata: ObjectMeta { name: Some(name.into()), labels: Some(all.clone()), ..Default::default() },
        spec: Some(StatefulSetSpec {
            replicas: Some(replicas),
            service_name: Some(name.into()),
            pod_management_policy: Some("Parallel".into()),
            selector: LabelSelector { match_labels: Some(all.clone()), ..Default::default() },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(all), ..Default::default() }),
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
    };
    ns.api::<StatefulSet>().create(&PostParams::default(), &sts).await.unwrap()
}

#[tokio::test]
async fn scale_up_and_down_with_wait_leaves_that_many_ready_pods() {
    let ns = TestNs::new("pearl-scale").await;
    ns.create_deployment("web", 1, &[]).await.unwrap();
    let cx = task_cx(&ns, DryRun::None);

    let out = run("scale", &cx, json!({"name": "web", "replicas": 3, "wait": true, "timeout": "180s"}))
        .await
        .unwrap();
    assert_eq!((out.matched, out.changed), (1, 1), "{out:?}");
    let d = deployment(&ns, "web").await;
    assert_eq!(spec_replicas(&d), 3);
    assert_eq!(d.status.as_ref().unwrap().ready_replicas, Some(3), "wait returned before all were ready");
    assert_eq!(live_pods(&ns, "web").await.len(), 3);

    let out =
        run("scale", &cx, json!({"deploymentName": "web", "replicas": 0, "wait": true, "timeout": "180s"}))
            .await
            .unwrap();
    assert_eq!(out.changed, 1);
    let d = deployment(&ns, "web").await;
    assert_eq!(spec_replicas(&d), 0);
    assert_eq!(d.status.as_ref().unwrap().replicas.unwrap_or(0), 0);
    assert!(live_pods(&ns, "web").await.is_empty());
}

#[tokio::test]
async fn scale_sends_nothing_when_already_at_the_count() {
    let ns = TestNs::new("pearl-scale-skip").await;
    ns.create_deployment("api", 2, &[("tier", "api")]).await.unwrap();
    ns.create_deployment("api2", 1, &[("tier", "api")]).await.unwrap();
    let cx = task_cx(&ns, DryRun::None);
    let out = run("CrewScaleDeployments", &cx, json!({"selector": "tier=api", "replicas": 2})).await.unwrap();
    assert_eq!((out.matched, out.changed), (2, 1), "{out:?}");
    assert!(out.message.contains("1 already as wanted"), "{}", out.message);
    // The controller keeps updating status (and so resourceVersion); what pearl wrote shows in
    // managedFields under its field manager.
    assert!(
        !touched_by_pearl(&deployment(&ns, "api").await),
        "a request was sent for a deployment already at 2"
    );
    let api2 = deployment(&ns, "api2").await;
    assert_eq!(spec_replicas(&api2), 2);
    assert!(touched_by_pearl(&api2));
}

#[tokio::test]
async fn statefulsets_scale_through_the_same_task() {
    let ns = TestNs::new("pearl-sts").await;
    statefulset(&ns, "db", 1, &[]).await;
    let cx = task_cx(&ns, DryRun::None);
    let out = run(
        "scale",
        &cx,
        json!({"kind": "StatefulSet", "name": "db", "replicas": 2, "wait": true, "timeout": "180s"}),
    )
    .await
    .unwrap();
    assert_eq!(out.changed, 1);
    let sts = ns.api::<StatefulSet>().get("db").await.unwrap();
    assert_eq!(sts.spec.unwrap().replicas, Some(2));
    assert_eq!(sts.status.unwrap().ready_replicas, Some(2));
}

#[tokio::test]
async fn set_image_waits_for_the_rollout_and_skips_when_already_set() {
    let ns = TestNs::new("pearl-image").await;
    ns.create_deployment("web", 2, &[]).await.unwrap();
    let cx = task_cx(&ns, DryRun::None);
    let new_image = "registry.invalid/pearl/test:2";
    let out = run(
        "CrewUpdateImageDeployments",
        &cx,
        json!({"deploymentName": "web", "containerName": "main", "newImage": new_image, "wait": true, "timeout": "180s"}),
    )
    .await
    .unwrap();
    assert_eq!(out.changed, 1, "{out:?}");
    assert_eq!(out.items.to_vec()[0]["previous"], json!(TEST_IMAGE));
    let d = deployment(&ns, "web").await;
    assert_eq!(image(&d), new_image);
    let st = d.status.clone().unwrap();
    assert!(st.observed_generation.unwrap() >= d.metadata.generation.unwrap());
    assert_eq!((st.updated_replicas, st.available_replicas, st.replicas), (Some(2), Some(2), Some(2)));
    for p in live_pods(&ns, "web").await {
        assert_eq!(p.spec.unwrap().containers[0].image.as_deref(), Some(new_image));
    }

    let again =
        run("set-image", &cx, json!({"name": "web", "container": "main", "image": new_image})).await.unwrap();
    assert_eq!(again.changed, 0);
    assert!(again.message.contains("1 already as wanted: nothing sent"), "{}", again.message);
    assert_eq!(deployment(&ns, "web").await.metadata.generation, d.metadata.generation);
}

#[tokio::test]
async fn set_image_on_an_unknown_container_names_the_existing_ones() {
    let ns = TestNs::new("pearl-image-bad").await;
    ns.create_deployment("web", 1, &[]).await.unwrap();
    let before = deployment(&ns, "web").await;
    let cx = task_cx(&ns, DryRun::None);
    let err = run("set-image", &cx, json!({"name": "web", "container": "nginx", "image": "x:1"}))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("set image deployment {}/web: no container named `nginx`", ns.name)),
        "{text}"
    );
    assert!(text.contains("its containers are: main"), "{text}");
    let after = deployment(&ns, "web").await;
    assert_eq!(after.metadata.generation, before.metadata.generation);
    assert!(!touched_by_pearl(&after));
    assert_eq!(image(&after), TEST_IMAGE);
}

#[tokio::test]
async fn a_missing_deployment_is_a_clear_error() {
    let ns = TestNs::new("pearl-missing").await;
    let cx = task_cx(&ns, DryRun::None);
    let err = run("scale", &cx, json!({"name": "ghost", "replicas": 1})).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with(&format!("get deployment {}/ghost:", ns.name)), "{text}");
    assert!(text.contains("not found"), "{text}");
}

#[tokio::test]
async fn rollout_restart_writes_kubectls_annotation_and_rolls_a_new_replicaset() {
    let ns = TestNs::new("pearl-restart").await;
    ns.create_deployment("web", 1, &[]).await.unwrap();
    ns.wait_pods_running("app=web", 1, std::time::Duration::from_secs(180)).await.unwrap();
    let cx = task_cx(&ns, DryRun::None);
    let out =
        run("rollout-restart", &cx, json!({"name": "web", "wait": true, "timeout": "180s"})).await.unwrap();
    assert_eq!(out.changed, 1);

    let d = deployment(&ns, "web").await;
    let template_annotations = d.spec.unwrap().template.metadata.unwrap().annotations.unwrap_or_default();
    let at = template_annotations.get(RESTARTED_AT).expect("kubectl.kubernetes.io/restartedAt is set");
    assert!(at.parse::<jiff::Timestamp>().is_ok(), "not RFC 3339: {at}");
    assert!(!template_annotations.contains_key("kube.kubernetes.io/restartedAt"));
    let replica_sets = ns.api::<ReplicaSet>().list(&ListParams::default().labels("app=web")).await.unwrap();
    assert_eq!(replica_sets.items.len(), 2, "a restart rolls out a new ReplicaSet");
    let new_rs = replica_sets
        .items
        .iter()
        .find(|rs| rs.spec.as_ref().unwrap().replicas == Some(1))
        .expect("the new ReplicaSet holds the replica");
    let rs_at = new_rs
        .spec
        .as_ref()
        .unwrap()
        .template
        .as_ref()
        .unwrap()
        .metadata
        .as_ref()
        .unwrap()
        .annotations
        .as_ref();
    assert_eq!(rs_at.and_then(|a| a.get(RESTARTED_AT)), Some(at));
}

#[tokio::test]
async fn dry_runs_change_nothing() {
    let ns = TestNs::new("pearl-dry").await;
    ns.create_deployment("web", 1, &[]).await.unwrap();
    let before = deployment(&ns, "web").await;
    for dry in [DryRun::Server, DryRun::Client] {
        let cx = task_cx(&ns, dry);
        let out = run("scale", &cx, json!({"name": "web", "replicas": 4, "wait": true})).await.unwrap();
        assert_eq!(out.changed, 1, "{dry:?}: reports what would change");
        assert!(out.message.starts_with("(dry run)"), "{}", out.message);
        let out =
            run("set-image", &cx, json!({"name": "web", "container": "main", "image": "x:9"})).await.unwrap();
        assert_eq!(out.changed, 1);
        run("rollout-restart", &cx, json!({"name": "web"})).await.unwrap();
        run("scale-down-namespace", &cx, json!({})).await.unwrap();
        let after = deployment(&ns, "web").await;
        assert_eq!(after.metadata.generation, before.metadata.generation, "{dry:?} changed the spec");
        assert!(!touched_by_pearl(&after), "{dry:?} wrote to the deployment");
        assert_eq!(spec_replicas(&after), 1);
        assert_eq!(image(&after), TEST_IMAGE);
        assert_eq!(annotation(&after, SCALED_DOWN_REPLICAS), None);
    }
}

#[tokio::test]
async fn max_objects_refuses_before_changing_anything() {
    let ns = TestNs::new("pearl-blast").await;
    for name in ["a", "b", "c"] {
        ns.create_deployment(name, 1, &[("tier", "x")]).await.unwrap();
    }
    let cx = task_cx(&ns, DryRun::None);
    let err =
        run("scale", &cx, json!({"selector": "tier=x", "replicas": 2, "maxObjects": 2})).await.unwrap_err();
    assert!(matches!(err, TaskError::Check { .. }), "{err:?}");
    assert!(err.to_string().contains("3 deployments match, more than maxObjects=2"), "{err}");
    let err = run("scale-down-namespace", &cx, json!({"maxObjects": 1})).await.unwrap_err();
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    for name in ["a", "b", "c"] {
        let d = deployment(&ns, name).await;
        assert_eq!(spec_replicas(&d), 1, "{name} was changed");
        assert_eq!(annotation(&d, SCALED_DOWN_REPLICAS), None);
    }
}

#[tokio::test]
async fn scale_down_then_up_restores_every_count() {
    let ns = TestNs::new("pearl-park").await;
    ns.create_deployment("web", 2, &[("tier", "web")]).await.unwrap();
    ns.create_deployment("api", 3, &[("tier", "api")]).await.unwrap();
    ns.create_deployment("idle", 0, &[]).await.unwrap();
    statefulset(&ns, "db", 1, &[]).await;
    let cx = task_cx(&ns, DryRun::None);

    let out = run("scale-down-namespace", &cx, json!({})).await.unwrap();
    assert_eq!((out.matched, out.changed), (4, 3), "{out:?}");
    for (name, was) in [("web", "2"), ("api", "3")] {
        let d = deployment(&ns, name).await;
        assert_eq!(spec_replicas(&d), 0, "{name}");
        assert_eq!(annotation(&d, SCALED_DOWN_REPLICAS).as_deref(), Some(was), "{name}");
    }
    let idle = deployment(&ns, "idle").await;
    assert_eq!(annotation(&idle, SCALED_DOWN_REPLICAS), None, "an idle deployment has nothing to remember");
    let db = ns.api::<StatefulSet>().get("db").await.unwrap();
    assert_eq!(db.spec.as_ref().unwrap().replicas, Some(0));
    assert_eq!(annotation(&db, SCALED_DOWN_REPLICAS).as_deref(), Some("1"));

    // Again: everything is at 0 already, nothing is sent and the remembered counts stay.
    let again = run("SCALE_DOWN", &cx, json!({})).await.unwrap();
    assert_eq!(again.changed, 0, "{again:?}");
    assert_eq!(annotation(&deployment(&ns, "web").await, SCALED_DOWN_REPLICAS).as_deref(), Some("2"));

    let up = run("scale-up-namespace", &cx, json!({})).await.unwrap();
    assert_eq!((up.matched, up.changed), (3, 3), "{up:?}");
    for (name, want) in [("web", 2), ("api", 3), ("idle", 0)] {
        let d = deployment(&ns, name).await;
        assert_eq!(spec_replicas(&d), want, "{name}");
        assert_eq!(annotation(&d, SCALED_DOWN_REPLICAS), None, "{name}");
    }
    let db = ns.api::<StatefulSet>().get("db").await.unwrap();
    assert_eq!(db.spec.as_ref().unwrap().replicas, Some(1));
    assert_eq!(annotation(&db, SCALED_DOWN_REPLICAS), None);
}

#[tokio::test]
async fn scale_down_with_namespace_manager_selectors_picks_by_kind_and_labels() {
    let ns = TestNs::new("pearl-park-sel").await;
    ns.create_deployment("web", 2, &[("tier", "web")]).await.unwrap();
    ns.create_deployment("api", 2, &[("tier", "api")]).await.unwrap();
    statefulset(&ns, "db", 1, &[]).await;
    let cx = task_cx(&ns, DryRun::None);
    let out = run(
        "scale-down-namespace",
        &cx,
        json!({"selectors": [{"kind": "Deployment", "labels": {"tier": "web"}}, {"kind": "StatefulSet"}]}),
    )
    .await
    .unwrap();
    assert_eq!(out.changed, 2, "{out:?}");
    assert_eq!(spec_replicas(&deployment(&ns, "web").await), 0);
    assert_eq!(spec_replicas(&deployment(&ns, "api").await), 2, "api matches no selector");
    assert_eq!(ns.api::<StatefulSet>().get("db").await.unwrap().spec.unwrap().replicas, Some(0));
}

#[tokio::test]
async fn scale_down_refuses_a_protected_namespace() {
    let ns = TestNs::new("pearl-guarded").await;
    ns.create_deployment("web", 1, &[]).await.unwrap();
    let mut cx = task_cx(&ns, DryRun::None);
    cx.safety = Arc::new(Safety { protect: vec!["pearl-guarded-*".into()], ..Safety::default() });
    let err = run("scale-down-namespace", &cx, json!({})).await.unwrap_err();
    assert!(err.to_string().contains("matches --protect pattern `pearl-guarded-*`"), "{err}");
    assert_eq!(spec_replicas(&deployment(&ns, "web").await), 1);
}

#[tokio::test]
async fn scaling_many_deployments_sends_only_what_differs() {
    // Issue 17's case at test size: many workloads, one LIST, one PATCH per deployment that
    // differs and none for the others.
    let ns = TestNs::new("pearl-many").await;
    let api: Api<Deployment> = ns.deployments();
    let names: Vec<String> = (0..40).map(|i| format!("d{i}")).collect();
    futures::future::try_join_all(names.iter().enumerate().map(|(i, n)| {
        let api = api.clone();
        let d = deployment_object(n, if i % 2 == 0 { 0 } else { 1 }, &[("fleet", "f")]);
        async move { api.create(&PostParams::default(), &d).await }
    }))
    .await
    .unwrap();
    let cx = task_cx(&ns, DryRun::None);
    let out = run("scale", &cx, json!({"selector": "fleet=f", "replicas": 1})).await.unwrap();
    assert_eq!((out.matched, out.changed), (40, 20), "{}", out.message);
    for d in api.list(&ListParams::default()).await.unwrap().items {
        let name = d.metadata.name.clone().unwrap();
        assert_eq!(spec_replicas(&d), 1, "{name}");
        let idx: usize = name[1..].parse().unwrap();
        // Odd ones were created at 1: pearl must not have written to them.
        assert_eq!(touched_by_pearl(&d), idx.is_multiple_of(2), "{name}");
    }
}

#[tokio::test]
async fn a_forbidden_namespace_is_a_clear_error() {
    // The restricted user may only get/list pods in RESTRICTED_NS.
    let cx = TaskCx::new(
        "forbidden",
        Cluster::new(restricted_client().await, DryRun::None),
        Pool::new(&PoolConfig::default()),
        RetryPolicy::default(),
        Targets::Namespaces(vec![RESTRICTED_NS.into()]),
        Arc::new(Safety::default()),
    );
    let err = run("scale", &cx, json!({"name": "web", "replicas": 2})).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with(&format!("get deployment {RESTRICTED_NS}/web: ")), "{text}");
    assert!(text.contains("(Forbidden, 403)"), "{text}");
    assert_eq!(cx.attempts(), 1, "a 403 is not retried");

    let err = run("scale-down-namespace", &cx, json!({})).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("list deployments in namespace {RESTRICTED_NS}: ")), "{text}");
    assert!(text.contains("(Forbidden, 403)"), "{text}");
}

#[tokio::test]
async fn a_wait_that_cannot_succeed_times_out_saying_where_it_stood() {
    let ns = TestNs::new("pearl-stuck").await;
    // Pods of this deployment stay in ImagePullBackOff on the kwok nodes: never ready.
    let mut d = deployment_object("stuck", 1, &[]);
    let template = d.spec.as_mut().unwrap().template.metadata.as_mut().unwrap();
    template.annotations = Some(BTreeMap::from([(OUTCOME.to_string(), "imagepull".to_string())]));
    ns.deployments().create(&PostParams::default(), &d).await.unwrap();
    let cx = task_cx(&ns, DryRun::None);
    let started = std::time::Instant::now();
    let err = run("scale", &cx, json!({"name": "stuck", "replicas": 2, "wait": true, "timeout": "3s"}))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!(
            "wait for ready replicas of deployment {}/stuck: timed out after 3s: 0/2 ready",
            ns.name
        )),
        "{text}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20), "{:?}", started.elapsed());
    // The scale itself happened; only the wait failed.
    assert_eq!(spec_replicas(&deployment(&ns, "stuck").await), 2);
    let TaskError::Partial { output, .. } = err else { panic!("expected a partial failure") };
    assert_eq!(output.changed, 0, "the failed unit is not counted as done");
}
