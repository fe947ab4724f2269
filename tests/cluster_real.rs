//! Proves the local test cluster (tests/cluster/up) is a real Kubernetes control plane:
//! controllers, scheduler, RBAC, namespace finalization, logs/exec through the API server and
//! the kwok pod outcomes the other tests rely on. Needs a running cluster (tests/run starts one).

mod common;

use std::time::Duration;

use common::*;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{Node, Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, ListParams, LogParams, PostParams};
use kube::runtime::wait::conditions;

fn forbidden<T: std::fmt::Debug>(r: Result<T, kube::Error>) -> bool {
    matches!(r, Err(kube::Error::Api(ref s)) if s.code == 403)
}

#[tokio::test]
async fn server_is_kubernetes_v1_34_with_ready_kwok_nodes() {
    let c = client().await;
    let v = c.apiserver_version().await.unwrap();
    assert_eq!(v.git_version, "v1.34.1", "version ldflags: {v:?}");

    let nodes = Api::<Node>::all(c).list(&ListParams::default()).await.unwrap();
    assert!(nodes.items.len() >= 2, "expected >= 2 kwok nodes, got {}", nodes.items.len());
    for n in &nodes.items {
        let st = n.status.as_ref().unwrap();
        let ready = st.conditions.as_ref().unwrap().iter().any(|c| c.type_ == "Ready" && c.status == "True");
        assert!(ready, "node {:?} not Ready", n.metadata.name);
        let ip = st.addresses.as_ref().unwrap().iter().find(|a| a.type_ == "InternalIP");
        assert_eq!(
            ip.map(|a| a.address.as_str()),
            Some("127.0.0.1"),
            "node InternalIP (kubelet API via kwok)"
        );
    }
}

#[tokio::test]
async fn admin_user_is_not_system_masters() {
    // So API Priority and Fairness applies to tests as it does to users of a real cluster.
    let c = client().await;
    let r = Api::<SelfSubjectReview>::all(c)
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .unwrap();
    let ui = r.status.unwrap().user_info.unwrap();
    assert_eq!(ui.username.as_deref(), Some("pearl-admin"));
    let groups = ui.groups.unwrap_or_default();
    assert!(groups.iter().any(|g| g == "pearl-admins"), "{groups:?}");
    assert!(!groups.iter().any(|g| g == "system:masters"), "{groups:?}");
}

#[tokio::test]
async fn deployment_of_three_replicas_gets_three_running_pods() {
    let ns = TestNs::new("real-deploy").await;
    ns.create_deployment("web", 3, &[("tier", "front")]).await.unwrap();
    let pods = ns.wait_pods_running("app=web,tier=front", 3, TIMEOUT).await.unwrap();
    assert_eq!(pods.len(), 3);
    for p in &pods {
        let node = p.spec.as_ref().unwrap().node_name.as_deref().unwrap_or("");
        assert!(node.starts_with("kwok-node-"), "scheduled on {node:?}");
    }
    let d = wait_for(&ns.deployments(), "web", conditions::is_deployment_completed(), TIMEOUT)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(d.status.unwrap().ready_replicas, Some(3));
}

#[tokio::test]
async fn namespace_deletion_finishes() {
    let ns = TestNs::new("real-nsdel").await;
    ns.create_pods("p", 5, &[("x", "y")]).await.unwrap();
    ns.wait_pods_running("x=y", 5, TIMEOUT).await.unwrap();
    let name = ns.name.clone();
    let c = ns.client.clone();
    ns.delete_and_wait(Duration::from_secs(90)).await.unwrap();
    let r = Api::<k8s_openapi::api::core::v1::Namespace>::all(c).get_opt(&name).await.unwrap();
    assert!(r.is_none(), "namespace {name} still exists");
}

#[tokio::test]
async fn restricted_user_gets_403_outside_its_grant() {
    let rc = restricted_client().await;
    // Allowed: list pods in pearl-restricted.
    Api::<Pod>::namespaced(rc.clone(), RESTRICTED_NS).list(&ListParams::default()).await.unwrap();
    // Forbidden: pods in another namespace, pods cluster-wide, creating a pod, listing nodes.
    assert!(forbidden(Api::<Pod>::namespaced(rc.clone(), "default").list(&ListParams::default()).await));
    assert!(forbidden(Api::<Pod>::all(rc.clone()).list(&ListParams::default()).await));
    let pod = pod_object(&unique_name("nope"), &[], &[]);
    assert!(forbidden(
        Api::<Pod>::namespaced(rc.clone(), RESTRICTED_NS).create(&PostParams::default(), &pod).await
    ));
    assert!(forbidden(Api::<Node>::all(rc).list(&ListParams::default()).await));
}

#[tokio::test]
async fn logs_come_from_the_kwok_logs_object_and_follow_sees_appends() {
    use futures::{AsyncBufReadExt, TryStreamExt};
    let ns = TestNs::new("real-logs").await;
    ns.create_pod("talker", &[("app", "talker")], &[]).await.unwrap();
    ns.wait_pod("talker", conditions::is_pod_running(), TIMEOUT).await.unwrap();
    let file = ns.set_pod_logs("talker", &["hello from pearl", "second line"]).await.unwrap();

    let text = ns.pods().logs("talker", &LogParams::default()).await.unwrap();
    assert_eq!(text, "hello from pearl\nsecond line\n");

    let lp = LogParams { follow: true, ..Default::default() };
    let mut lines = ns.pods().log_stream("talker", &lp).await.unwrap().lines();
    assert_eq!(lines.try_next().await.unwrap().as_deref(), Some("hello from pearl"));
    assert_eq!(lines.try_next().await.unwrap().as_deref(), Some("second line"));
    append_log_lines(&file, &["appended later"]).unwrap();
    let next =
        tokio::time::timeout(Duration::from_secs(20), lines.try_next()).await.expect("logs -f saw no append");
    assert_eq!(next.unwrap().as_deref(), Some("appended later"));
}

#[tokio::test]
async fn exec_returns_command_output_and_exit_code() {
    let ns = TestNs::new("real-exec").await;
    ns.create_pod("shell", &[], &[]).await.unwrap();
    ns.wait_pod("shell", conditions::is_pod_running(), TIMEOUT).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("greeting.txt"), "ahoy\n").unwrap();
    ns.set_pod_exec("shell", dir.path(), &[("PEARL_VAR", "x42")]).await.unwrap();

    let out =
        exec_output(&ns.pods(), "shell", &["sh", "-c", "cat greeting.txt; echo $PEARL_VAR; echo oops >&2"])
            .await
            .unwrap();
    assert_eq!(out.stdout, "ahoy\nx42\n");
    assert_eq!(out.stderr, "oops\n");
    assert_eq!(out.exit_code, None, "status: {:?}", out.status);

    let out = exec_output(&ns.pods(), "shell", &["sh", "-c", "exit 3"]).await.unwrap();
    assert_eq!(out.exit_code, Some(3), "status: {:?}", out.status);
}

#[tokio::test]
async fn pod_marked_to_fail_ends_failed_with_its_exit_code() {
    let ns = TestNs::new("real-fail").await;
    ns.create_pod_with_outcome("doomed", &[], &Outcome::Fail(3)).await.unwrap();
    let p = ns.wait_pod("doomed", pod_in_phase(&["Failed", "Succeeded"]), TIMEOUT).await.unwrap();
    assert_eq!(pod_phase(&p), "Failed");
    assert_eq!(pod_exit_code(&p), Some(3));
}

#[tokio::test]
async fn pod_outcomes_succeed_crashloop_imagepull_by_annotation_and_label() {
    let ns = TestNs::new("real-outcomes").await;
    ns.create_pod_with_outcome("ok", &[], &Outcome::Succeed).await.unwrap();
    ns.create_pod_with_outcome("crash", &[], &Outcome::CrashLoop { restarts: 4, exit_code: 2 })
        .await
        .unwrap();
    ns.create_pod_with_outcome("pull", &[], &Outcome::ImagePull).await.unwrap();
    // The same outcomes can be chosen with a label instead of an annotation.
    ns.create_pod("labelled", &[(OUTCOME, "fail"), (EXIT_CODE, "7")], &[]).await.unwrap();
    ns.create_pod("plain", &[], &[]).await.unwrap();

    let ok = ns.wait_pod("ok", pod_in_phase(&["Succeeded", "Failed"]), TIMEOUT).await.unwrap();
    assert_eq!(pod_phase(&ok), "Succeeded");
    assert_eq!(pod_exit_code(&ok), Some(0));

    let crash = ns.wait_pod("crash", pod_waiting_reason("CrashLoopBackOff"), TIMEOUT).await.unwrap();
    assert_eq!(pod_phase(&crash), "Running");
    assert!(!pod_running_ready(&crash));
    let cs = &crash.status.as_ref().unwrap().container_statuses.as_ref().unwrap()[0];
    assert_eq!(cs.restart_count, 4);
    assert_eq!(cs.last_state.as_ref().unwrap().terminated.as_ref().unwrap().exit_code, 2);

    let pull = ns.wait_pod("pull", pod_waiting_reason("ImagePullBackOff"), TIMEOUT).await.unwrap();
    assert_eq!(pod_phase(&pull), "Pending");
    assert!(!pod_running_ready(&pull));

    let labelled = ns.wait_pod("labelled", pod_in_phase(&["Failed", "Succeeded"]), TIMEOUT).await.unwrap();
    assert_eq!(pod_phase(&labelled), "Failed");
    assert_eq!(pod_exit_code(&labelled), Some(7));

    let plain = ns.wait_pod("plain", conditions::is_pod_running(), TIMEOUT).await.unwrap();
    assert!(pod_running_ready(&plain));
}

#[tokio::test]
async fn job_pods_succeed_and_the_job_completes() {
    let ns = TestNs::new("real-job").await;
    let job = Job {
        metadata: ObjectMeta { name: Some("once".into()), ..Default::default() },
        spec: Some(JobSpec {
            template: PodTemplateSpec {
                metadata: None,
                spec: Some({
                    let mut s = pod_object("x", &[], &[]).spec.unwrap();
                    s.restart_policy = Some("Never".into());
                    s
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    let jobs: Api<Job> = ns.api();
    jobs.create(&PostParams::default(), &job).await.unwrap();
    wait_for(&jobs, "once", conditions::is_job_completed(), TIMEOUT).await.unwrap();
}
