//! The command line: kubectl's global flags with kubectl's meaning, and the subcommands.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ops::DryRun;

/// Scripted, concurrent cluster maintenance: task files and Rhai scripts on one worker pool.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-pearl",
    bin_name = "kubectl pearl",
    version = crate::version::SHORT,
    about,
    long_about = "Scripted, concurrent cluster maintenance for kubectl.\n\n\
        Declare tasks in YAML or JSON files, or write them as Rhai scripts, and run them all at once\n\
        on one shared worker pool with retries, conflict handling and a clear report.",
    after_help = "Examples:\n  \
        kubectl pearl run tasks.yaml                 run a task file against the current context\n  \
        kubectl pearl run -n shop tasks.yaml fix.rhai  tasks and a script on one pool, default namespace shop\n  \
        kubectl pearl validate tasks.yaml            check a file without contacting the cluster\n  \
        kubectl pearl explain label-pods             every parameter of a task type\n  \
        kubectl pearl eval 'pods(\"default\").len()'   a one-line script"
)]
pub struct Cli {
    #[command(flatten)]
    pub kube: KubeFlags,

    /// Log verbosity, as kubectl's -v: 0 warnings, 2 info, 4 debug, 6 and up trace.
    #[arg(short = 'v', long = "v", global = true, value_name = "LEVEL", default_value_t = 0)]
    pub verbosity: u8,

    #[command(subcommand)]
    pub command: Command,
}

/// kubectl's global connection flags.
#[derive(Debug, Clone, Default, Args)]
pub struct KubeFlags {
    /// Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// The kubeconfig cluster to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Namespace for tasks that do not name one (default: the context's namespace).
    #[arg(short = 'n', long, global = true, value_name = "NAME")]
    pub namespace: Option<String>,
    /// Act on all namespaces for tasks that do not name one.
    #[arg(short = 'A', long, global = true, conflicts_with = "namespace")]
    pub all_namespaces: bool,
    /// Username to impersonate for the operation.
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate (repeat for several).
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit.
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_duration)]
    pub request_timeout: Option<Duration>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run task files (YAML, JSON; `-` reads stdin) and Rhai scripts (*.rhai) on one worker pool.
    #[command(after_help = "Examples:\n  \
        kubectl pearl run tasks.yaml\n  \
        kubectl pearl run -n shop --workers 64 tasks.yaml cleanup.rhai --arg age=24h\n  \
        kubectl pearl run --dry-run=server -o json tasks.yaml\n  \
        cat tasks.json | kubectl pearl run -")]
    Run(RunArgs),
    /// Check task files and scripts without contacting the cluster; exit 2 on any problem.
    #[command(after_help = "Examples:\n  kubectl pearl validate tasks.yaml more-tasks.json fix.rhai")]
    Validate(ValidateArgs),
    /// List the task types, or describe one type's parameters (--script: the script bindings).
    #[command(after_help = "Examples:\n  \
        kubectl pearl explain\n  \
        kubectl pearl explain label-pods\n  \
        kubectl pearl explain --script")]
    Explain(ExplainArgs),
    /// Evaluate a Rhai script given on the command line (`-` reads it from stdin) and print its value.
    #[command(after_help = "Examples:\n  \
        kubectl pearl eval 'list_pods(\"shop\", \"app=web\").len()'\n  \
        kubectl pearl eval --arg ns=shop 'list_deployments(ARGS.ns).map(|d| d.name)'\n  \
        echo 'now()' | kubectl pearl eval -")]
    Eval(EvalArgs),
    /// Print the version and the git commit it was built from.
    #[command(after_help = "Examples:\n  kubectl pearl version\n  kubectl pearl version -o json")]
    Version(VersionArgs),
    /// Print shell completions (bash, zsh, fish, powershell, elvish).
    #[command(after_help = "Examples:\n  \
        source <(kubectl pearl completions bash)\n  \
        kubectl pearl completions zsh > \"${fpath[1]}/_kubectl-pearl\"")]
    Completions(CompletionsArgs),
}

/// Settings of the worker pool and of every mutating operation.
#[derive(Debug, Clone, Args)]
pub struct PoolFlags {
    /// Requests in flight at once, for the whole run (every task and script shares them).
    #[arg(long, default_value_t = 32, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub workers: u32,
    /// Client-side limit on requests per second (default: none; the API server's fairness applies).
    #[arg(long, value_name = "QPS")]
    pub qps: Option<f64>,
    /// Requests allowed at once above --qps after a quiet spell.
    #[arg(long, default_value_t = 10, value_name = "N", requires = "qps")]
    pub burst: u32,
    /// Attempts per request for retryable errors (conflict, 429, 5xx, timeouts), the first included.
    #[arg(long, default_value_t = 5, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub attempts: u32,
    /// Send nothing that changes the cluster: `server` submits with dryRun (admission runs), `client`
    /// only reports what would change. A bare --dry-run means client.
    #[arg(
        long,
        value_enum,
        num_args = 0..=1,
        require_equals = true,
        default_value = "none",
        default_missing_value = "client",
        value_name = "MODE"
    )]
    pub dry_run: DryRun,
    /// Do not ask for confirmation before deleting namespaces.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Namespaces (glob patterns, e.g. 'prod-*') that destructive tasks must not touch.
    #[arg(long, value_name = "PATTERN")]
    pub protect: Vec<String>,
    /// Act on namespaces matched by --protect anyway (the API server's own refusals still hold).
    #[arg(long)]
    pub force: bool,
}

/// Settings for scripts.
#[derive(Debug, Clone, Args)]
pub struct ScriptFlags {
    /// A value scripts read from the ARGS map (repeat for several).
    #[arg(long = "arg", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub args: Vec<(String, String)>,
    /// Wall-clock limit for each script.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "5m")]
    pub script_timeout: Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// A table of tasks (the default).
    #[default]
    Table,
    Json,
    Yaml,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Task files and scripts; `-` reads a task file from stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    #[command(flatten)]
    pub pool: PoolFlags,
    #[command(flatten)]
    pub script: ScriptFlags,
    /// Output format of the report.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Task files and scripts; `-` reads a task file from stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A task type (name or alias); all types are listed when omitted.
    #[arg(value_name = "TYPE", conflicts_with = "script")]
    pub task_type: Option<String>,
    /// List every script binding with its signature.
    #[arg(long)]
    pub script: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The script; `-` reads it from stdin.
    #[arg(value_name = "SCRIPT")]
    pub source: String,
    #[command(flatten)]
    pub pool: PoolFlags,
    #[command(flatten)]
    pub script: ScriptFlags,
    /// Output format of the value.
    #[arg(short = 'o', long, value_enum, default_value = "json")]
    pub output: EvalOutput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalOutput {
    Json,
    Yaml,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format.
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<VersionOutput>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VersionOutput {
    Json,
    Yaml,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::tasks::params::parse_duration(s)
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("`{s}` is not KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn kubectl_flags_parse_anywhere() {
        let cli = Cli::parse_from([
            "kubectl-pearl",
            "run",
            "-n",
            "shop",
            "--context",
            "dev",
            "t.yaml",
            "--as",
            "jane",
            "--as-group",
            "a",
            "--as-group",
            "b",
            "--request-timeout",
            "30s",
            "--dry-run",
        ]);
        assert_eq!(cli.kube.namespace.as_deref(), Some("shop"));
        assert_eq!(cli.kube.context.as_deref(), Some("dev"));
        assert_eq!(cli.kube.as_group, vec!["a", "b"]);
        assert_eq!(cli.kube.request_timeout, Some(Duration::from_secs(30)));
        let Command::Run(run) = cli.command else { panic!() };
        assert_eq!(run.pool.dry_run, DryRun::Client);
        assert_eq!(run.pool.workers, 32);
    }

    #[test]
    fn dry_run_takes_kubectl_values_and_args_are_pairs() {
        let cli = Cli::parse_from(["kubectl-pearl", "eval", "--dry-run=server", "--arg", "a=b=c", "1"]);
        let Command::Eval(e) = cli.command else { panic!() };
        assert_eq!(e.pool.dry_run, DryRun::Server);
        assert_eq!(e.script.args, vec![("a".to_string(), "b=c".to_string())]);
        assert!(Cli::try_parse_from(["kubectl-pearl", "eval", "--arg", "novalue", "1"]).is_err());
        assert!(Cli::try_parse_from(["kubectl-pearl", "run", "-n", "a", "-A", "t.yaml"]).is_err());
    }
}
