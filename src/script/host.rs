//! The running script's context, reached by the bindings. The one shared [`Engine`](rhai::Engine)
//! is built once; what differs per run (cluster, pool, deadline, limits) lives in a [`Host`] that
//! is installed on the thread executing the script (and on threads running its closures in
//! parallel) for as long as it runs.
//!
//! Bindings are sync Rhai functions running on a blocking thread; [`Host::block`] bridges them to
//! the async ops layer with the runtime handle, and stops waiting when the script's deadline
//! passes or the run is cancelled (`on_progress` only stops script code, not a binding waiting on
//! the cluster).

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rhai::{AST, Dynamic, EvalAltResult, Position};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::ops::OpsError;
use crate::tasks::{TaskCx, TaskError};

/// Limits of one script run.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock time for the whole script, bindings included.
    pub timeout: Duration,
    /// Rhai operations (0 = no limit).
    pub max_operations: u64,
    /// Blast radius for bulk mutating helpers (`maxObjects`).
    pub max_objects: Option<usize>,
}

/// What a script run needs while it runs.
pub struct Host {
    pub cx: TaskCx,
    pub handle: tokio::runtime::Handle,
    pub limits: Limits,
    pub deadline: Instant,
    /// Cancelled when the run stops (Ctrl-C), the deadline passes or the task is dropped.
    pub stop: CancellationToken,
    /// The compiled script, for calling its closures from other threads.
    pub ast: Arc<AST>,
    matched: AtomicUsize,
    changed: AtomicUsize,
}

impl Host {
    pub fn new(cx: TaskCx, handle: tokio::runtime::Handle, limits: Limits, ast: Arc<AST>) -> Self {
        let stop = cx.pool.stop_token().child_token();
        Self {
            cx,
            handle,
            limits,
            deadline: Instant::now() + limits.timeout,
            stop,
            ast,
            matched: AtomicUsize::new(0),
            changed: AtomicUsize::new(0),
        }
    }

    /// Objects found by bindings so far (lists, gets).
    pub fn matched(&self) -> usize {
        self.matched.load(Ordering::Relaxed)
    }

    /// Objects changed (or, under --dry-run, that would change) by bindings so far.
    pub fn changed(&self) -> usize {
        self.changed.load(Ordering::Relaxed)
    }

    pub fn add_matched(&self, n: usize) {
        self.matched.fetch_add(n, Ordering::Relaxed);
    }

    pub fn add_changed(&self, n: usize) {
        self.changed.fetch_add(n, Ordering::Relaxed);
    }

    fn timeout_message(&self) -> String {
        format!("script exceeded its timeout of {}", humantime::format_duration(self.limits.timeout))
    }

    /// Why the script must stop now, if it must.
    pub fn stop_reason(&self) -> Option<String> {
        if Instant::now() >= self.deadline {
            self.stop.cancel();
            return Some(self.timeout_message());
        }
        if self.stop.is_cancelled() {
            return Some("script stopped: the run was cancelled".into());
        }
        None
    }

    /// Wait for an async operation from the script's (blocking) thread. Returns a terminating
    /// error when the deadline passes or the run is cancelled first.
    pub fn block<T>(&self, fut: impl Future<Output = Result<T, OpsError>>) -> Result<T, Box<EvalAltResult>> {
        self.block_raw(fut)?.map_err(ops_error)
    }

    /// As [`block`](Self::block), for futures that cannot fail (sleeps) or fail otherwise.
    pub fn block_raw<T>(&self, fut: impl Future<Output = T>) -> Result<T, Box<EvalAltResult>> {
        if let Some(reason) = self.stop_reason() {
            return Err(terminate(reason));
        }
        let deadline = self.deadline;
        let stop = self.stop.clone();
        let outcome = self.handle.block_on(async move {
            tokio::select! {
                biased;
                _ = stop.cancelled() => None,
                _ = tokio::time::sleep_until(deadline) => None,
                r = fut => Some(r),
            }
        });
        match outcome {
            Some(v) => Ok(v),
            None => Err(terminate(self.stop_reason().unwrap_or_else(|| self.timeout_message()))),
        }
    }
}

/// A runtime error the script can catch (a failed cluster operation, a bad argument).
pub fn runtime_error(message: impl Into<String>) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorRuntime(Dynamic::from(message.into()), Position::NONE))
}

/// A cluster error inside a binding: its text names the operation and the object.
pub fn ops_error(e: OpsError) -> Box<EvalAltResult> {
    runtime_error(e.to_string())
}

/// A task submitted by a script failed.
pub fn task_error(e: &TaskError) -> Box<EvalAltResult> {
    runtime_error(e.to_string())
}

/// An error that ends the script (try/catch cannot swallow it): deadline or cancellation.
pub fn terminate(reason: String) -> Box<EvalAltResult> {
    Box::new(EvalAltResult::ErrorTerminated(Dynamic::from(reason), Position::NONE))
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Host>>> = const { RefCell::new(None) };
}

/// Installs a host on this thread until dropped (restoring the previous one).
pub struct Entered {
    previous: Option<Arc<Host>>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CURRENT.with(|c| *c.borrow_mut() = previous);
    }
}

/// Make `host` the current one on this thread.
pub fn enter(host: Arc<Host>) -> Entered {
    let previous = CURRENT.with(|c| c.borrow_mut().replace(host));
    Entered { previous }
}

/// The host of the script running on this thread.
pub fn current() -> Result<Arc<Host>, Box<EvalAltResult>> {
    CURRENT.with(|c| c.borrow().clone()).ok_or_else(|| runtime_error("this function needs a running script"))
}

/// The engine's `on_progress` hook: enforce the operations limit, the deadline and cancellation.
pub fn progress(ops: u64) -> Option<Dynamic> {
    CURRENT.with(|c| {
        let host = c.borrow();
        let host = host.as_ref()?;
        let max = host.limits.max_operations;
        if max > 0 && ops > max {
            return Some(Dynamic::from(format!(
                "script exceeded maxOperations={max} (an endless loop?); raise maxOperations if it is not"
            )));
        }
        // Reading the clock on every operation would cost more than the operation.
        if ops.is_multiple_of(512) {
            return host.stop_reason().map(Dynamic::from);
        }
        None
    })
}

/// The task name of the running script, for log lines.
pub fn task_name() -> String {
    CURRENT.with(|c| c.borrow().as_ref().map(|h| h.cx.task.clone())).unwrap_or_default()
}
