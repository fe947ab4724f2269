//! Rhai scripts against the real control plane: every binding runs in a short script whose
//! effect on the cluster (or returned value) is asserted, every example in scripts/ runs and its
//! effect is asserted, and the sandbox, limits and --dry-run hold. Scripts run through the
//! `script` task type with a TaskCx built here, as `kubectl pearl run` does.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use kube::runtime::wait::conditions;
use pearl::ops::{Cluster, DryRun};
use pearl::pool::{Pool, PoolConfig, RetryPolicy};
use pearl::tasks::{Params, Safety, Targets, TaskCx, TaskError, TaskOutput, registry};
use serde_json::{Value, json};

// ----------------------------------------------------------------------------- harness

async fn cx_with(dry_run: DryRun, safety: Safety) -> TaskCx {
    let cluster = Cluster::new(client().await, dry_run);
    let pool = Pool::new(&PoolConfig::default());
    TaskCx::new(
        "test-script",
        cluster,
        pool,
        RetryPolicy::default(),
        Targets::Namespaces(vec!["default".into()]),
        Arc::new(safety),
    )
}

async fn cx() -> TaskCx {
    cx_with(DryRun::None, Safety::default()).await
}

/// Run the `script` task type with these parameters.
async fn run_task(cx: &TaskCx, params: Value) -> Result<TaskOutput, TaskError> {
    let t = registry().get("script").expect("script task type registered");
    let p = Params::from_json(t.params(), params.as_object().unwrap()).expect("valid params");
    t.check(&p).map_err(TaskError::Usage)?;
    t.run(cx, &p).await
}

/// Run inline source with ARGS; the script's value (Null for unit) or the error text.
async fn eval_in(cx: &TaskCx, src: &str, args: &[(&str, &str)]) -> Result<Value, String> {
    let args: BTreeMap<&str, &str> = args.iter().copied().collect();
    match run_task(cx, json!({"source": src, "origin": "t.rhai", "args": args})).await {
        Ok(out) => Ok(out.items.values().next().unwrap_or(Value::Null)),
        Err(e) => Err(e.to_string()),
    }
}

async fn eval(src: &str, args: &[(&str, &str)]) -> Value {
    eval_in(&cx().await, src, args).await.unwrap_or_else(|e| panic!("script failed:\n{e}"))
}

fn example(name: &str) -> String {
    format!("{}/scripts/{name}", env!("CARGO_MANIFEST_DIR"))
}

async fn run_example(name: &str, args: &[(&str, &str)]) -> Value {
    let args: BTreeMap<&str, &str> = args.iter().copied().collect();
    let out = run_task(&cx().await, json!({"file": example(name), "args": args}))
        .await
        .unwrap_or_else(|e| panic!("{name} failed:\n{e}"));
    out.items.values().next().unwrap_or(Value::Null)
}

async fn labels_of(ns: &TestNs, pod: &str) -> BTreeMap<String, String> {
    ns.pods().get(pod).await.unwrap().metadata.labels.unwrap_or_default()
}

async fn create_configmap(ns: &TestNs, name: &str, data: &[(&str, &str)], labels: &[(&str, &str)]) {
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
            ..Default::default()
        },
        data: Some(data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()),
        ..Default::default()
    };
    ns.api::<ConfigMap>().create(&PostParams::default(), &cm).await.unwrap();
}

async fn cm_data(ns: &TestNs, name: &str) -> BTreeMap<String, String> {
    ns.api::<ConfigMap>().get(name).await.unwrap().data.unwrap_or_default()
}

// ----------------------------------------------------------------------------- sandbox, limits

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_has_no_file_env_or_module_access() {
    let c = cx().await;
    let import = eval_in(&c, "import \"/etc/passwd\" as p;\np", &[]).await.unwrap_err();
    assert!(import.starts_with("t.rhai:1:8: Module not found: /etc/passwd"), "{import}");
    for (src, missing) in [
        ("open_file(\"/etc/passwd\")", "open_file"),
        ("read_file(\"/etc/hostname\")", "read_file"),
        ("env(\"HOME\")", "env"),
        ("getenv(\"HOME\")", "getenv"),
        ("command(\"ls\")", "command"),
        ("http_get(\"http://127.0.0.1/\")", "http_get"),
    ] {
        let e = eval_in(&c, src, &[]).await.unwrap_err();
        assert!(e.starts_with(&format!("t.rhai:1:1: Function not found: {missing}")), "{src}: {e}");
    }
    // eval cannot be used to get around any of it: it does not even compile.
    let e = eval_in(&c, "let x = 1;\neval(\"open_file(1)\")", &[]).await.unwrap_err();
    assert!(e.starts_with("t.rhai:2:1: syntax error: reserved keyword 'eval' is disabled"), "{e}");
    // The bindings reference lists no file or environment function either.
    let help = pearl::script::bindings_help();
    for word in ["file", "env", "import", "eval"] {
        assert!(!help.lines().any(|l| l.trim_start().starts_with(word)), "{word} in help:\n{help}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn infinite_loop_stops_at_the_operations_limit() {
    let c = cx().await;
    let started = Instant::now();
    let e = run_task(&c, json!({"source": "let i = 0;\nloop {\n  i += 1;\n}", "maxOperations": 100000}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("<inline>:3:"), "{e}");
    assert!(e.contains("script exceeded maxOperations=100000 (an endless loop?)"), "{e}");
    assert!(e.contains("  i += 1;"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wall_clock_timeout_stops_loops_and_sleeping_bindings() {
    let c = cx().await;
    let started = Instant::now();
    let e = run_task(&c, json!({"source": "loop { }", "maxOperations": 0, "timeout": "1s"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("script exceeded its timeout of 1s"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    // A binding blocked in a wait is cancelled too, and try/catch cannot swallow the stop.
    let started = Instant::now();
    let e = run_task(&c, json!({"source": "try { sleep(60); } catch { }\n42", "timeout": "1s"}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("<inline>:1:7: script exceeded its timeout of 1s"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_and_depth_limits_hold() {
    let c = cx().await;
    let e = eval_in(&c, "let s = \"x\";\nloop { s += s; }", &[]).await.unwrap_err();
    assert!(e.contains("t.rhai:2:") && e.contains("exceeds its size limit"), "{e}");
    let e = eval_in(&c, "fn f(n) { f(n + 1) }\nf(0)", &[]).await.unwrap_err();
    assert!(e.contains("call depth limit"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_errors_show_position_source_line_and_caret() {
    let c = cx().await;
    let e = eval_in(&c, "let x = 1;\nlet y = x + \"a\" * 2;", &[]).await.unwrap_err();
    assert!(
        e.starts_with("t.rhai:2:17: Function not found: * (&str | ImmutableString | String, i64)"),
        "{e}"
    );
    assert!(e.contains("\n 2 | let y = x + \"a\" * 2;\n   |                 ^"), "{e}");

    // An error inside a function points into the function and names it.
    let e = eval_in(&c, "fn check(n) {\n  if n > 1 { throw \"too big: \" + n; }\n}\ncheck(5);", &[])
        .await
        .unwrap_err();
    assert!(e.starts_with("t.rhai:2:14: too big: 5 (in function check)"), "{e}");
}

// ----------------------------------------------------------------------------- util bindings

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn util_bindings_compute_times_durations_and_json() {
    let v = eval(
        r#"
        log("hello from a test");
        warn("a warning from a test");
        let t0 = now();
        sleep(0.2);
        #{
            d: parse_duration("1h30m"),
            s: parse_duration("45"),
            fmt: format_duration(5400),
            t: parse_time("2024-01-02T03:04:05Z"),
            back: format_time(1704164645),
            age: age("2024-01-02T03:04:05Z") - (now() - 1704164645),
            age_map: age(#{created: format_time(now() - 120)}),
            json: to_json(#{a: [1, 2]}),
            parsed: parse_json("{\"k\": [true]}"),
            dry: dry_run(),
            task: task_name(),
            args: ARGS.x,
            slept: now() - t0 <= 1,
            left: remaining_seconds() > 200,
        }
        "#,
        &[("x", "y")],
    )
    .await;
    assert_eq!(v["d"], 5400);
    assert_eq!(v["s"], 45);
    assert_eq!(v["fmt"], "1h 30m");
    assert_eq!(v["t"], 1704164645);
    assert_eq!(v["back"], "2024-01-02T03:04:05Z");
    assert!(v["age"].as_i64().unwrap().abs() <= 1, "{v}");
    assert!((120..=122).contains(&v["age_map"].as_i64().unwrap()), "{v}");
    assert_eq!(v["json"], "{\"a\":[1,2]}");
    assert_eq!(v["parsed"], json!({"k": [true]}));
    assert_eq!(v["dry"], "none");
    assert_eq!(v["task"], "test-script");
    assert_eq!(v["args"], "y");
    assert_eq!(v["slept"], true);
    assert_eq!(v["left"], true);
    let e = eval_in(&cx().await, "parse_duration(\"soon\")", &[]).await.unwrap_err();
    assert!(e.starts_with("t.rhai:1:1: parse_duration: `soon` is not a duration"), "{e}");
}

// ----------------------------------------------------------------------------- configmaps

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_bindings_read_write_and_list() {
    let ns = TestNs::new("script-cm").await;
    create_configmap(&ns, "app", &[("mode", "blue"), ("old", "x")], &[("team", "a")]).await;
    create_configmap(&ns, "other", &[], &[("team", "b")]).await;
    let v = eval(
        r#"
        let ns = ARGS.ns;
        let before = get_configmap_value(ns, "app", "mode");
        let change = set_configmap_data(ns, "app", #{mode: "green", old: (), extra: 7});
        let created = set_configmap_value(ns, "fresh", "k", "v");
        #{
            before: before,
            missing_key: get_configmap_value(ns, "app", "nope"),
            missing_cm: get_configmap(ns, "nope"),
            change: change,
            created: created,
            same: set_configmap_value(ns, "fresh", "k", "v"),
            team_a: list_configmaps(ns, "team=a").map(|c| c.name),
            all: list_configmaps(ns).len(),
            got: get_configmap(ns, "app").data,
        }
        "#,
        &[("ns", &ns.name)],
    )
    .await;
    assert_eq!(v["before"], "blue");
    assert_eq!(v["missing_key"], Value::Null);
    assert_eq!(v["missing_cm"], Value::Null);
    assert_eq!(v["change"]["changedKeys"], json!(["extra", "mode", "old"]));
    assert_eq!(v["change"]["previous"], json!({"mode": "blue", "old": "x"}));
    assert_eq!(v["created"]["created"], true);
    assert_eq!(v["same"]["changedKeys"], json!([]));
    assert_eq!(v["team_a"], json!(["app"]));
    assert!(v["all"].as_i64().unwrap() >= 3, "{v}"); // plus kube-root-ca.crt
    assert_eq!(v["got"], json!({"mode": "green", "extra": "7"}));
    assert_eq!(
        cm_data(&ns, "app").await,
        [("extra", "7"), ("mode", "green")].map(|(k, v)| (k.into(), v.into())).into()
    );
    assert_eq!(cm_data(&ns, "fresh").await.get("k").map(String::as_str), Some("v"));
}

// ----------------------------------------------------------------------------- pods

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_bindings_list_get_label_annotate_delete() {
    let ns = TestNs::new("script-pods").await;
    ns.create_pods("web", 5, &[("app", "web")]).await.unwrap();
    ns.create_pods("db", 2, &[("app", "db")]).await.unwrap();
    ns.wait_pods_running("app=web", 5, TIMEOUT).await.unwrap();
    let v = eval(
        r#"
        let ns = ARGS.ns;
        let web = list_pods(ns, "app=web");
        let one = get_pod(ns, "db-0");
        #{
            count: web.len(),
            all: list_pods(ns).len(),
            running: list_pods(ns, "", "status.phase=Running").len(),
            first: web[0],
            missing: get_pod(ns, "nope"),
            one_phase: one.phase,
            label1: label_pod(ns, "db-0", #{tier: "data"}),
            label2: label_pod(ns, "db-0", #{tier: "data"}),
            unlabel: label_pod(ns, "db-1", #{app: ()}),
            annotate: annotate_pod(ns, "db-0", #{note: "hi"}),
            bulk: label_pods(web, #{team: "shop", app: "web"}),
            bulk_ann: annotate_pods(web, #{owner: "ops"}),
            del: delete_pod(ns, "db-1"),
            del_again: delete_pod(ns, "db-1"),
        }
        "#,
        &[("ns", &ns.name)],
    )
    .await;
    assert_eq!(v["count"], 5);
    assert_eq!(v["all"], 7);
    assert_eq!(v["running"].as_i64().unwrap(), 5.max(v["running"].as_i64().unwrap()).min(7));
    let first = &v["first"];
    assert_eq!(first["namespace"], ns.name.as_str());
    assert_eq!(first["phase"], "Running");
    assert_eq!(first["ready"], true);
    assert_eq!(first["restarts"], 0);
    assert!(first["node"].as_str().unwrap().starts_with("kwok-node-"), "{first}");
    assert_eq!(first["images"], json!([TEST_IMAGE]));
    assert!(!first["uid"].as_str().unwrap().is_empty());
    assert_eq!(v["missing"], Value::Null);
    assert_eq!(v["label1"], "changed");
    assert_eq!(v["label2"], "unchanged");
    assert_eq!(v["unlabel"], "changed");
    assert_eq!(v["annotate"], "changed");
    assert_eq!(v["bulk"]["matched"], 5);
    assert_eq!(v["bulk"]["changed"], 5);
    assert_eq!(v["bulk_ann"]["changed"], 5);
    assert_eq!(v["del"], "deleted");
    assert!(matches!(v["del_again"].as_str(), Some("alreadyGone") | Some("deleted")), "{v}");

    for i in 0..5 {
        let pod = ns.pods().get(&format!("web-{i}")).await.unwrap();
        assert_eq!(pod.metadata.labels.as_ref().unwrap().get("team").map(String::as_str), Some("shop"));
        assert_eq!(pod.metadata.annotations.as_ref().unwrap().get("owner").map(String::as_str), Some("ops"));
    }
    assert_eq!(labels_of(&ns, "db-0").await.get("tier").map(String::as_str), Some("data"));
    let db0 = ns.pods().get("db-0").await.unwrap();
    assert_eq!(db0.metadata.annotations.unwrap().get("note").map(String::as_str), Some("hi"));
    let db1 = ns.pods().get_opt("db-1").await.unwrap();
    assert!(db1.is_none_or(|p| p.metadata.deletion_timestamp.is_some()), "db-1 still there");

    // Bulk delete, and a cluster error names the operation and the object.
    let c = cx().await;
    let v = eval_in(&c, "delete_pods(list_pods(ARGS.ns, \"app=web\"))", &[("ns", &ns.name)]).await.unwrap();
    assert_eq!(v["deleted"], 5);
    let e =
        eval_in(&c, "\nlabel_pod(ARGS.ns, \"ghost\", #{a: \"b\"})", &[("ns", &ns.name)]).await.unwrap_err();
    assert!(e.starts_with(&format!("t.rhai:2:1: label pod {}/ghost: not found", ns.name)), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_metadata_listing_feeds_the_bulk_helpers() {
    let ns = TestNs::new("script-meta").await;
    ns.create_pods("m", 4, &[("app", "m")]).await.unwrap();
    ns.create_pods("other", 2, &[("app", "other")]).await.unwrap();
    let v = eval(
        r#"
        let m = list_pod_meta(ARGS.ns, "app=m");
        #{
            count: m.len(),
            all: list_pod_meta(ARGS.ns).len(),
            named: list_pod_meta(ARGS.ns, "", "metadata.name=m-1").map(|p| p.name),
            keys: m[0].keys(),
            app: m[0].labels.app,
            has_version: m[0].resourceVersion != "" && m[0].uid != "",
            first: label_pods(m, #{meta: "yes"}),
            again: label_pods(list_pod_meta(ARGS.ns, "app=m"), #{meta: "yes"}),
        }
        "#,
        &[("ns", &ns.name)],
    )
    .await;
    assert_eq!(v["count"], 4);
    assert_eq!(v["all"], 6);
    assert_eq!(v["named"], json!(["m-1"]));
    assert_eq!(v["keys"], json!(["annotations", "labels", "name", "namespace", "resourceVersion", "uid"]));
    assert_eq!(v["app"], "m");
    assert_eq!(v["has_version"], true);
    assert_eq!((v["first"]["changed"].clone(), v["first"]["matched"].clone()), (json!(4), json!(4)));
    assert_eq!((v["again"]["changed"].clone(), v["again"]["unchanged"].clone()), (json!(0), json!(4)));
    for i in 0..4 {
        assert_eq!(labels_of(&ns, &format!("m-{i}")).await.get("meta").map(String::as_str), Some("yes"));
    }
    for i in 0..2 {
        assert_eq!(labels_of(&ns, &format!("other-{i}")).await.get("meta"), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_logs_exec_and_wait_bindings() {
    let ns = TestNs::new("script-io").await;
    ns.create_pods("w", 2, &[("app", "w")]).await.unwrap();
    ns.wait_pods_running("app=w", 2, TIMEOUT).await.unwrap();
    ns.set_pod_logs("w-0", &["one", "two", "three"]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    ns.set_pod_exec("w-1", dir.path(), &[("GREETING", "hi")]).await.unwrap();
    let v = eval(
        r#"
        let ns = ARGS.ns;
        #{
            all: pod_logs(ns, "w-0"),
            tail: pod_logs(ns, "w-0", 2),
            ok: exec(ns, "w-1", ["sh", "-c", "echo $GREETING; echo oops >&2"]),
            bad: exec(ns, "w-1", ["sh", "-c", "exit 3"]),
            waited: wait_pods(ns, "app=w", "Ready", 30),
        }
        "#,
        &[("ns", &ns.name)],
    )
    .await;
    assert_eq!(v["all"], "one\ntwo\nthree\n");
    assert_eq!(v["tail"], "two\nthree\n");
    assert_eq!(v["ok"], json!({"stdout": "hi\n", "stderr": "oops\n", "exitCode": 0}));
    assert_eq!(v["bad"]["exitCode"], 3);
    assert_eq!(v["waited"]["pods"].as_array().unwrap().len(), 2);

    let e = eval_in(&cx().await, "wait_pods(ARGS.ns, \"app=w\", \"Succeeded\", 1)", &[("ns", &ns.name)])
        .await
        .unwrap_err();
    assert!(e.starts_with("t.rhai:1:1: ") && e.contains("timed out after 1s"), "{e}");
}

// ----------------------------------------------------------------------------- workloads

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workload_bindings_scale_set_image_restart_wait() {
    let ns = TestNs::new("script-wl").await;
    ns.create_deployment("web", 1, &[("tier", "front")]).await.unwrap();
    let v = eval(
        r#"
        let ns = ARGS.ns;
        let r = #{};
        r.list = list_deployments(ns).map(|d| d.name);
        r.by_sel = list_workloads("deploy", ns, "tier=front").len();
        r.none = list_deployments(ns, "tier=back").len();
        r.sts = list_statefulsets(ns).len();
        r.missing = get_deployment(ns, "nope");
        r.scaled = scale_deployment(ns, "web", 2);
        r.ready = wait_workload("deployment", ns, "web", "ready", 60).readyReplicas;
        r.image = set_image("deployment", ns, "web", "main", "registry.invalid/pearl/test:2");
        r.restart = restart_deployment(ns, "web");
        r.down = scale_down("deployment", ns, "web");
        r.after_down = get_deployment(ns, "web").replicas;
        r.up = scale_up("deployment", ns, "web");
        r.get = get_workload("deployment", ns, "web");
        r
        "#,
        &[("ns", &ns.name)],
    )
    .await;
    assert_eq!(v["list"], json!(["web"]));
    assert_eq!(v["by_sel"], 1);
    assert_eq!(v["none"], 0);
    assert_eq!(v["sts"], 0);
    assert_eq!(v["missing"], Value::Null);
    assert_eq!(v["scaled"]["previous"], 1);
    assert_eq!(v["scaled"]["replicas"], 2);
    assert_eq!(v["ready"], 2);
    assert_eq!(v["image"]["previous"], TEST_IMAGE);
    assert_eq!(v["restart"]["changed"], true);
    assert_eq!(v["down"]["previous"], 2);
    assert_eq!(v["after_down"], 0);
    assert_eq!(v["up"]["replicas"], 2);
    let d = ns.deployments().get("web").await.unwrap();
    assert_eq!(d.spec.as_ref().unwrap().replicas, Some(2));
    let tpl = d.spec.unwrap().template;
    assert_eq!(tpl.spec.unwrap().containers[0].image.as_deref(), Some("registry.invalid/pearl/test:2"));
    assert!(tpl.metadata.unwrap().annotations.unwrap().contains_key("kubectl.kubernetes.io/restartedAt"));

    let e = eval_in(&cx().await, "scale(\"daemonset\", ARGS.ns, \"web\", 1)", &[("ns", &ns.name)])
        .await
        .unwrap_err();
    assert!(e.contains("unknown workload kind `daemonset`"), "{e}");
}

// ----------------------------------------------------------------------------- namespaces

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespace_bindings_follow_protect_and_confirmation_rules() {
    let victim = TestNs::new("script-ns").await;
    let name = victim.name.clone();
    let sel = format!("{TEST_NS_LABEL}=true");
    let listed = eval(
        "#{ mine: list_namespaces(ARGS.sel).map(|n| n.name).contains(ARGS.ns), one: get_namespace(ARGS.ns), none: get_namespace(\"pearl-nope-x\"), all: list_namespaces().len() }",
        &[("sel", &sel), ("ns", &name)],
    )
    .await;
    assert_eq!(listed["mine"], true);
    assert_eq!(listed["one"]["phase"], "Active");
    assert_eq!(listed["none"], Value::Null);
    assert!(listed["all"].as_i64().unwrap() >= 4);

    // Without --yes and without a terminal: refused, nothing deleted.
    let no_tty = cx_with(DryRun::None, Safety::default()).await;
    let e = eval_in(&no_tty, "delete_namespace(ARGS.ns)", &[("ns", &name)]).await.unwrap_err();
    assert!(e.contains("pass --yes to confirm"), "{e}");
    // Protected: refused even with --yes.
    let protect = Safety { yes: true, protect: vec!["script-ns-*".into()], ..Safety::default() };
    let protected = cx_with(DryRun::None, protect).await;
    let e = eval_in(&protected, "delete_namespace(ARGS.ns)", &[("ns", &name)]).await.unwrap_err();
    assert!(e.contains("matches --protect pattern `script-ns-*`"), "{e}");
    assert_eq!(eval_in(&protected, "is_protected(ARGS.ns)", &[("ns", &name)]).await.unwrap(), true);
    let nss: Api<Namespace> = Api::all(client().await);
    assert!(nss.get(&name).await.unwrap().metadata.deletion_timestamp.is_none());

    let yes = cx_with(DryRun::None, Safety { yes: true, ..Safety::default() }).await;
    let v = eval_in(
        &yes,
        "let d = delete_namespace(ARGS.ns);\nwait_namespace_deleted(ARGS.ns, 60);\nd",
        &[("ns", &name)],
    )
    .await
    .unwrap();
    assert_eq!(v["sent"], true);
    assert!(nss.get_opt(&name).await.unwrap().is_none());
}

// ----------------------------------------------------------------------------- webhook

async fn one_shot_http_server() -> (String, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = sock.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len || n == 0 {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok").await.unwrap();
        String::from_utf8_lossy(&buf).to_string()
    });
    (url, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_binding_posts_json() {
    let (url, server) = one_shot_http_server().await;
    let v = eval("webhook_post(ARGS.url, #{event: \"done\", n: 3}, #{\"X-Run\": \"abc\"})", &[("url", &url)])
        .await;
    assert_eq!(v, json!({"status": 200, "body": "ok"}));
    let request = server.await.unwrap();
    assert!(request.starts_with("POST /hook HTTP/1.1"), "{request}");
    assert!(request.to_ascii_lowercase().contains("x-run: abc"), "{request}");
    let body = request.split("\r\n\r\n").nth(1).unwrap();
    assert_eq!(serde_json::from_str::<Value>(body).unwrap(), json!({"event": "done", "n": 3}));
}

// ----------------------------------------------------------------------------- tasks, parallel

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_task_and_parallel_share_the_pool() {
    let ns = TestNs::new("script-tasks").await;
    ns.create_pods("p", 6, &[("app", "p")]).await.unwrap();
    let v = eval(
        r#"
        let r = run_task(#{type: "label-pods", namespace: ARGS.ns, parameters: #{selector: "app=p", labels: #{via: "task"}}});
        let doubled = parallel([1, 2, 3, 4], |x| x * 2);
        let names = parallel(list_pods(ARGS.ns, "app=p"), |p| { label_pod(p.namespace, p.name, #{via2: "parallel"}); p.name });
        #{ok: r.ok, changed: r.changed, doubled: doubled, names: names.len()}
        "#,
        &[("ns", &ns.name)],
    )
    .await;
    assert_eq!(v, json!({"ok": true, "changed": 6, "doubled": [2, 4, 6, 8], "names": 6}));
    for i in 0..6 {
        let l = labels_of(&ns, &format!("p-{i}")).await;
        assert_eq!(l.get("via").map(String::as_str), Some("task"));
        assert_eq!(l.get("via2").map(String::as_str), Some("parallel"));
    }
    let c = cx().await;
    let e = eval_in(&c, "run_task(#{type: \"lable-pods\"})", &[]).await.unwrap_err();
    assert!(e.contains("unknown task type `lable-pods` (did you mean `label-pods`?)"), "{e}");
    let e = eval_in(&c, "parallel([1, 2], |x| {\n  if x == 2 { throw \"bad item\"; }\n  x\n})", &[])
        .await
        .unwrap_err();
    assert!(e.starts_with("t.rhai:2:15: bad item (in function parallel (item 1))"), "{e}");
}

// ----------------------------------------------------------------------------- dry-run

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_through_bindings_changes_nothing() {
    let ns = TestNs::new("script-dry").await;
    ns.create_pods("d", 3, &[("app", "d")]).await.unwrap();
    ns.create_deployment("web", 1, &[]).await.unwrap();
    create_configmap(&ns, "cfg", &[("k", "old")], &[]).await;
    for mode in [DryRun::Client, DryRun::Server] {
        let c = cx_with(mode, Safety { yes: true, ..Safety::default() }).await;
        let v = eval_in(
            &c,
            r#"
            let ns = ARGS.ns;
            #{
                mode: dry_run(),
                label: label_pods(list_pods(ns, "app=d"), #{dry: "yes"}),
                one: label_pod(ns, "d-0", #{dry: "yes"}),
                cm: set_configmap_value(ns, "cfg", "k", "new"),
                new_cm: set_configmap_value(ns, "nope", "k", "v"),
                scale: scale_deployment(ns, "web", 5),
                del: delete_pod(ns, "d-1"),
                dels: delete_pods(list_pods(ns, "app=d")),
            }
            "#,
            &[("ns", &ns.name)],
        )
        .await
        .unwrap();
        assert_eq!(v["label"]["wouldChange"], 3, "{mode:?}: {v}");
        assert_eq!(v["one"], "wouldChange");
        assert_eq!(v["scale"]["changed"], true);
        assert_eq!(v["del"], "wouldDelete");
        assert_eq!(v["dels"]["wouldDelete"], 3);
    }
    for i in 0..3 {
        let pod = ns.pods().get(&format!("d-{i}")).await.unwrap();
        assert!(pod.metadata.deletion_timestamp.is_none());
        assert!(!pod.metadata.labels.unwrap().contains_key("dry"));
    }
    assert_eq!(cm_data(&ns, "cfg").await.get("k").map(String::as_str), Some("old"));
    assert!(ns.api::<ConfigMap>().get_opt("nope").await.unwrap().is_none());
    assert_eq!(ns.deployments().get("web").await.unwrap().spec.unwrap().replicas, Some(1));
}

// ----------------------------------------------------------------------------- examples

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_label_pods_by_node() {
    let ns = TestNs::new("ex-node").await;
    ns.create_pods("p", 6, &[("app", "p")]).await.unwrap();
    let pods = ns.wait_pods_running("app=p", 6, TIMEOUT).await.unwrap();
    let v = run_example("label-pods-by-node.rhai", &[("namespace", &ns.name)]).await;
    let total: i64 = v.as_object().unwrap().values().map(|n| n.as_i64().unwrap()).sum();
    assert_eq!(total, 6, "{v}");
    for p in pods {
        let name = p.metadata.name.unwrap();
        let node = ns.pods().get(&name).await.unwrap().spec.unwrap().node_name.unwrap();
        assert_eq!(labels_of(&ns, &name).await.get("pearl.dev/node"), Some(&node));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_delete_completed_pods() {
    let ns = TestNs::new("ex-done").await;
    ns.create_pod_with_outcome("ok-0", &[], &Outcome::Succeed).await.unwrap();
    ns.create_pod_with_outcome("bad-0", &[], &Outcome::Fail(2)).await.unwrap();
    ns.create_pod("live-0", &[], &[]).await.unwrap();
    ns.wait_pod("ok-0", pod_in_phase(&["Succeeded"]), TIMEOUT).await.unwrap();
    ns.wait_pod("bad-0", pod_in_phase(&["Failed"]), TIMEOUT).await.unwrap();
    // Nothing completed an hour ago: nothing goes.
    let v = run_example("delete-completed-pods.rhai", &[("namespace", &ns.name), ("olderThan", "1h")]).await;
    assert_eq!(v, json!([]));
    let v = run_example("delete-completed-pods.rhai", &[("namespace", &ns.name), ("olderThan", "0s")]).await;
    let mut got: Vec<String> =
        v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect();
    got.sort();
    assert_eq!(got, vec![format!("{}/bad-0", ns.name), format!("{}/ok-0", ns.name)]);
    for name in ["ok-0", "bad-0"] {
        let gone = ns.pods().get_opt(name).await.unwrap();
        if let Some(p) = gone {
            let uid = p.metadata.uid.clone().unwrap();
            wait_for(&ns.pods(), name, conditions::is_deleted(&uid), TIMEOUT).await.unwrap();
        }
    }
    assert!(ns.pods().get_opt("live-0").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_report_foreign_images() {
    let ns = TestNs::new("ex-img").await;
    ns.create_pod("ours", &[], &[]).await.unwrap();
    let mut foreign: Pod = pod_object("theirs", &[], &[]);
    foreign.spec.as_mut().unwrap().containers[0].image = Some("docker.io/library/nginx:1.27".into());
    ns.pods().create(&PostParams::default(), &foreign).await.unwrap();
    let v = run_example(
        "report-foreign-images.rhai",
        &[("namespace", &ns.name), ("allowed", "registry.invalid/, ghcr.io/corp/")],
    )
    .await;
    assert_eq!(
        v,
        json!([{"namespace": ns.name, "pod": "theirs", "container": "main", "image": "docker.io/library/nginx:1.27"}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_restart_crashlooping() {
    let ns = TestNs::new("ex-crash").await;
    let mut crashy: Deployment = deployment_object("crashy", 2, &[]);
    let tpl_meta = crashy.spec.as_mut().unwrap().template.metadata.as_mut().unwrap();
    tpl_meta.annotations = Some(
        Outcome::CrashLoop { restarts: 2, exit_code: 1 }
            .annotations()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    );
    ns.deployments().create(&PostParams::default(), &crashy).await.unwrap();
    ns.create_deployment("fine", 1, &[]).await.unwrap();
    wait_matching(&ns.pods(), "app=crashy", 2, TIMEOUT, |p: &Pod| {
        p.status.as_ref().and_then(|s| s.container_statuses.as_ref()).is_some_and(|cs| {
            cs.iter().any(|c| {
                c.state.as_ref().and_then(|s| s.waiting.as_ref()).and_then(|w| w.reason.as_deref())
                    == Some("CrashLoopBackOff")
            })
        })
    })
    .await
    .unwrap();
    ns.wait_pods_running("app=fine", 1, TIMEOUT).await.unwrap();
    let v = run_example("restart-crashlooping.rhai", &[("namespace", &ns.name)]).await;
    assert_eq!(v, json!([format!("{}/crashy", ns.name)]));
    let restarted = |d: Deployment| {
        d.spec
            .unwrap()
            .template
            .metadata
            .unwrap()
            .annotations
            .unwrap_or_default()
            .contains_key("kubectl.kubernetes.io/restartedAt")
    };
    assert!(restarted(ns.deployments().get("crashy").await.unwrap()));
    assert!(!restarted(ns.deployments().get("fine").await.unwrap()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_scale_down_idle_namespaces() {
    let idle = TestNs::new("ex-idle").await;
    let busy = TestNs::new("ex-busy").await;
    let run = unique_name("run");
    let nss: Api<Namespace> = Api::all(client().await);
    let two_hours_ago = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(2)).to_string();
    let now = jiff::Timestamp::now().to_string();
    for (ns, at) in [(&idle, &two_hours_ago), (&busy, &now)] {
        let patch = json!({"metadata": {"labels": {"pearl.test/idle-run": run}, "annotations": {"pearl.dev/last-activity": at}}});
        nss.patch(&ns.name, &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
        ns.create_deployment("web", 2, &[]).await.unwrap();
    }
    let v = run_example(
        "scale-down-idle-namespaces.rhai",
        &[("selector", &format!("pearl.test/idle-run={run}")), ("idleFor", "1h")],
    )
    .await;
    let report = v.as_array().unwrap();
    assert_eq!(report.len(), 1, "{v}");
    assert_eq!(report[0]["namespace"], idle.name.as_str());
    assert_eq!(report[0]["scaled"], json!(["deployment/web"]));
    let d = idle.deployments().get("web").await.unwrap();
    assert_eq!(d.spec.unwrap().replicas, Some(0));
    assert_eq!(
        d.metadata.annotations.unwrap().get("pearl.dev/scaled-down-replicas").map(String::as_str),
        Some("2")
    );
    assert_eq!(busy.deployments().get("web").await.unwrap().spec.unwrap().replicas, Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_rotate_configmap_value() {
    let ns = TestNs::new("ex-rot").await;
    create_configmap(&ns, "creds", &[("token", "old-token")], &[]).await;
    let args =
        [("namespace", ns.name.as_str()), ("configmap", "creds"), ("key", "token"), ("value", "new-token")];
    let v = run_example("rotate-configmap-value.rhai", &args).await;
    assert_eq!(v, json!({"rotated": true, "previous": "old-token"}));
    let data = cm_data(&ns, "creds").await;
    assert_eq!(data.get("token").map(String::as_str), Some("new-token"));
    assert_eq!(data.get("token.previous").map(String::as_str), Some("old-token"));
    let at: jiff::Timestamp = data.get("token.rotatedAt").unwrap().parse().unwrap();
    assert!((jiff::Timestamp::now() - at).get_seconds().abs() < 60);
    // Again with the same value: nothing to do.
    let v = run_example("rotate-configmap-value.rhai", &args).await;
    assert_eq!(v, json!({"rotated": false, "previous": "new-token"}));
    // A missing ConfigMap is created.
    let args = [("namespace", ns.name.as_str()), ("configmap", "fresh"), ("key", "k"), ("value", "v1")];
    run_example("rotate-configmap-value.rhai", &args).await;
    assert_eq!(cm_data(&ns, "fresh").await.get("k").map(String::as_str), Some("v1"));
}
