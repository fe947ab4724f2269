//! One function per subcommand. Each returns the process exit code: 0 success, 1 a task failed,
//! 2 usage or validation error, 130 interrupted.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::sync::Arc;

use anyhow::{Context as _, Result};

use crate::cli::{
    Cli, Command, CompletionsArgs, EvalArgs, EvalOutput, ExplainArgs, KubeFlags, PoolFlags, RunArgs,
    ScriptFlags, ValidateArgs, VersionArgs, VersionOutput,
};
use crate::client;
use crate::pool::{PoolConfig, RetryPolicy};
use crate::report::{self, Progress};
use crate::run::{Observer, RunSettings, Runner, Status};
use crate::spec::{self, Diagnostic, Input, LoadOptions, Plan};
use crate::tasks::{ParamDef, Safety, Targets, TaskType, registry};

pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_INTERRUPTED: u8 = 130;

pub async fn dispatch(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Run(args) => run(&cli.kube, args).await,
        Command::Validate(args) => validate(args),
        Command::Explain(args) => explain(args),
        Command::Eval(args) => eval(&cli.kube, args).await,
        Command::Version(args) => version(args),
        Command::Completions(args) => completions(args),
    }
}

fn load_options(script: &ScriptFlags) -> LoadOptions {
    LoadOptions {
        script_args: script.args.iter().cloned().collect::<BTreeMap<_, _>>(),
        script_timeout: Some(script.script_timeout),
    }
}

/// Read and validate; on any problem print every one of them and return the exit code.
fn plan(files: &[String], options: &LoadOptions) -> Result<Plan, u8> {
    let stdin_count = files.iter().filter(|f| *f == "-").count();
    if stdin_count > 1 {
        eprintln!("error: `-` (standard input) can be given only once");
        return Err(EXIT_USAGE);
    }
    let mut inputs = Vec::new();
    let mut unreadable: Vec<Diagnostic> = Vec::new();
    for f in files {
        match Input::read(f) {
            Ok(i) => inputs.push(i),
            Err(d) => unreadable.push(d),
        }
    }
    let loaded = spec::load(&inputs, options);
    match (loaded, unreadable.is_empty()) {
        (Ok(plan), true) => Ok(plan),
        (Ok(_), false) => {
            let invalid = spec::Invalid { diagnostics: unreadable, sources: Default::default() };
            eprint!("{}", invalid.render());
            Err(EXIT_USAGE)
        }
        (Err(mut invalid), _) => {
            invalid.diagnostics.splice(0..0, unreadable);
            eprint!("{}", invalid.render());
            Err(EXIT_USAGE)
        }
    }
}

fn settings(kube: &KubeFlags, pool: &PoolFlags, default_namespace: &str) -> RunSettings {
    let default_targets = if kube.all_namespaces {
        Targets::All
    } else {
        Targets::Namespaces(vec![kube.namespace.clone().unwrap_or_else(|| default_namespace.to_string())])
    };
    RunSettings {
        pool: PoolConfig { workers: pool.workers as usize, qps: pool.qps, burst: pool.burst },
        retry: RetryPolicy { max_attempts: pool.attempts, ..RetryPolicy::default() },
        dry_run: pool.dry_run,
        safety: Safety {
            yes: pool.yes,
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            protect: pool.protect.clone(),
            force: pool.force,
        },
        default_targets,
    }
}

/// First Ctrl-C stops new work, the second aborts what is in flight.
fn handle_interrupts(runner: &Arc<Runner>, observer: Arc<dyn Observer>) -> tokio::task::JoinHandle<()> {
    let runner = runner.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            let second = runner.interrupt();
            observer.interrupted(second);
            if second {
                break;
            }
        }
    })
}

async fn run(kube: &KubeFlags, args: RunArgs) -> Result<u8> {
    let plan = match plan(&args.files, &load_options(&args.script)) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let conn = client::connect(kube).await?;
    let settings = settings(kube, &args.pool, &conn.default_namespace);
    let runner = Arc::new(Runner::new(&settings));
    let show = args.output == crate::cli::Output::Table;
    let progress = Progress::new(plan.tasks.len(), &runner.pool, show);
    let signals = handle_interrupts(&runner, progress.clone());
    let report = runner.execute(plan, conn.client, &settings, progress.as_ref()).await;
    signals.abort();
    progress.finish();
    report::print(&report, args.output)?;
    Ok(report.exit_code())
}

fn validate(args: ValidateArgs) -> Result<u8> {
    let plan = match plan(&args.files, &LoadOptions::default()) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let files: std::collections::BTreeSet<&str> = plan.tasks.iter().map(|t| t.file.as_str()).collect();
    for t in &plan.tasks {
        println!("{}:{}: {} ({})", t.file, t.pos, t.name, t.kind.name());
    }
    let n = plan.tasks.len();
    println!(
        "{n} task{} in {} file{}: valid",
        if n == 1 { "" } else { "s" },
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    Ok(0)
}

fn explain(args: ExplainArgs) -> Result<u8> {
    if args.script {
        print!("{}", crate::script::bindings_help());
        return Ok(0);
    }
    let Some(name) = args.task_type else {
        print!("{}", list_types());
        return Ok(0);
    };
    match registry().get(&name) {
        Some(t) => {
            print!("{}", describe_type(t));
            Ok(0)
        }
        None => {
            let hint =
                registry().suggest(&name).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
            eprintln!("error: unknown task type `{name}`{hint}; `kubectl pearl explain` lists them");
            Ok(EXIT_USAGE)
        }
    }
}

/// `explain` without a type: every type with its aliases and summary.
pub fn list_types() -> String {
    let types = registry().all();
    let width = types.iter().map(|t| t.name().len()).max().unwrap_or(4).max(4);
    let mut out = format!("{:width$}   {:8}   SUMMARY\n", "TYPE", "CHANGES");
    for t in types {
        out.push_str(&format!(
            "{:width$}   {:8}   {}\n",
            t.name(),
            if t.mutating() { "yes" } else { "no" },
            t.summary()
        ));
    }
    out.push_str("\n`kubectl pearl explain TYPE` shows a type's parameters and an example.\n");
    out
}

/// `explain TYPE`: summary, aliases, every parameter, an example.
pub fn describe_type(t: &dyn TaskType) -> String {
    let mut out = format!("TYPE:      {}\n", t.name());
    if !t.aliases().is_empty() {
        out.push_str(&format!("ALIASES:   {}\n", t.aliases().join(", ")));
    }
    out.push_str(&format!(
        "CHANGES:   {}\n",
        if t.mutating() { "yes (honours --dry-run and maxObjects)" } else { "no" }
    ));
    out.push_str(&format!("SUMMARY:   {}\n\nPARAMETERS:\n", t.summary()));
    let params: &[ParamDef] = t.params();
    if params.is_empty() {
        out.push_str("  (none)\n");
    }
    for p in params {
        let mut head = format!("  {} <{}>", p.name, p.kind.describe());
        if p.required {
            head.push_str(" (required)");
        }
        out.push_str(&head);
        out.push('\n');
        out.push_str(&format!("      {}\n", p.help));
        if let Some(d) = p.default {
            out.push_str(&format!("      default: {d}\n"));
        }
        if !p.example.is_empty() {
            out.push_str(&format!("      example: {}\n", p.example));
        }
        if !p.aliases.is_empty() {
            out.push_str(&format!("      also accepted as: {}\n", p.aliases.join(", ")));
        }
    }
    out.push_str("\nEXAMPLE:\n");
    for line in t.example().trim_end().lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

async fn eval(kube: &KubeFlags, args: EvalArgs) -> Result<u8> {
    let source = if args.source == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("cannot read the script from standard input")?;
        s
    } else {
        args.source.clone()
    };
    let name = if args.source == "-" { "<stdin>" } else { "<eval>" };
    let plan = match spec::load(&[Input::script_text(name, &source)], &load_options(&args.script)) {
        Ok(p) => p,
        Err(invalid) => {
            eprint!("{}", invalid.render());
            return Ok(EXIT_USAGE);
        }
    };
    let conn = client::connect(kube).await?;
    let settings = settings(kube, &args.pool, &conn.default_namespace);
    let runner = Arc::new(Runner::new(&settings));
    let progress = Progress::new(1, &runner.pool, false);
    let signals = handle_interrupts(&runner, progress.clone());
    let report = runner.execute(plan, conn.client, &settings, progress.as_ref()).await;
    signals.abort();
    let task = &report.tasks[0];
    if task.status != Status::Succeeded {
        eprintln!("error: {}", task.error.as_deref().unwrap_or(task.message.as_str()));
        return Ok(report.exit_code().max(EXIT_FAILED));
    }
    let value = task.items.get(0).unwrap_or(serde_json::Value::Null);
    match args.output {
        EvalOutput::Json => println!("{}", serde_json::to_string_pretty(&value)?),
        EvalOutput::Yaml => print!("{}", serde_saphyr::to_string(&value)?),
    }
    Ok(0)
}

fn version(args: VersionArgs) -> Result<u8> {
    let info = crate::version::info();
    match args.output {
        None => println!("{}", crate::version::line()),
        Some(VersionOutput::Json) => println!("{}", serde_json::to_string_pretty(&info)?),
        Some(VersionOutput::Yaml) => print!("{}", serde_saphyr::to_string(&info)?),
    }
    Ok(0)
}

fn completions(args: CompletionsArgs) -> Result<u8> {
    print!("{}", completion_script(args.shell));
    Ok(0)
}

/// The completion script for a shell, as committed under `completions/`.
pub fn completion_script(shell: clap_complete::Shell) -> String {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "kubectl-pearl", &mut buf);
    let text = String::from_utf8(buf).expect("completions are UTF-8");
    match shell {
        // clap_complete names bash states from the display name `kubectl pearl` in two ways
        // (`kubectl__subcmd__pearl__subcmd__run` and `kubectl__pearl__subcmd__run`), so nothing
        // after a subcommand completes (clap-rs/clap#6421); use one spelling.
        clap_complete::Shell::Bash => text.replace("kubectl__subcmd__pearl", "kubectl__pearl"),
        _ => text,
    }
}
