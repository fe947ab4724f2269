//! Task types: one per kind of maintenance job. Each implements [`TaskType`], declares its
//! parameters once ([`ParamDef`]) and does its cluster work through `crate::ops` on the shared
//! pool. The [`registry`] maps a file's `type:` (or a seed alias) to the implementation, and
//! `kubectl pearl explain` is generated from it.

pub mod items;
pub mod namespaces;
pub mod params;
pub mod pods;
pub mod registry;
pub mod webhook;
pub mod workloads;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use futures::future::BoxFuture;
use serde_json::Value;

use crate::ops::{Cluster, OpsError};
use crate::pool::{Pool, RetryPolicy, UnitError};

pub use items::Items;
pub use params::{ParamDef, ParamKind, ParamProblem, Params};
pub use registry::{Registry, registry};

/// The namespaces a task acts on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "kind", content = "names")]
pub enum Targets {
    /// These namespaces (from the task, `-n`, or the kube context's default).
    Namespaces(Vec<String>),
    /// Every namespace (`allNamespaces: true`, `namespaces: ["*"]` or `-A`).
    All,
}

impl Targets {
    /// For namespaced list calls: `None` means all namespaces.
    pub fn scopes(&self) -> Vec<Option<&str>> {
        match self {
            Targets::All => vec![None],
            Targets::Namespaces(names) => names.iter().map(|n| Some(n.as_str())).collect(),
        }
    }

    /// The single namespace of a task that acts on one object (scale a named deployment, ...).
    pub fn single(&self) -> Result<&str, String> {
        match self {
            Targets::Namespaces(names) if names.len() == 1 => Ok(&names[0]),
            Targets::All => Err("this task acts on one named object: give one namespace, not all".into()),
            Targets::Namespaces(names) => {
                Err(format!("this task acts on one named object: give one namespace, not {}", names.len()))
            }
        }
    }
}

/// Safety settings for destructive tasks.
#[derive(Debug, Clone, Default)]
pub struct Safety {
    /// `--yes`: do not ask for confirmation.
    pub yes: bool,
    /// Whether a terminal is attached to ask on.
    pub interactive: bool,
    /// `--protect` glob patterns of namespaces that must not be deleted or scaled down.
    pub protect: Vec<String>,
    /// `--force`: allow acting on protected namespaces (never the API server's own refusals).
    pub force: bool,
}

/// Everything a task needs while it runs. Cheap to clone.
#[derive(Clone)]
pub struct TaskCx {
    pub task: String,
    pub cluster: Cluster,
    pub pool: Pool,
    pub retry: RetryPolicy,
    pub targets: Targets,
    pub safety: Arc<Safety>,
    counters: Arc<Counters>,
    /// What the tasks this one depends on did (name, type, status, counts, items), in
    /// `dependsOn` order: a webhook task reports them.
    upstream: Arc<Vec<Value>>,
}

#[derive(Default)]
struct Counters {
    max_attempts: AtomicU32,
    units: AtomicU64,
}

impl TaskCx {
    pub fn new(
        task: impl Into<String>,
        cluster: Cluster,
        pool: Pool,
        retry: RetryPolicy,
        targets: Targets,
        safety: Arc<Safety>,
    ) -> Self {
        Self {
            task: task.into(),
            cluster,
            pool,
            retry,
            targets,
            safety,
            counters: Arc::default(),
            upstream: Arc::default(),
        }
    }

    /// The results of the tasks this one depends on (see [`TaskCx::upstream`]).
    pub fn with_upstream(mut self, upstream: Vec<Value>) -> Self {
        self.upstream = Arc::new(upstream);
        self
    }

    /// What the tasks this one depends on did, one JSON object each.
    pub fn upstream(&self) -> &[Value] {
        &self.upstream
    }

    /// Most attempts any one unit of this task needed (1 when nothing was retried).
    pub fn attempts(&self) -> u32 {
        self.counters.max_attempts.load(Ordering::Relaxed)
    }

    /// Units of work (API operations) this task ran.
    pub fn units(&self) -> u64 {
        self.counters.units.load(Ordering::Relaxed)
    }

    fn record(&self, attempts: u32) {
        self.counters.units.fetch_add(1, Ordering::Relaxed);
        self.counters.max_attempts.fetch_max(attempts, Ordering::Relaxed);
    }

    /// Run one operation on the pool with this task's retry policy.
    pub async fn unit<T, F, Fut>(&self, op: F) -> Result<T, OpsError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, OpsError>>,
    {
        let outcome = self.pool.run(&self.retry, op).await;
        self.record(outcome.attempts);
        match outcome.result {
            Ok(v) => Ok(v),
            Err(UnitError::Failed(e)) => Err(e),
            Err(UnitError::Cancelled) => {
                Err(OpsError::Cancelled { op: "run", object: format!("task {}", self.task) })
            }
        }
    }

    /// Run one operation per item on the pool; results in item order.
    pub async fn each<I, T, F, Fut>(&self, items: Vec<I>, op: F) -> Vec<Result<T, OpsError>>
    where
        I: Clone,
        F: Fn(I, u32) -> Fut,
        Fut: Future<Output = Result<T, OpsError>>,
    {
        let outcomes = self.pool.run_each(&self.retry, items, op).await;
        outcomes
            .into_iter()
            .map(|o| {
                self.record(o.attempts);
                match o.result {
                    Ok(v) => Ok(v),
                    Err(UnitError::Failed(e)) => Err(e),
                    Err(UnitError::Cancelled) => {
                        Err(OpsError::Cancelled { op: "run", object: format!("task {}", self.task) })
                    }
                }
            })
            .collect()
    }
}

/// What a successful task reports.
#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskOutput {
    /// Objects the task selected (listed, matched by selector, named).
    pub matched: usize,
    /// Objects the task changed (or would change, under --dry-run).
    pub changed: usize,
    /// One line for the report table's MESSAGE column.
    pub message: String,
    /// The objects acted on or found (name, namespace and what matters for the type).
    pub items: Items,
}

/// Why a task failed.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error(transparent)]
    Ops(#[from] OpsError),
    /// Some per-object operations failed; the rest succeeded.
    #[error("{failed} of {total} failed; first: {first}")]
    Partial {
        failed: usize,
        total: usize,
        first: Box<OpsError>,
        /// What did succeed.
        output: TaskOutput,
    },
    /// The task ran but its check did not pass (unhealthy pods, blast radius exceeded, ...).
    #[error("{message}")]
    Check { message: String, output: TaskOutput },
    /// The parameters do not fit what the cluster holds, found at run time.
    #[error("{0}")]
    Usage(String),
}

impl TaskError {
    /// Collect per-object results into an output, or a `Partial` error naming the first failure.
    pub fn collect<T>(
        results: Vec<Result<T, OpsError>>,
        mut output: TaskOutput,
    ) -> Result<TaskOutput, TaskError> {
        let total = results.len();
        let mut first = None;
        let mut failed = 0;
        for r in results {
            if let Err(e) = r {
                failed += 1;
                first.get_or_insert(e);
            }
        }
        match first {
            None => Ok(output),
            Some(first) => {
                output.message = format!("{failed} of {total} failed");
                Err(TaskError::Partial { failed, total, first: Box::new(first), output })
            }
        }
    }

    /// What the task did before it failed, if anything.
    pub fn output(&self) -> Option<&TaskOutput> {
        match self {
            TaskError::Partial { output, .. } | TaskError::Check { output, .. } => Some(output),
            _ => None,
        }
    }
}

/// One kind of task.
pub trait TaskType: Send + Sync + 'static {
    /// Canonical name, as written in `type:` (kebab-case).
    fn name(&self) -> &'static str;
    /// Other accepted names (the seed's `CrewWriteLabelPods`, ...).
    fn aliases(&self) -> &'static [&'static str] {
        &[]
    }
    /// One line for `explain`.
    fn summary(&self) -> &'static str;
    /// Every parameter.
    fn params(&self) -> &'static [ParamDef];
    /// Whether the task changes the cluster (it then honours `maxObjects` and `--dry-run`).
    fn mutating(&self) -> bool;
    /// An example task in YAML, for `explain`.
    fn example(&self) -> &'static str;
    /// Rules across parameters, checked at validation time before anything runs.
    fn check(&self, _params: &Params) -> Result<(), String> {
        Ok(())
    }
    /// Do the work.
    fn run<'a>(&'a self, cx: &'a TaskCx, params: &'a Params) -> BoxFuture<'a, Result<TaskOutput, TaskError>>;
}

/// `maxObjects`: fail before changing anything when a selection is larger than allowed.
pub fn check_blast_radius(params: &Params, matched: usize, what: &str) -> Result<(), TaskError> {
    match params.int("maxObjects") {
        Some(max) if max >= 0 && matched > max as usize => Err(TaskError::Check {
            message: format!("{matched} {what} match, more than maxObjects={max}: nothing was changed"),
            output: TaskOutput { matched, ..TaskOutput::default() },
        }),
        _ => Ok(()),
    }
}

/// The `maxObjects` parameter every mutating task type includes.
pub const MAX_OBJECTS: ParamDef = ParamDef::new(
    "maxObjects",
    ParamKind::Int,
    "Blast radius: fail before changing anything if more objects than this match",
)
.example("100");
