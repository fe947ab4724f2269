//! Syntax errors in malformed scripts report the right line and column, with the source line
//! and a caret, found at validation time (`check`) before anything runs; and the bindings
//! reference is generated from the registration. No cluster needed.

use pearl::script::{ScriptErrorKind, binding_docs, bindings_help, compile};
use pearl::tasks::{Params, registry};

/// (name, source, line, column, message fragment)
const CASES: &[(&str, &str, usize, usize, &str)] = &[
    ("unclosed paren", "let x = 1;\nlet y = (x + 2;\n", 2, 15, "Expecting ')'"),
    ("unclosed array", "let a = [1, 2, 3;\n", 1, 17, "Expecting ','"),
    ("let without name", "let x = 1;\nlet = 5;\n", 2, 5, "Expecting name of a variable"),
    (
        "unterminated string",
        "log(\"ok\");\nlet s = \"unterminated;\nlet t = 1;\n",
        2,
        9,
        "Open string is not terminated",
    ),
    ("map missing value", "let m = #{a: 1, b: };\n", 1, 20, "Unexpected '}'"),
    ("two operators", "let x = 1;\nlet y = 2;\nx = 1 +* 2;\n", 3, 8, "Unexpected '*'"),
    ("for without variable", "let n = 0;\nfor in [1, 2] { n += 1; }\n", 2, 5, "Expecting name of a variable"),
    ("reserved ++", "let x = 1;\n\n    let y = x ++ 2;\n", 3, 15, "Unknown operator: '++'"),
    ("eval disabled", "let a = 1;\nlet b = eval(\"a + 1\");\n", 2, 9, "reserved keyword 'eval' is disabled"),
    ("else without if", "let x = 1;\n  else { 2 }\n", 2, 3, "Unexpected 'else'"),
];

#[test]
fn ten_malformed_scripts_report_line_and_column() {
    assert!(CASES.len() >= 10);
    for (name, src, line, col, fragment) in CASES {
        let e = compile(src, "bad.rhai").expect_err(name);
        assert_eq!(e.kind, ScriptErrorKind::Syntax, "{name}");
        assert_eq!((e.line, e.column), (Some(*line), Some(*col)), "{name}: {e}");
        let text = e.to_string();
        let head = format!("bad.rhai:{line}:{col}: syntax error: ");
        assert!(text.starts_with(&head), "{name}: {text}");
        assert!(text.contains(fragment), "{name}: {text}");
        // The excerpt: the offending line, then a caret under the column.
        let lines: Vec<&str> = text.lines().collect();
        let source_line = src.lines().nth(line - 1).unwrap();
        assert_eq!(lines[1], format!(" {line} | {source_line}"), "{name}");
        let caret_at = lines[2].find('^').unwrap();
        let bar_at = lines[2].find('|').unwrap();
        assert_eq!(caret_at - bar_at - 2, col - 1, "{name}: caret misplaced:\n{text}");
    }
}

#[test]
fn task_check_reports_syntax_errors_before_anything_runs() {
    let t = registry().get("script").unwrap();
    let v = serde_json::json!({"source": "let ok = 1;\nlet = 2;", "origin": "jobs/fix.rhai"});
    let p = Params::from_json(t.params(), v.as_object().unwrap()).unwrap();
    let msg = t.check(&p).unwrap_err();
    assert!(msg.starts_with("jobs/fix.rhai:2:5: syntax error: Expecting name of a variable"), "{msg}");
    assert!(registry().get("script").unwrap().mutating());
}

#[test]
fn every_example_script_compiles() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rhai") {
            let src = std::fs::read_to_string(&path).unwrap();
            compile(&src, &path.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n >= 6, "only {n} example scripts");
}

#[test]
fn bindings_help_is_generated_from_the_registration() {
    let docs = binding_docs();
    let sig =
        |s: &str| docs.iter().find(|d| d.signature == s).unwrap_or_else(|| panic!("no `{s}` in {docs:#?}"));
    assert_eq!(sig("label_pods(pods: Array, labels: Map) -> Map").area, "pods");
    assert_eq!(sig("list_pods(namespace: String, selector: String) -> Array").area, "pods");
    assert_eq!(
        sig("set_configmap_data(namespace: String, name: String, data: Map) -> Map").area,
        "configmaps"
    );
    assert_eq!(
        sig("scale_deployment(namespace: String, name: String, replicas: i64) -> Map").area,
        "workloads"
    );
    assert_eq!(sig("delete_namespace(name: String) -> Map").area, "namespaces");
    assert_eq!(sig("webhook_post(url: String, body) -> Map").area, "webhook");
    assert_eq!(sig("run_task(task: Map) -> Map").area, "tasks");
    assert_eq!(sig("parse_duration(text: String) -> i64").area, "util");
    assert!(docs.iter().all(|d| !d.doc.is_empty()), "a binding without a doc line");
    let names: std::collections::BTreeSet<&str> =
        docs.iter().map(|d| d.signature.split('(').next().unwrap()).collect();
    for n in [
        "list_pods",
        "get_pod",
        "label_pod",
        "label_pods",
        "annotate_pod",
        "annotate_pods",
        "delete_pod",
        "delete_pods",
        "pod_logs",
        "exec",
        "wait_pods",
        "list_deployments",
        "list_statefulsets",
        "list_workloads",
        "get_deployment",
        "get_statefulset",
        "get_workload",
        "scale",
        "scale_deployment",
        "set_image",
        "rollout_restart",
        "restart_deployment",
        "scale_down",
        "scale_up",
        "wait_workload",
        "list_namespaces",
        "get_namespace",
        "delete_namespace",
        "wait_namespace_deleted",
        "is_protected",
        "list_configmaps",
        "get_configmap",
        "get_configmap_value",
        "set_configmap_data",
        "set_configmap_value",
        "webhook_post",
        "run_task",
        "parallel",
        "log",
        "warn",
        "sleep",
        "now",
        "age",
        "parse_duration",
        "format_duration",
        "parse_time",
        "format_time",
        "to_json",
        "parse_json",
        "dry_run",
        "task_name",
        "remaining_seconds",
    ] {
        assert!(names.contains(n), "{n} missing from the help");
    }
    let help = bindings_help();
    assert!(help.contains("\npods:\n"), "{help}");
    assert!(help.contains("  label_pods(pods: Array, labels: Map) -> Map\n      Label every pod"), "{help}");
    // Rhai's standard library is not listed, only pearl's bindings.
    assert!(!names.contains("contains") && !names.contains("len"), "{names:?}");
}
