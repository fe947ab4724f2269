//! Shell completions: the committed files under completions/ are what `kubectl-pearl completions
//! SHELL` prints, bash completion works when sourced, and `kubectl pearl <TAB>` works through
//! kubectl's plugin completion (kubectl 1.26+ runs `kubectl_complete-pearl` from PATH).
//!
//! The bash tests run the real bash, the real kubectl's `completion bash` script and the
//! bash-completion package it relies on (`_get_comp_words_by_ref`), as a user's shell would.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const FILES: [(&str, &str); 5] = [
    ("bash", "kubectl-pearl.bash"),
    ("zsh", "_kubectl-pearl"),
    ("fish", "kubectl-pearl.fish"),
    ("powershell", "kubectl-pearl.ps1"),
    ("elvish", "kubectl-pearl.elv"),
];

const SUBCOMMANDS: [&str; 6] = ["run", "validate", "explain", "eval", "version", "completions"];

const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn committed_completions_match_what_the_binary_prints() {
    let mut stale = Vec::new();
    for (shell, file) in FILES {
        let out = run(Command::new(common::pearl_bin()).args(["completions", shell]));
        assert!(!out.stdout.is_empty(), "`kubectl-pearl completions {shell}` printed nothing");
        let path = root().join("completions").join(file);
        let committed = std::fs::read(&path).unwrap_or_default();
        if committed != out.stdout {
            stale.push(format!("  cargo run -q -- completions {shell} > completions/{file}"));
        }
    }
    assert!(
        stale.is_empty(),
        "completions/ is out of date with the CLI; regenerate with:\n{}",
        stale.join("\n")
    );
}

#[test]
fn the_helper_is_an_executable_bash_script() {
    let helper = root().join("completions/kubectl_complete-pearl");
    let text = std::fs::read_to_string(&helper).unwrap();
    assert!(text.starts_with("#!/usr/bin/env bash\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&helper).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "{} must be executable (mode {mode:o})", helper.display());
    }
    run(Command::new("bash").arg("-n").arg(&helper));
}

/// A bin dir holding `kubectl-pearl` (this test build), the helper and kubectl, as a PATH.
struct Bin {
    dir: tempfile::TempDir,
}

impl Bin {
    fn new() -> Bin {
        let dir = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(common::pearl_bin(), dir.path().join("kubectl-pearl")).unwrap();
            std::os::unix::fs::symlink(kubectl_path(), dir.path().join("kubectl")).unwrap();
        }
        std::fs::copy(
            root().join("completions/kubectl_complete-pearl"),
            dir.path().join("kubectl_complete-pearl"),
        )
        .unwrap();
        Bin { dir }
    }

    fn path(&self) -> std::ffi::OsString {
        std::env::join_paths([self.dir.path(), Path::new("/usr/bin"), Path::new("/bin")]).unwrap()
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear().env("PATH", self.path()).env("HOME", self.dir.path()).current_dir(self.dir.path());
        c
    }
}

fn kubectl_path() -> PathBuf {
    let k = common::kubectl_bin();
    if k.is_absolute() {
        return k;
    }
    let out = run(Command::new("sh").args(["-c", "command -v kubectl"]));
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

/// Runs the bash completion function registered for `words[0]` the way bash does on <TAB>
/// after `setup` (which sources the completion scripts), and returns COMPREPLY.
fn bash_complete(bin: &Bin, setup: &str, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{}'", w.replace('\'', r"'\''"))).collect();
    let script = format!(
        r#"{setup}
COMP_WORDS=({words})
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
COMPREPLY=()
spec=$(complete -p "${{COMP_WORDS[0]}}") || {{ echo "no completion registered for ${{COMP_WORDS[0]}}" >&2; exit 3; }}
fn=$(sed -n 's/.* -F \([^ ]*\) .*/\1/p' <<<"$spec")
prev=""
((COMP_CWORD > 0)) && prev=${{COMP_WORDS[COMP_CWORD-1]}}
"$fn" "${{COMP_WORDS[0]}}" "${{COMP_WORDS[COMP_CWORD]}}" "$prev" 2>/dev/null
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        words = quoted.join(" ")
    );
    lines(&run(bin.cmd("bash").arg("-c").arg(script)))
}

fn assert_offers(got: &[String], want: &[&str], what: &str) {
    for w in want {
        assert!(got.iter().any(|g| g == w), "{what}: want {w:?} among {got:?}");
    }
}

#[test]
fn sourced_bash_completion_completes_subcommands_flags_and_values() {
    let bin = Bin::new();
    let setup = format!("source '{}'", root().join("completions/kubectl-pearl.bash").display());
    let top = bash_complete(&bin, &setup, &["kubectl-pearl", ""]);
    assert_offers(&top, &SUBCOMMANDS, "kubectl-pearl <TAB>");
    assert_offers(
        &bash_complete(&bin, &setup, &["kubectl-pearl", "--name"]),
        &["--namespace"],
        "--name<TAB>",
    );
    // Inside a subcommand: its own flags and their values. clap_complete's bash script gets
    // these wrong for a binary name with a hyphen (clap-rs/clap#6421): its case arms say
    // `kubectl__subcmd__pearl__subcmd__run` where its loop says `kubectl__pearl__subcmd__run`,
    // so nothing after a subcommand completes until `commands::completion_script` repairs the
    // bash output (replace `kubectl__subcmd__pearl` with `kubectl__pearl`).
    assert_offers(
        &bash_complete(&bin, &setup, &["kubectl-pearl", "run", "--dr"]),
        &["--dry-run"],
        "run --dr<TAB> (clap-rs/clap#6421, see the comment above)",
    );
    assert_offers(
        &bash_complete(&bin, &setup, &["kubectl-pearl", "version", "-o", ""]),
        &["json", "yaml"],
        "version -o <TAB> (clap-rs/clap#6421, see the comment above)",
    );
    assert_offers(
        &bash_complete(&bin, &setup, &["kubectl-pearl", "completions", ""]),
        &["bash", "zsh", "fish", "powershell", "elvish"],
        "completions <TAB> (clap-rs/clap#6421, see the comment above)",
    );
}

#[test]
fn the_helper_answers_kubectl_plugin_completion_requests() {
    let bin = Bin::new();
    let helper = |args: &[&str]| lines(&run(bin.cmd("kubectl_complete-pearl").args(args)));

    let top = helper(&[""]);
    assert_offers(&top, &SUBCOMMANDS, "kubectl pearl <TAB>");
    assert_eq!(top.last().map(String::as_str), Some(":4"), "no file names among subcommands: {top:?}");

    let r = helper(&["r"]);
    assert_eq!(r, ["run", ":4"], "kubectl pearl r<TAB>");

    let flags = helper(&["run", "--dr"]);
    assert_eq!(flags, ["--dry-run", ":4"], "kubectl pearl run --dr<TAB>");

    // Task files: file names with the extensions pearl reads (cobra's FilterFileExt = 8).
    assert_eq!(helper(&["-n", "shop", "run", "a.yaml", ""]), ["yaml", "yml", "json", "rhai", ":8"]);

    // Task type names after `explain`, from `kubectl-pearl explain`.
    let listed = lines(&run(Command::new(common::pearl_bin()).arg("explain")));
    let types: Vec<&str> = listed
        .iter()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(types.contains(&"scale"), "explain lists task types: {listed:?}");
    let mut want: Vec<String> = types.iter().filter(|t| t.starts_with("sc")).map(|t| t.to_string()).collect();
    want.push(":4".into());
    assert_eq!(helper(&["--context", "x", "explain", "sc"]), want, "kubectl pearl explain sc<TAB>");

    // A flag's value: `--namespace <TAB>` is not a subcommand position.
    let ns = helper(&["--namespace", ""]);
    assert!(!ns.iter().any(|l| l == "run"), "--namespace <TAB> must not offer subcommands: {ns:?}");
}

#[test]
fn kubectl_bash_completion_completes_kubectl_pearl_through_the_helper() {
    assert!(
        Path::new(BASH_COMPLETION).is_file(),
        "{BASH_COMPLETION} is missing: kubectl's bash completion needs the bash-completion package \
         (apt-get install bash-completion)"
    );
    let bin = Bin::new();
    let setup = format!("source {BASH_COMPLETION}\nsource <(kubectl completion bash)");
    // Through kubectl's own protocol first: `kubectl __complete pearl ...`.
    let proto = lines(&run(bin.cmd("kubectl").args(["__complete", "pearl", ""])));
    assert_offers(&proto, &SUBCOMMANDS, "kubectl __complete pearl ''");

    let top = bash_complete(&bin, &setup, &["kubectl", "pearl", ""]);
    assert_offers(&top, &SUBCOMMANDS, "kubectl pearl <TAB>");
    let sub = bash_complete(&bin, &setup, &["kubectl", "pearl", "ex"]);
    assert_eq!(sub, ["explain"], "kubectl pearl ex<TAB>");
    let flag = bash_complete(&bin, &setup, &["kubectl", "pearl", "run", "--dr"]);
    assert_eq!(flag, ["--dry-run"], "kubectl pearl run --dr<TAB>");
    let values = bash_complete(&bin, &setup, &["kubectl", "pearl", "version", "-o", ""]);
    assert_offers(&values, &["json", "yaml"], "kubectl pearl version -o <TAB>");

    // Without the helper on PATH kubectl offers nothing of pearl's.
    std::fs::remove_file(bin.dir.path().join("kubectl_complete-pearl")).unwrap();
    let none = bash_complete(&bin, &setup, &["kubectl", "pearl", ""]);
    assert!(!none.iter().any(|c| c == "validate"), "without the helper: {none:?}");
}
