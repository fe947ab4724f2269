//! `kubectl pearl run/validate/explain/eval` end to end: the real binary against the real control
//! plane, asserting what the user sees (exit code, report) and what the cluster then holds.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::TestNs;
use k8s_openapi::api::core::v1::Pod;
use kube::api::ListParams;
use serde_json::Value;

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("kubectl-pearl runs");
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn write_file(dir: &tempfile::TempDir, name: &str, body: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, body).unwrap();
    path.display().to_string()
}

async fn labels_of(ns: &TestNs, key: &str) -> Vec<(String, Option<String>)> {
    let pods = ns.pods().list(&ListParams::default()).await.unwrap();
    let mut out: Vec<(String, Option<String>)> = pods
        .items
        .iter()
        .map(|p: &Pod| {
            let name = p.metadata.name.clone().unwrap();
            let v = p.metadata.labels.as_ref().and_then(|l| l.get(key).cloned());
            (name, v)
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn the_seeds_json_file_runs_and_the_report_says_what_happened() {
    let ns = TestNs::new("cli-seed").await;
    ns.create_pods("web", 3, &[("app", "nginx")]).await.unwrap();
    ns.create_pods("db", 2, &[("app", "db")]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The seed's own field names: shipsNamespace, CrewWriteLabelPods, labelKey/labelValue, podName.
    let file = write_file(
        &dir,
        "tasks.json",
        &format!(
            r#"[
    {{
        "name": "list-specific-pods",
        "shipsNamespace": "{ns}",
        "type": "CrewGetPodsTaskRunner",
        "parameters": {{ "labelSelector": "app=nginx", "limit": 10 }}
    }},
	{{
        "name": "label-web-pods",
        "shipsNamespace": "{ns}",
        "type": "CrewWriteLabelPods",
        "parameters": {{ "labelSelector": "app=nginx", "labelKey": "environment", "labelValue": "production" }}
    }},
    {{
        "name": "update-specific-pod",
        "shipsNamespace": "{ns}",
        "type": "CrewWriteLabelPods",
        "parameters": {{ "podName": "db-0", "labelKey": "environment", "labelValue": "staging" }}
    }}
]"#,
            ns = ns.name
        ),
    );
    let out = run_ok(common::pearl().args(["run", &file]));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("NAME"), "{stdout}");
    for name in ["list-specific-pods", "label-web-pods", "update-specific-pod"] {
        let row =
            lines.iter().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no row {name}:\n{stdout}"));
        assert!(row.contains("Succeeded"), "{row}");
    }
    assert!(stdout.contains("3 tasks: 3 succeeded"), "{stdout}");
    // No progress bar when stderr is not a terminal.
    assert!(!text(&out.stderr).contains("tasks  "), "{}", text(&out.stderr));
    assert_eq!(
        labels_of(&ns, "environment").await,
        vec![
            ("db-0".into(), Some("staging".into())),
            ("db-1".into(), None),
            ("web-0".into(), Some("production".into())),
            ("web-1".into(), Some("production".into())),
            ("web-2".into(), Some("production".into())),
        ]
    );
}

#[tokio::test]
async fn json_and_yaml_reports_carry_every_task_with_counts() {
    let ns = TestNs::new("cli-json").await;
    ns.create_pods("p", 4, &[("app", "x")]).await.unwrap();
    // Settled pods: kwok no longer writes their status, so no conflict makes a second attempt.
    ns.wait_pods_running("app=x", 4, Duration::from_secs(60)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        &dir,
        "t.yaml",
        "tasks:\n  - name: tag\n    type: label-pods\n    parameters:\n      selector: app=x\n      labels: {team: blue}\n",
    );
    let out = run_ok(common::pearl().args(["run", "-n", &ns.name, "-o", "json", &file]));
    let report: Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    let task = &report["tasks"][0];
    assert_eq!(task["name"], "tag");
    assert_eq!(task["type"], "label-pods");
    assert_eq!(task["status"], "Succeeded");
    assert_eq!(task["matched"], 4);
    assert_eq!(task["changed"], 4);
    assert_eq!(task["attempts"], 1);
    assert_eq!(task["namespaces"]["names"][0], ns.name.as_str());
    assert_eq!(report["interrupted"], false);

    // Again: nothing to change, and YAML output.
    let out = run_ok(common::pearl().args(["run", "-n", &ns.name, "-o", "yaml", &file]));
    let yaml = text(&out.stdout);
    assert!(yaml.contains("status: Succeeded"), "{yaml}");
    assert!(yaml.contains("changed: 0"), "{yaml}");
}

#[tokio::test]
async fn an_invalid_file_changes_nothing_and_every_error_is_located() {
    let ns = TestNs::new("cli-invalid").await;
    ns.create_pods("p", 2, &[("app", "x")]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = write_file(
        &dir,
        "good.yaml",
        &format!(
            "- name: tag\n  type: label-pods\n  namespace: {}\n  parameters:\n    selector: app=x\n    labels: {{team: red}}\n",
            ns.name
        ),
    );
    let bad = write_file(
        &dir,
        "bad.yaml",
        "- name: tag2\n  type: lable-pods\n  parameters: {}\n- name: tag3\n  type: label-pods\n  parameters:\n    selector: app=x\n    lables: {a: b}\n  dependsOn: [tagg]\n",
    );
    let out = common::pearl().args(["run", &good, &bad]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains(&format!("{bad}:2:9: unknown task type `lable-pods`")), "{err}");
    assert!(err.contains("did you mean `label-pods`?"), "{err}");
    assert!(err.contains(&format!("{bad}:8:5: unknown parameter `lables`")), "{err}");
    assert!(err.contains("did you mean `labels`?"), "{err}");
    assert!(err.contains(&format!("{bad}:9:15: `dependsOn` names an unknown task `tagg`")), "{err}");
    assert!(err.contains("nothing was sent to the cluster"), "{err}");
    assert!(out.stdout.is_empty());
    // The good file's task did not run either.
    assert_eq!(labels_of(&ns, "team").await, vec![("p-0".into(), None), ("p-1".into(), None)]);

    // `validate` says the same without a cluster at all.
    let out = Command::new(common::pearl_bin())
        .env("KUBECONFIG", "/nonexistent")
        .args(["validate", &good, &bad])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown task type `lable-pods`"));
    let out = Command::new(common::pearl_bin())
        .env("KUBECONFIG", "/nonexistent")
        .args(["validate", &good])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).ends_with("1 task in 1 file: valid\n"), "{}", text(&out.stdout));
}

#[tokio::test]
async fn a_failed_dependency_skips_its_dependents_and_the_exit_code_is_1() {
    let ns = TestNs::new("cli-deps").await;
    ns.create_pods("p", 2, &[("app", "x")]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        &dir,
        "deps.yaml",
        "namespace: NS\ntasks:\n  - name: first\n    type: label-pods\n    parameters: {name: no-such-pod, labels: {a: b}}\n  - name: second\n    type: label-pods\n    dependsOn: first\n    parameters: {selector: app=x, labels: {after: first}}\n  - name: independent\n    type: label-pods\n    parameters: {selector: app=x, labels: {alone: yes-it-ran}}\n"
            .replace("NS", &ns.name)
            .as_str(),
    );
    let out = common::pearl().args(["run", &file]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}{}", text(&out.stdout), text(&out.stderr));
    let stdout = text(&out.stdout);
    let row = |name: &str| stdout.lines().find(|l| l.starts_with(name)).unwrap().to_string();
    assert!(row("first ").contains("Failed"), "{stdout}");
    assert!(row("second").contains("Skipped"), "{stdout}");
    assert!(row("second").contains("`first` did not succeed"), "{stdout}");
    assert!(row("independent").contains("Succeeded"), "{stdout}");
    assert!(stdout.contains("no-such-pod"), "the failure is spelled out: {stdout}");
    assert_eq!(labels_of(&ns, "after").await, vec![("p-0".into(), None), ("p-1".into(), None)]);
    assert_eq!(
        labels_of(&ns, "alone").await,
        vec![("p-0".into(), Some("yes-it-ran".into())), ("p-1".into(), Some("yes-it-ran".into()))]
    );
}

#[tokio::test]
async fn stdin_and_multi_document_yaml() {
    let ns = TestNs::new("cli-stdin").await;
    ns.create_pods("p", 1, &[("app", "x")]).await.unwrap();
    let body = format!(
        "name: one\ntype: label-pods\nnamespace: {ns}\nparameters: {{selector: app=x, labels: {{one: \"1\"}}}}\n---\nname: two\ntype: annotate-pods\nnamespace: {ns}\nparameters: {{selector: app=x, annotations: {{two: \"2\"}}}}\n",
        ns = ns.name
    );
    let mut child = common::pearl()
        .args(["run", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    let pod = ns.pods().get("p-0").await.unwrap();
    assert_eq!(pod.metadata.labels.unwrap().get("one").map(String::as_str), Some("1"));
    assert_eq!(pod.metadata.annotations.unwrap().get("two").map(String::as_str), Some("2"));
}

#[tokio::test]
async fn kubeconfig_lists_of_files_context_and_impersonation_flags() {
    let ns = TestNs::new("cli-kcfg").await;
    ns.create_pods("p", 1, &[("app", "x")]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A first file that only adds an unrelated context: the real one's current-context still wins.
    let extra = write_file(
        &dir,
        "extra.yaml",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: nowhere\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: nobody\n  user: {token: x}\ncontexts:\n- name: nowhere\n  context: {cluster: nowhere, user: nobody}\n",
    );
    let task = write_file(
        &dir,
        "t.yaml",
        "- {name: t, type: label-pods, parameters: {selector: app=x, labels: {via: list}}}\n",
    );
    let joined = std::env::join_paths([std::path::PathBuf::from(&extra), common::kubeconfig_path()]).unwrap();
    let out = Command::new(common::pearl_bin())
        .env("KUBECONFIG", &joined)
        .args(["run", "-n", &ns.name, &task])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(labels_of(&ns, "via").await, vec![("p-0".into(), Some("list".into()))]);

    // --context picks the unreachable one from the merged files: the error says so, exit 1.
    let out = Command::new(common::pearl_bin())
        .env("KUBECONFIG", &joined)
        .args(["run", "-n", &ns.name, "--context", "nowhere", "--attempts", "1", &task])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("Failed"), "{}", text(&out.stdout));

    // --as impersonates: the admin may impersonate, and a user with no rights is refused (403).
    let out = common::pearl()
        .args(["run", "-n", &ns.name, "--as", "nobody@example.com", "-o", "json", &task])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = report["tasks"][0]["error"].as_str().unwrap();
    assert!(error.contains("403") && error.contains("nobody@example.com"), "{error}");
    assert_eq!(report["tasks"][0]["attempts"], 1, "403 is never retried");
}

#[tokio::test]
async fn the_restricted_user_is_refused_and_not_retried() {
    let ns = TestNs::new("cli-rbac").await;
    ns.create_pods("p", 1, &[("app", "x")]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let task = write_file(
        &dir,
        "t.yaml",
        "- {name: t, type: label-pods, parameters: {selector: app=x, labels: {a: b}}}\n",
    );
    let out = Command::new(common::pearl_bin())
        .env("KUBECONFIG", common::restricted_kubeconfig_path())
        .args(["run", "-n", &ns.name, "-o", "json", &task])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["tasks"][0]["status"], "Failed");
    assert!(report["tasks"][0]["error"].as_str().unwrap().contains("Forbidden"), "{report}");
    assert_eq!(report["pool"]["retries"], 0);
}

#[tokio::test]
async fn dry_run_server_and_client_change_nothing() {
    let ns = TestNs::new("cli-dry").await;
    ns.create_pods("p", 2, &[("app", "x")]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let task = write_file(
        &dir,
        "t.yaml",
        "- {name: t, type: label-pods, parameters: {selector: app=x, labels: {dry: run}}}\n",
    );
    for mode in ["--dry-run=server", "--dry-run=client", "--dry-run"] {
        let out = run_ok(common::pearl().args(["run", "-n", &ns.name, mode, &task]));
        let stdout = text(&out.stdout);
        assert!(stdout.contains("dry run"), "{mode}: {stdout}");
        assert!(stdout.lines().any(|l| l.starts_with("t ") && l.contains("Succeeded")), "{stdout}");
        assert_eq!(labels_of(&ns, "dry").await, vec![("p-0".into(), None), ("p-1".into(), None)], "{mode}");
    }
}

#[tokio::test]
async fn ctrl_c_stops_the_run_reports_it_and_exits_130() {
    let ns = TestNs::new("cli-sigint").await;
    ns.create_pods("p", 1, &[("app", "x")]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A wait that cannot finish (no pod has this label), and a task that waits on it.
    let file = write_file(
        &dir,
        "t.yaml",
        "- {name: waits, type: wait-pods, parameters: {selector: app=never, for: Ready, timeout: 10m}}\n- {name: after, type: label-pods, dependsOn: waits, parameters: {selector: app=x, labels: {a: b}}}\n",
    );
    let child = common::pearl()
        .args(["run", "-n", &ns.name, "-o", "json", &file])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}{}", text(&out.stdout), text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("a report is printed after Ctrl-C");
    assert_eq!(report["interrupted"], true);
    assert_eq!(report["tasks"][0]["status"], "Cancelled", "{report}");
    assert_eq!(report["tasks"][1]["status"], "NotStarted", "{report}");
    assert!(text(&out.stderr).contains("stopping"), "{}", text(&out.stderr));
    assert_eq!(labels_of(&ns, "a").await, vec![("p-0".into(), None)]);
}

#[tokio::test]
async fn kubectl_finds_the_plugin_on_path() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(common::pearl_bin(), dir.path().join("kubectl-pearl")).unwrap();
    // Only this directory on PATH: another kubectl-pearl installed on the machine would shadow
    // it (and `kubectl plugin list` exits 1 on such warnings).
    let path = dir.path().to_path_buf();
    // kubectl allows no flag before a plugin's name: the kubeconfig comes from the environment.
    let kubectl = || {
        let mut c = Command::new(common::kubectl_bin());
        c.env("PATH", &path).env("KUBECONFIG", common::kubeconfig_path());
        c
    };
    let out = run_ok(kubectl().args(["pearl", "version"]));
    let line = text(&out.stdout);
    assert!(line.starts_with(&format!("kubectl-pearl v{} (commit ", env!("CARGO_PKG_VERSION"))), "{line}");
    let out = run_ok(kubectl().args(["pearl", "explain", "label-pods"]));
    let help = text(&out.stdout);
    assert!(help.contains("TYPE:      label-pods"), "{help}");
    assert!(help.contains("CrewWriteLabelPods"), "{help}");
    let out = run_ok(kubectl().args(["plugin", "list"]));
    assert!(text(&out.stdout).contains("kubectl-pearl"), "{}", text(&out.stdout));
}

#[tokio::test]
async fn scripts_and_task_files_share_one_run_and_eval_prints_the_value() {
    let ns = TestNs::new("cli-script").await;
    ns.create_pods("p", 3, &[("app", "x")]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tasks = write_file(
        &dir,
        "t.yaml",
        "- {name: from-file, type: label-pods, parameters: {selector: app=x, labels: {file: \"yes\"}}}\n",
    );
    let script = write_file(
        &dir,
        "tag.rhai",
        "let pods = list_pods(ARGS.ns, \"app=x\");\nlabel_pods(pods, #{ script: ARGS.value });\npods.len()\n",
    );
    let out = run_ok(
        common::pearl()
            .args(["run", "-n", &ns.name, "--arg", &format!("ns={}", ns.name)])
            .args(["--arg", "value=ok", "-o", "json", &tasks, &script]),
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["tasks"][1]["name"], "tag");
    assert_eq!(report["tasks"][1]["type"], "script");
    assert_eq!(report["tasks"][1]["status"], "Succeeded");
    assert_eq!(report["tasks"][1]["items"][0], 3, "the script's value: {report}");
    let expect = |v: &str| (0..3).map(|i| (format!("p-{i}"), Some(v.to_string()))).collect::<Vec<_>>();
    assert_eq!(labels_of(&ns, "file").await, expect("yes"));
    assert_eq!(labels_of(&ns, "script").await, expect("ok"));

    let out = run_ok(common::pearl().args([
        "eval",
        "--arg",
        &format!("ns={}", ns.name),
        "list_pods(ARGS.ns, \"app=x\").map(|p| p.labels.script)",
    ]));
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value, serde_json::json!(["ok", "ok", "ok"]));

    // A runtime error names the script position; exit 1.
    let out =
        common::pearl().args(["eval", "let a = 1;\nget_pod(\"no-such-ns\", \"x\").name"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("<eval>:2:"), "{err}");
}

/// A one-request HTTP server on 127.0.0.1: returns the URL and a handle yielding the body it got.
fn one_request_server() -> (String, std::thread::JoinHandle<String>) {
    use std::io::{BufRead, BufReader, Read};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").unwrap();
        String::from_utf8(body).unwrap()
    });
    (url, handle)
}

#[tokio::test]
async fn a_webhook_after_a_task_reports_the_objects_it_acted_on() {
    let ns = TestNs::new("cli-hook").await;
    ns.create_pods("p", 2, &[("app", "x")]).await.unwrap();
    let (url, server) = one_request_server();
    let dir = tempfile::tempdir().unwrap();
    let file = write_file(
        &dir,
        "t.yaml",
        &format!(
            "- {{name: tag, type: label-pods, parameters: {{selector: app=x, labels: {{hooked: \"yes\"}}}}}}\n- {{name: tell, type: webhook, dependsOn: tag, parameters: {{url: \"{url}\", body: {{event: labelled}}}}}}\n"
        ),
    );
    run_ok(common::pearl().args(["run", "-n", &ns.name, &file]));
    let body: Value = serde_json::from_str(&server.join().unwrap()).unwrap();
    assert_eq!(body["task"], "tell");
    assert_eq!(body["event"], "labelled");
    assert_eq!(body["upstream"][0]["name"], "tag");
    assert_eq!(body["upstream"][0]["status"], "Succeeded");
    assert_eq!(body["upstream"][0]["changed"], 2);
    let mut names: Vec<&str> = body["upstream"][0]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, vec!["p-0", "p-1"], "{body}");
}
