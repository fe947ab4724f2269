use super::*;

fn input(name: &str, text: &str) -> Input {
    Input {
        name: name.into(),
        path: Some(PathBuf::from(name)),
        bytes: text.as_bytes().to_vec(),
        script: false,
    }
}

fn problems(inputs: &[Input]) -> Vec<(String, String)> {
    let err = load(inputs, &LoadOptions::default()).expect_err("validation should fail");
    err.diagnostics.iter().map(|d| (d.location(), d.message.clone())).collect()
}

fn has(problems: &[(String, String)], location: &str, message_start: &str) {
    assert!(
        problems.iter().any(|(l, m)| l == location && m.starts_with(message_start)),
        "no `{message_start}` at {location} in {problems:#?}"
    );
}

#[test]
fn whole_file_problems_are_located_at_the_file() {
    let p = problems(&[input("empty.yaml", "  \n")]);
    has(&p, "empty.yaml", "the file is empty");
    let p = problems(&[input("comments.yaml", "# nothing\n---\n")]);
    has(&p, "comments.yaml", "the file holds no tasks");
    let bom = Input { bytes: b"\xEF\xBB\xBF- name: a\n".to_vec(), ..input("bom.yaml", "") };
    has(&problems(&[bom]), "bom.yaml (byte 0)", "the file starts with a UTF-8 byte order mark");
    let bad = Input { bytes: b"- name: a\n  type: \xFFx\n".to_vec(), ..input("bad.yaml", "") };
    has(&problems(&[bad]), "bad.yaml:2:9", "the file is not valid UTF-8 (invalid byte at offset 18)");
}

#[test]
fn syntax_errors_and_duplicate_keys_are_located() {
    has(&problems(&[input("a.yaml", "- name: a\n  type: [x\n")]), "a.yaml:2:9", "invalid YAML/JSON");
    let p = problems(&[input("d.yaml", "- name: a\n  type: x\n  name: b\n")]);
    has(&p, "d.yaml:3:3", "invalid YAML/JSON: duplicate mapping key: name");
}

#[test]
fn wrong_shapes_say_what_was_expected() {
    has(&problems(&[input("s.yaml", "just a string\n")]), "s.yaml:1:1", "expected a list of tasks");
    has(&problems(&[input("t.yaml", "tasks: 3\n")]), "t.yaml:1:8", "`tasks` must be a list");
    has(&problems(&[input("i.yaml", "- 3\n")]), "i.yaml:1:3", "a task must be a map");
}

#[test]
fn task_fields_are_checked_with_suggestions() {
    let text = "- name: a\n  type: nosuchtype\n  dependson: [b]\n- type: x\n";
    let err = load(&[input("f.yaml", text)], &LoadOptions::default()).unwrap_err();
    let unknown = err.diagnostics.iter().find(|d| d.message == "unknown task field `dependson`").unwrap();
    assert_eq!(unknown.location(), "f.yaml:3:3");
    assert_eq!(unknown.notes, vec!["did you mean `dependsOn`?".to_string()]);
    let p: Vec<(String, String)> =
        err.diagnostics.iter().map(|d| (d.location(), d.message.clone())).collect();
    has(&p, "f.yaml:2:9", "unknown task type `nosuchtype`");
    has(&p, "f.yaml:4:3", "the task has no `name`");
}

#[test]
fn namespaces_are_validated() {
    let text = "- name: a\n  type: x\n  namespace: Bad_NS\n- name: b\n  type: x\n  namespace: a\n  namespaces: [b]\n";
    let p = problems(&[input("n.yaml", text)]);
    has(&p, "n.yaml:3:14", "`Bad_NS` is not a valid namespace name");
    has(&p, "n.yaml:7:3", "give only one of namespace, namespaces, allNamespaces");
}

#[test]
fn names_are_unique_across_files_and_dependencies_resolve() {
    let a = input("a.yaml", "- name: one\n  type: x\n- name: two\n  type: x\n  dependsOn: [oen, two]\n");
    let b = input("b.yaml", "- name: one\n  type: x\n");
    let err = load(&[a, b], &LoadOptions::default()).unwrap_err();
    let dup = err.diagnostics.iter().find(|d| d.message == "duplicate task name `one`").unwrap();
    assert_eq!(dup.location(), "b.yaml:1:9");
    assert_eq!(dup.notes, vec!["first defined at a.yaml:1:9".to_string()]);
    let unknown = err.diagnostics.iter().find(|d| d.message.contains("unknown task `oen`")).unwrap();
    assert_eq!(unknown.location(), "a.yaml:5:15");
    assert_eq!(unknown.notes, vec!["did you mean `one`?".to_string()]);
    assert!(err.diagnostics.iter().any(|d| d.message == "task `two` depends on itself"));
}

#[test]
fn dependency_cycles_are_reported_once_with_their_path() {
    let text = "- {name: a, type: x, dependsOn: c}\n- {name: b, type: x, dependsOn: a}\n- {name: c, type: x, dependsOn: [b]}\n";
    let err = load(&[input("c.yaml", text)], &LoadOptions::default()).unwrap_err();
    let cycles: Vec<&Diagnostic> =
        err.diagnostics.iter().filter(|d| d.message.starts_with("dependency cycle")).collect();
    assert_eq!(cycles.len(), 1, "{cycles:?}");
    assert_eq!(cycles[0].message, "dependency cycle: a → c → b → a");
    assert_eq!(cycles[0].location(), "c.yaml:1:33");
}

#[test]
fn cycle_search_finds_each_cycle() {
    assert!(find_cycles(&[vec![1], vec![2], vec![]]).is_empty());
    assert_eq!(find_cycles(&[vec![1], vec![0], vec![2]]), vec![vec![0, 1], vec![2]]);
}

#[test]
fn retry_settings_and_the_seed_fields() {
    let p = problems(&[input("r.yaml", "- name: a\n  type: x\n  retry: {attempts: 0, backof: 1s}\n")]);
    has(&p, "r.yaml:3:21", "`attempts` must be an integer from 1 to 100");
    has(&p, "r.yaml:3:24", "unknown retry field `backof`");
    let spec = RetrySpec { attempts: Some(3), backoff: Some(Duration::from_secs(1)), max_backoff: None };
    let policy = spec.policy(&RetryPolicy::default());
    assert_eq!(policy.max_attempts, 3);
    assert_eq!(policy.base_delay, Duration::from_secs(1));
    assert_eq!(policy.max_delay, Duration::from_secs(10));
}

#[test]
fn dns_labels() {
    assert!(check_dns_label("team-a1").is_ok());
    assert!(check_dns_label("-a").is_err());
    assert!(check_dns_label("A").is_err());
    assert!(check_dns_label(&"a".repeat(64)).is_err());
}

#[test]
fn rendering_quotes_the_line() {
    let err = load(&[input("q.yaml", "- name: a\n  type: nosuch\n")], &LoadOptions::default()).unwrap_err();
    let text = err.render();
    assert!(
        text.contains(
            "error: q.yaml:2:9: unknown task type `nosuch`\n  |\n2 |   type: nosuch\n  |         ^^^^^^\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("1 error in 1 file; nothing was sent to the cluster\n"), "{text}");
}
