//! What the user sees: a live progress bar on stderr when it is a terminal, then a table of the
//! tasks on stdout (or the whole report as JSON/YAML), and log lines that never tear the bar.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::Output;
use crate::pool::Pool;
use crate::run::{Observer, RunReport, Status, TaskReport};

/// The progress bar currently drawn, so log lines can be printed above it.
fn current_bar() -> &'static Mutex<Option<ProgressBar>> {
    static BAR: OnceLock<Mutex<Option<ProgressBar>>> = OnceLock::new();
    BAR.get_or_init(|| Mutex::new(None))
}

/// Run `f` with the progress bar (if one is drawn) hidden: for prompts on the terminal.
pub fn with_bar_hidden<R>(f: impl FnOnce() -> R) -> R {
    let bar = current_bar().lock().ok().and_then(|b| b.clone());
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// A `tracing` writer for stderr that suspends the progress bar while it writes.
#[derive(Clone, Copy, Default)]
pub struct StderrAboveBar;

impl Write for StderrAboveBar {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bar = current_bar().lock().ok().and_then(|b| b.clone());
        match bar {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf)).map(|()| buf.len()),
            None => std::io::stderr().write_all(buf).map(|()| buf.len()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for StderrAboveBar {
    type Writer = StderrAboveBar;
    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

/// The live view of a run: a bar over the tasks, with requests and retries so far.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// Set when the run is over: the ticker thread exits.
    done: Arc<std::sync::atomic::AtomicBool>,
}

impl Progress {
    /// A bar when `show` and stderr is a terminal, nothing otherwise.
    pub fn new(tasks: usize, pool: &Pool, show: bool) -> Arc<Self> {
        if !show || !std::io::stderr().is_terminal() {
            return Arc::new(Self { bar: None, done: Arc::default() });
        }
        let bar = ProgressBar::new(tasks as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} tasks  {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        *current_bar().lock().expect("bar lock") = Some(bar.clone());
        let done: Arc<std::sync::atomic::AtomicBool> = Arc::default();
        // A plain thread, not a runtime task: while a prompt holds the bar suspended, the
        // ticker may block on it, and must not block a runtime worker with it.
        let (pool, stop) = (pool.clone(), done.clone());
        let ticker_bar = bar.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let s = pool.stats();
                ticker_bar.set_message(format!("{} requests, {} retries", s.units_done, s.retries));
                ticker_bar.tick();
                std::thread::sleep(Duration::from_millis(120));
            }
        });
        let this = Self { bar: Some(bar), done };
        Arc::new(this)
    }

    /// Remove the bar before the report is printed.
    pub fn finish(&self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        *current_bar().lock().expect("bar lock") = None;
    }

    fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }
}

impl Observer for Progress {
    fn finished(&self, report: &TaskReport) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if report.status != Status::Succeeded {
                bar.println(format!("{} {}: {}", report.status.as_str(), report.name, headline(report)));
            }
        }
    }

    fn interrupted(&self, second: bool) {
        if second {
            self.line("aborting in-flight requests");
        } else {
            self.line("stopping: no new requests start; in-flight ones finish (Ctrl-C again to abort)");
        }
    }
}

/// The one-line explanation of a task's outcome.
fn headline(t: &TaskReport) -> String {
    match (&t.error, t.message.is_empty()) {
        (Some(e), _) => e.clone(),
        (None, false) => t.message.clone(),
        (None, true) => String::new(),
    }
}

/// Print the report in the chosen format to stdout.
pub fn print(report: &RunReport, output: Output) -> anyhow::Result<()> {
    // JSON and YAML are written as they are produced: a report of 20,000 items is never held
    // as one string.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match output {
        Output::Json => {
            serde_json::to_writer_pretty(&mut out, report)?;
            out.write_all(b"\n")?;
        }
        Output::Yaml => serde_saphyr::to_io_writer(&mut out, report)?,
        Output::Table => out.write_all(table(report).as_bytes())?,
    }
    out.flush()?;
    Ok(())
}

fn secs(s: f64) -> String {
    if s < 10.0 {
        format!("{s:.2}s")
    } else if s < 120.0 {
        format!("{s:.1}s")
    } else {
        format!("{:.0}m{:02.0}s", (s / 60.0).floor(), s % 60.0)
    }
}

/// The table: one row per task, then the failures spelled out, then a summary line.
pub fn table(report: &RunReport) -> String {
    let headers = ["NAME", "TYPE", "STATUS", "ATTEMPTS", "MATCHED", "CHANGED", "DURATION", "MESSAGE"];
    let rows: Vec<[String; 8]> = report
        .tasks
        .iter()
        .map(|t| {
            let message = if t.status == Status::Succeeded || t.error.is_none() {
                t.message.clone()
            } else if t.message.is_empty() {
                "see below".to_string()
            } else {
                format!("{} (see below)", t.message)
            };
            [
                t.name.clone(),
                t.type_name.clone(),
                t.status.as_str().to_string(),
                t.attempts.to_string(),
                t.matched.to_string(),
                t.changed.to_string(),
                secs(t.duration_seconds),
                message,
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$}   ", w = widths[i]));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for r in &rows {
        line(r.iter().map(String::as_str).collect());
    }
    let failures: Vec<&TaskReport> = report.tasks.iter().filter(|t| t.error.is_some()).collect();
    if !failures.is_empty() {
        out.push('\n');
        for t in failures {
            out.push_str(&format!("{} ({}): {}\n", t.name, t.file, t.error.as_deref().unwrap_or_default()));
        }
    }
    out.push('\n');
    out.push_str(&summary(report));
    out.push('\n');
    out
}

/// `3 tasks: 2 succeeded, 1 failed; 2012 requests, 3 retries; 32 workers; 4.10s`
pub fn summary(report: &RunReport) -> String {
    let mut parts = Vec::new();
    for s in [Status::Succeeded, Status::Failed, Status::Skipped, Status::Cancelled, Status::NotStarted] {
        let n = report.count(s);
        if n > 0 {
            let word = match s {
                Status::NotStarted => "not started",
                other => match other.as_str() {
                    "Succeeded" => "succeeded",
                    "Failed" => "failed",
                    "Skipped" => "skipped",
                    _ => "cancelled",
                },
            };
            parts.push(format!("{n} {word}"));
        }
    }
    let n = report.tasks.len();
    let mut text = format!(
        "{n} task{}: {}; {} requests, {} retries; {} workers; {}",
        if n == 1 { "" } else { "s" },
        parts.join(", "),
        report.pool.units_done,
        report.pool.retries,
        report.workers,
        secs(report.duration_seconds)
    );
    match report.dry_run {
        crate::ops::DryRun::None => {}
        crate::ops::DryRun::Server => text.push_str("; dry run (server): nothing was stored"),
        crate::ops::DryRun::Client => text.push_str("; dry run (client): nothing was sent"),
    }
    if report.interrupted {
        text.push_str("; interrupted");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::{Items, Targets};

    fn task(name: &str, status: Status, error: Option<&str>) -> TaskReport {
        TaskReport {
            name: name.into(),
            type_name: "label-pods".into(),
            status,
            attempts: 1,
            requests: 3,
            matched: 3,
            changed: 2,
            duration_seconds: 0.5,
            message: "labelled 2 pods".into(),
            error: error.map(str::to_string),
            namespaces: Targets::Namespaces(vec!["shop".into()]),
            file: "t.yaml:1:3".into(),
            depends_on: vec![],
            items: Items::new(),
        }
    }

    #[test]
    fn the_table_aligns_columns_and_spells_out_failures() {
        let report = RunReport {
            tasks: vec![
                task("label", Status::Succeeded, None),
                task("a-longer-name", Status::Failed, Some("label pod shop/x: forbidden (Forbidden, 403)")),
            ],
            interrupted: false,
            dry_run: crate::ops::DryRun::None,
            workers: 32,
            duration_seconds: 1.234,
            pool: Default::default(),
        };
        let text = table(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "NAME            TYPE         STATUS      ATTEMPTS   MATCHED   CHANGED   DURATION   MESSAGE"
        );
        assert_eq!(
            lines[1],
            "label           label-pods   Succeeded   1          3         2         0.50s      labelled 2 pods"
        );
        assert!(lines[2].ends_with("labelled 2 pods (see below)"), "{}", lines[2]);
        assert_eq!(lines[4], "a-longer-name (t.yaml:1:3): label pod shop/x: forbidden (Forbidden, 403)");
        assert_eq!(lines[6], "2 tasks: 1 succeeded, 1 failed; 0 requests, 0 retries; 32 workers; 1.23s");
        assert_eq!(report.exit_code(), 1);
    }
}
