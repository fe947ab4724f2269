//! `kubectl-pearl`: found by kubectl on PATH, run as `kubectl pearl ...`.

use std::process::ExitCode;

use clap::Parser;
use pearl::cli::Cli;
use pearl::report::StderrAboveBar;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbosity);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(pearl::commands::dispatch(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(pearl::commands::EXIT_FAILED)
        }
    }
}

/// kubectl's -v levels: 0 warnings (and script log lines), 2 info, 4 debug, 6+ trace.
fn init_logging(level: u8) {
    let base = match level {
        0 | 1 => "warn",
        2 | 3 => "info",
        4 | 5 => "debug",
        _ => "trace",
    };
    let filter = std::env::var("PEARL_LOG").unwrap_or_else(|_| format!("{base},pearl::script=info"));
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(StderrAboveBar)
        .without_time()
        .with_target(level >= 4)
        .init();
}
