//! Proves the local test cluster (tests/cluster/up) is a real Kubernetes control plane:
//! controllers, scheduler, RBAC, namespace finalization, logs/exec through the API server and
//! the kwok pod outcomes the other tests rely on. Needs a running cluster (tests/run starts one).

mod common;

use std::path::Path;
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

    // What a user of kubectl sees with that kubeconfig.
    let mut k = std::process::Command::new(kubectl_bin());
    k.arg("--kubeconfig").arg(restricted_kubeconfig_path()).args(["get", "pods", "-n", "default"]);
    let out = run_cmd(&mut k);
    assert!(!out.success(), "{out}");
    assert!(out.stderr.contains("Forbidden") && out.stderr.contains("pearl-restricted"), "{out}");
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
    let mut k = kubectl();
    k.args(["logs", "-n", &ns.name, "talker"]);
    let out = run_cmd_async(k).await;
    assert!(out.success(), "{out}");
    assert_eq!(out.stdout, "hello from pearl\nsecond line\n");

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

    let mut k = kubectl();
    k.args(["exec", "-n", &ns.name, "shell", "--", "cat", "greeting.txt"]);
    let kout = run_cmd_async(k).await;
    assert!(kout.success(), "{kout}");
    assert_eq!(kout.stdout, "ahoy\n");

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

// ----------------------------------------------------------------------------- the scripts

fn component_pids(env: &std::collections::HashMap<String, String>) -> Vec<(&'static str, u32)> {
    ["ETCD", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "KWOK"]
        .into_iter()
        .map(|c| {
            let v = env.get(&format!("PEARL_{c}_PID")).unwrap_or_else(|| panic!("no PEARL_{c}_PID in env"));
            (c, v.parse().unwrap_or_else(|_| panic!("PEARL_{c}_PID={v:?} is not a pid")))
        })
        .collect()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// `n` concurrent `list pods` (limit 1); returns (ok, 429) counts, panics on any other error.
async fn burst_of_lists(pods: &Api<Pod>, n: usize) -> (usize, usize) {
    let lp = ListParams::default().limit(1);
    let results = futures::future::join_all((0..n).map(|_| pods.list(&lp))).await;
    let mut counts = (0, 0);
    for r in results {
        match r {
            Ok(_) => counts.0 += 1,
            Err(kube::Error::Api(s)) if s.code == 429 => counts.1 += 1,
            Err(e) => panic!("unexpected error in burst: {e}"),
        }
    }
    counts
}

#[test]
fn proc_net_addresses_parse() {
    assert_eq!(parse_proc_net_addr("0100007F:1F90").unwrap(), "127.0.0.1:8080".parse().unwrap());
    assert_eq!(parse_proc_net_addr("00000000:0016").unwrap(), "0.0.0.0:22".parse().unwrap());
    assert_eq!(
        parse_proc_net_addr("00000000000000000000000001000000:01BB").unwrap(),
        "[::1]:443".parse().unwrap()
    );
    assert!(parse_proc_net_addr("0100007F").is_err());
    assert!(parse_proc_net_addr("01007F:0016").is_err());
}

/// up (and reuse), loopback-only listeners, apiserver stop/start/kill/throttle/unthrottle,
/// status and up reporting a crashed component, down leaving no process. On a private
/// cluster: stopping the shared API server would break everyone else's tests.
#[tokio::test]
async fn cluster_scripts_control_a_private_cluster() {
    let pc = PrivateCluster::start("scripts").await.unwrap();
    assert!(pc.up_output.contains("cluster up in"), "{}", pc.up_output);

    let again = pc.script("up", &[]).await.unwrap();
    assert!(again.success, "{}", again.output);
    assert!(again.output.contains("cluster already running"), "{}", again.output);

    // Every component listens, and only on 127.0.0.1.
    let env = pc.env().unwrap();
    for (c, pid) in component_pids(&env) {
        let addrs = listening_addresses(pid).unwrap();
        assert!(!addrs.is_empty(), "{c} (pid {pid}) listens nowhere");
        for a in addrs {
            assert_eq!(a.ip(), std::net::Ipv4Addr::LOCALHOST, "{c} (pid {pid}) listens on {a}");
        }
    }

    let c = client_without_retry(&pc.kubeconfig()).await;
    let pods: Api<Pod> = Api::all(c);
    pods.list(&ListParams::default().limit(1)).await.unwrap();

    // stop: requests fail to connect, status says so; start: same port, same kubeconfig.
    pc.apiserver(&["stop"]).await.unwrap();
    let err = pods.list(&ListParams::default().limit(1)).await.unwrap_err();
    assert!(!matches!(err, kube::Error::Api(_)), "expected a connection error, got {err}");
    let st = pc.script("status", &[]).await.unwrap();
    assert!(!st.success, "{}", st.output);
    assert!(st.output.contains("kube-apiserver           NOT RUNNING"), "{}", st.output);
    pc.apiserver(&["start"]).await.unwrap();
    pods.list(&ListParams::default().limit(1)).await.unwrap();

    // throttle without APF: one read in flight, the rest of a burst gets 429 at once.
    pc.apiserver(&["throttle", "1", "1", "--no-apf"]).await.unwrap();
    let (ok, throttled) = burst_of_lists(&pods, 60).await;
    assert!(throttled > 0 && ok > 0, "throttled burst: {ok} ok, {throttled} got 429");
    let st = pc.apiserver(&["status"]).await.unwrap();
    assert!(st.contains("--max-requests-inflight=1"), "{st}");
    pc.apiserver(&["unthrottle"]).await.unwrap();
    assert_eq!(burst_of_lists(&pods, 60).await, (60, 0), "after unthrottle");

    // kill: a crash, no drain; start brings it back.
    let apiserver_pid = component_pids(&pc.env().unwrap())[1].1;
    pc.apiserver(&["kill"]).await.unwrap();
    assert!(!alive(apiserver_pid), "kube-apiserver {apiserver_pid} survived kill");
    pc.apiserver(&["start"]).await.unwrap();
    pods.list(&ListParams::default().limit(1)).await.unwrap();

    // A component that dies is reported, with the tail of its log; up then restarts the cluster.
    let scheduler_pid = component_pids(&pc.env().unwrap())[3].1;
    assert!(
        std::process::Command::new("kill")
            .args(["-KILL", &scheduler_pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    while alive(scheduler_pid) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let st = pc.script("status", &[]).await.unwrap();
    assert!(!st.success, "{}", st.output);
    assert!(st.output.contains("kube-scheduler           NOT RUNNING"), "{}", st.output);
    assert!(st.output.contains("logs/kube-scheduler.log -----"), "no log tail: {}", st.output);
    let up = pc.script("up", &[]).await.unwrap();
    assert!(up.success, "{}", up.output);
    assert!(up.output.contains("kube-scheduler of the cluster in"), "{}", up.output);
    assert!(up.output.contains("last 20 lines of"), "{}", up.output);
    assert!(up.output.contains("cluster up in"), "{}", up.output);
    let c = client_without_retry(&pc.kubeconfig()).await;
    Api::<Node>::all(c).list(&ListParams::default()).await.unwrap();

    // down: every process gone.
    let pids = component_pids(&pc.env().unwrap());
    let down = pc.script("down", &[]).await.unwrap();
    assert!(down.success, "{}", down.output);
    for (c, pid) in pids {
        assert!(!alive(pid), "{c} (pid {pid}) still alive after down");
    }
    assert_eq!(pids_with_exe_prefix(&pc.dir.join("bin")), Vec::<u32>::new());
    assert!(!pc.dir.join("env").exists(), "env file left after down");
}

/// A component that cannot start makes `up` fail with the tail of its log, and nothing of
/// the half-started cluster keeps running.
#[tokio::test]
async fn up_reports_a_component_that_crashes_at_start_and_leaves_nothing_running() {
    let dir = std::env::temp_dir().join(format!("pearl-private-{}", unique_name("crash")));
    let out = run_cluster_script(&dir, "up", &[], &[("PEARL_APISERVER_EXTRA_ARGS", "--no-such-flag=1")])
        .await
        .unwrap();
    let left = pids_with_exe_prefix(&dir.join("bin"));
    let purge = run_cluster_script(&dir, "down", &["--purge"], &[]).await.unwrap();
    assert!(!out.success, "up succeeded with a bad flag:\n{}", out.output);
    assert!(out.output.contains("kube-apiserver exited during startup"), "{}", out.output);
    assert!(out.output.contains("unknown flag: --no-such-flag"), "no log tail:\n{}", out.output);
    assert!(out.output.contains("tests/cluster/up FAILED"), "{}", out.output);
    assert_eq!(left, Vec::<u32>::new(), "processes left after a failed up");
    assert!(purge.success, "{}", purge.output);
    assert!(!dir.exists());
}
