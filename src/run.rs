//! Running a plan: every task starts as soon as the tasks it depends on have succeeded, and all of
//! them share one worker pool. Tasks themselves hold no worker (only their requests do), so a task
//! that fans out over thousands of pods cannot starve or deadlock the others.
//!
//! Ctrl-C once: no new request starts, in-flight ones finish, unstarted tasks are reported as not
//! started. Ctrl-C twice: in-flight work is dropped too.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::ops::{Cluster, DryRun, OpsError};
use crate::pool::{Pool, PoolConfig, RetryPolicy, StatsSnapshot};
use crate::spec::{Plan, PlannedTask};
use crate::tasks::{Items, Safety, Targets, TaskCx, TaskError, TaskOutput};

/// Run-wide settings from the command line.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub pool: PoolConfig,
    pub retry: RetryPolicy,
    pub dry_run: DryRun,
    pub safety: Safety,
    /// For tasks that name no namespace: `-n`, `-A`, or the context's namespace.
    pub default_targets: Targets,
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Status {
    Succeeded,
    Failed,
    /// A task it depends on did not succeed.
    Skipped,
    /// Stopped by Ctrl-C while it ran.
    Cancelled,
    /// Ctrl-C came before it started.
    NotStarted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
            Status::Skipped => "Skipped",
            Status::Cancelled => "Cancelled",
            Status::NotStarted => "NotStarted",
        }
    }
}

/// The result of one task, as the report shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskReport {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub status: Status,
    /// Most attempts any one request of the task needed.
    pub attempts: u32,
    /// API operations the task ran through the pool.
    pub requests: u64,
    pub matched: usize,
    pub changed: usize,
    pub duration_seconds: f64,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub namespaces: Targets,
    pub file: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
    pub items: Items,
}

/// The result of a whole run.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunReport {
    pub tasks: Vec<TaskReport>,
    pub interrupted: bool,
    pub dry_run: DryRun,
    pub workers: usize,
    pub duration_seconds: f64,
    pub pool: StatsSnapshot,
}

impl RunReport {
    /// 0 when every task succeeded, 1 when any did not, 130 when interrupted.
    pub fn exit_code(&self) -> u8 {
        if self.interrupted {
            130
        } else if self.tasks.iter().all(|t| t.status == Status::Succeeded) {
            0
        } else {
            1
        }
    }

    pub fn count(&self, status: Status) -> usize {
        self.tasks.iter().filter(|t| t.status == status).count()
    }
}

/// Something that watches a run (the progress bar); all methods have no-op defaults.
pub trait Observer: Send + Sync {
    fn started(&self, _task: &str) {}
    fn finished(&self, _report: &TaskReport) {}
    fn interrupted(&self, _second: bool) {}
}

/// A run in progress: its pool, and how to stop it.
pub struct Runner {
    pub pool: Pool,
    interrupts: Arc<AtomicU8>,
}

impl Runner {
    pub fn new(settings: &RunSettings) -> Self {
        Self { pool: Pool::new(&settings.pool), interrupts: Arc::default() }
    }

    /// Ctrl-C: first stops new work, second aborts in-flight work.
    pub fn interrupt(&self) -> bool {
        let n = self.interrupts.fetch_add(1, Ordering::SeqCst) + 1;
        if n == 1 {
            self.pool.stop();
            false
        } else {
            self.pool.abort();
            true
        }
    }

    pub fn interrupted(&self) -> bool {
        self.interrupts.load(Ordering::SeqCst) > 0
    }

    /// Run every task of `plan`, honouring dependencies.
    pub async fn execute(
        &self,
        plan: Plan,
        client: kube::Client,
        settings: &RunSettings,
        observer: &dyn Observer,
    ) -> RunReport {
        let begin = Instant::now();
        let cluster = Cluster::new(client, settings.dry_run);
        let safety = Arc::new(settings.safety.clone());
        let n = plan.tasks.len();
        let names: Vec<String> = plan.tasks.iter().map(|t| t.name.clone()).collect();
        let mut reports: Vec<Option<TaskReport>> = vec![None; n];
        let mut pending: Vec<Option<PlannedTask>> = plan.tasks.into_iter().map(Some).collect();
        let mut running = FuturesUnordered::new();
        let mut handles: HashMap<usize, tokio::task::AbortHandle> = HashMap::new();
        // A report for each running task, used only if it is aborted or panics.
        let mut skeletons: HashMap<usize, TaskReport> = HashMap::new();
        let abort = self.pool.abort_token();

        loop {
            // Start (or skip) everything whose dependencies are settled.
            let mut progressed = true;
            while progressed {
                progressed = false;
                for i in 0..n {
                    let Some(task) = pending[i].as_ref() else { continue };
                    let deps: Vec<(usize, Option<Status>)> =
                        task.depends_on.iter().map(|&d| (d, reports[d].as_ref().map(|r| r.status))).collect();
                    if let Some(&(bad, _)) =
                        deps.iter().find(|(_, s)| matches!(s, Some(s) if *s != Status::Succeeded))
                    {
                        let task = pending[i].take().expect("pending");
                        let why = format!("`{}` did not succeed", names[bad]);
                        let status = if self.interrupted() { Status::NotStarted } else { Status::Skipped };
                        let report = unstarted(&task, &names, status, why, settings);
                        observer.finished(&report);
                        reports[i] = Some(report);
                        progressed = true;
                        continue;
                    }
                    if deps.iter().any(|(_, s)| s.is_none()) {
                        continue;
                    }
                    let task = pending[i].take().expect("pending");
                    if self.interrupted() {
                        let report = unstarted(
                            &task,
                            &names,
                            Status::NotStarted,
                            "interrupted before it started".into(),
                            settings,
                        );
                        observer.finished(&report);
                        reports[i] = Some(report);
                        progressed = true;
                        continue;
                    }
                    observer.started(&task.name);
                    skeletons.insert(i, unstarted(&task, &names, Status::Cancelled, String::new(), settings));
                    let targets = task.targets.clone().unwrap_or_else(|| settings.default_targets.clone());
                    let upstream = task
                        .depends_on
                        .iter()
                        .filter_map(|&d| reports[d].as_ref())
                        .map(|r| {
                            serde_json::json!({
                                "name": r.name,
                                "type": r.type_name,
                                "status": r.status,
                                "matched": r.matched,
                                "changed": r.changed,
                                "items": r.items,
                            })
                        })
                        .collect();
                    let cx = TaskCx::new(
                        task.name.clone(),
                        cluster.clone(),
                        self.pool.clone(),
                        task.retry.policy(&settings.retry),
                        targets,
                        safety.clone(),
                    )
                    .with_upstream(upstream);
                    let names = names.clone();
                    let handle = tokio::spawn(async move { run_one(task, cx, &names).await });
                    handles.insert(i, handle.abort_handle());
                    running.push(async move { (i, handle.await) });
                }
            }
            if running.is_empty() {
                break;
            }
            let (i, joined) = tokio::select! {
                next = running.next() => next.expect("not empty"),
                _ = abort.cancelled(), if !handles.is_empty() => {
                    for h in handles.values() {
                        h.abort();
                    }
                    continue;
                }
            };
            handles.remove(&i);
            let skeleton = skeletons.remove(&i);
            let report = match joined {
                Ok(mut report) => {
                    if report.status == Status::Failed && self.interrupted() && report.error_is_cancel() {
                        report.status = Status::Cancelled;
                    }
                    report
                }
                Err(join) => {
                    // The task never returned its report: start from what is known of it.
                    let mut report = skeleton.expect("a started task has a skeleton");
                    if join.is_panic() {
                        report.status = Status::Failed;
                        report.error = Some(format!("the task panicked: {join}"));
                    } else {
                        report.status = Status::Cancelled;
                        report.error = Some("aborted by a second Ctrl-C".into());
                    }
                    report
                }
            };
            observer.finished(&report);
            reports[i] = Some(report);
        }

        RunReport {
            tasks: reports.into_iter().map(|r| r.expect("every task is settled")).collect(),
            interrupted: self.interrupted(),
            dry_run: settings.dry_run,
            workers: self.pool.workers(),
            duration_seconds: begin.elapsed().as_secs_f64(),
            pool: self.pool.stats(),
        }
    }
}

impl TaskReport {
    fn error_is_cancel(&self) -> bool {
        self.error.as_deref().is_some_and(|e| e.ends_with("cancelled"))
    }
}

fn unstarted(
    task: &PlannedTask,
    names: &[String],
    status: Status,
    why: String,
    settings: &RunSettings,
) -> TaskReport {
    TaskReport {
        name: task.name.clone(),
        type_name: task.kind.name().to_string(),
        status,
        attempts: 0,
        requests: 0,
        matched: 0,
        changed: 0,
        duration_seconds: 0.0,
        message: why,
        error: None,
        namespaces: task.targets.clone().unwrap_or_else(|| settings.default_targets.clone()),
        file: format!("{}:{}", task.file, task.pos),
        depends_on: task.depends_on.iter().map(|&d| names[d].clone()).collect(),
        items: Items::new(),
    }
}

async fn run_one(task: PlannedTask, cx: TaskCx, names: &[String]) -> TaskReport {
    let begin = Instant::now();
    let result = task.kind.run(&cx, &task.params).await;
    let elapsed = begin.elapsed();
    let (status, output, error) = match result {
        Ok(output) => (Status::Succeeded, output, None),
        Err(e) => {
            let output = e.output().cloned().unwrap_or_default();
            let status = match &e {
                TaskError::Ops(OpsError::Cancelled { .. }) => Status::Cancelled,
                TaskError::Partial { first, .. } if matches!(**first, OpsError::Cancelled { .. }) => {
                    Status::Cancelled
                }
                _ => Status::Failed,
            };
            (status, output, Some(e.to_string()))
        }
    };
    report(&task, &cx, names, status, output, error, elapsed)
}

fn report(
    task: &PlannedTask,
    cx: &TaskCx,
    names: &[String],
    status: Status,
    output: TaskOutput,
    error: Option<String>,
    elapsed: Duration,
) -> TaskReport {
    TaskReport {
        name: task.name.clone(),
        type_name: task.kind.name().to_string(),
        status,
        attempts: cx.attempts(),
        requests: cx.units(),
        matched: output.matched,
        changed: output.changed,
        duration_seconds: elapsed.as_secs_f64(),
        message: output.message,
        error,
        namespaces: cx.targets.clone(),
        file: format!("{}:{}", task.file, task.pos),
        depends_on: task.depends_on.iter().map(|&d| names[d].clone()).collect(),
        items: output.items,
    }
}
