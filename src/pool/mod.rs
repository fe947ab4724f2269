//! The worker pool: bounded concurrency, an optional client rate limit, retries with exponential
//! backoff and jitter for errors that say they are retryable, and cancellation. It knows nothing of
//! Kubernetes: every task, every fan-out inside a task and every script binding runs its requests
//! through one `Pool`, so `--workers` bounds what is in flight for the whole run.

pub mod backoff;

use std::future::Future;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub use backoff::RetryPolicy;

/// How an error wants to be retried. Anything not listed as retryable is final on first sight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryClass {
    /// Bad input, permission, not found: retrying cannot help.
    Never,
    /// The object changed under us (409): re-read and re-apply at once (the operation re-reads).
    Conflict,
    /// Server overload, 5xx, timeout or a dropped connection: back off and try again.
    Transient,
    /// The server said when to come back (429 with Retry-After).
    After(Duration),
}

/// Implemented by error types that run on the pool.
pub trait Retryable {
    fn retry_class(&self) -> RetryClass;
}

/// Pool settings, from `--workers`, `--qps` and `--burst`.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Units of work in flight at once. Default 32: the API server's per-user share under API
    /// Priority and Fairness (about 49 seats in `global-default`) is the real limit, and kube's
    /// HTTP/1.1 client opens one connection per request in flight.
    pub workers: usize,
    /// Client-side requests per second (no limit when `None`).
    pub qps: Option<f64>,
    /// Requests allowed at once above `qps` after a quiet spell.
    pub burst: u32,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self { workers: 32, qps: None, burst: 10 }
    }
}

/// Why a unit of work produced no value.
#[derive(Debug, thiserror::Error)]
pub enum UnitError<E> {
    /// The operation failed for good (final error or retries used up).
    #[error(transparent)]
    Failed(E),
    /// The run was cancelled before the unit could finish.
    #[error("cancelled before it finished")]
    Cancelled,
}

/// What one unit of work came to.
#[derive(Debug)]
pub struct Outcome<T, E> {
    pub result: Result<T, UnitError<E>>,
    /// Attempts made (0 when cancelled before the first).
    pub attempts: u32,
    pub elapsed: Duration,
}

/// Counters over the whole run, for the report and progress bar.
#[derive(Debug, Default)]
pub struct Stats {
    pub units_started: AtomicU64,
    pub units_done: AtomicU64,
    pub attempts: AtomicU64,
    pub retries: AtomicU64,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    pub units_started: u64,
    pub units_done: u64,
    pub attempts: u64,
    pub retries: u64,
}

struct Inner {
    permits: Semaphore,
    workers: usize,
    limiter: Option<DefaultDirectRateLimiter>,
    /// Set on the first Ctrl-C: no new unit or attempt starts; in-flight ones finish.
    stop: CancellationToken,
    /// Set on the second Ctrl-C: in-flight attempts are dropped too.
    abort: CancellationToken,
    stats: Stats,
}

/// A cheap handle to the shared pool.
#[derive(Clone)]
pub struct Pool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("workers", &self.inner.workers).finish()
    }
}

impl Pool {
    pub fn new(config: &PoolConfig) -> Self {
        let workers = config.workers.max(1);
        let limiter = config.qps.filter(|q| *q > 0.0).map(|qps| {
            let burst = NonZeroU32::new(config.burst.max(1)).expect("burst is at least 1");
            let period = Duration::from_secs_f64(1.0 / qps);
            let quota = Quota::with_period(period).expect("qps is positive").allow_burst(burst);
            RateLimiter::direct(quota)
        });
        Self {
            inner: Arc::new(Inner {
                permits: Semaphore::new(workers),
                workers,
                limiter,
                stop: CancellationToken::new(),
                abort: CancellationToken::new(),
                stats: Stats::default(),
            }),
        }
    }

    pub fn workers(&self) -> usize {
        self.inner.workers
    }

    /// Stop taking new work; what is in flight finishes.
    pub fn stop(&self) {
        self.inner.stop.cancel();
    }

    /// Drop in-flight work too (second Ctrl-C).
    pub fn abort(&self) {
        self.inner.stop.cancel();
        self.inner.abort.cancel();
    }

    pub fn is_stopped(&self) -> bool {
        self.inner.stop.is_cancelled()
    }

    /// A token cancelled when the pool stops: long waits (watches, sleeps) select on it.
    pub fn stop_token(&self) -> CancellationToken {
        self.inner.stop.clone()
    }

    /// A token cancelled on abort (second Ctrl-C): the runner drops running tasks on it.
    pub fn abort_token(&self) -> CancellationToken {
        self.inner.abort.clone()
    }

    pub fn stats(&self) -> StatsSnapshot {
        let s = &self.inner.stats;
        StatsSnapshot {
            units_started: s.units_started.load(Ordering::Relaxed),
            units_done: s.units_done.load(Ordering::Relaxed),
            attempts: s.attempts.load(Ordering::Relaxed),
            retries: s.retries.load(Ordering::Relaxed),
        }
    }

    /// Run one unit of work: each attempt holds a worker slot (and a rate-limit token) only while
    /// it runs; between attempts the slot is free for others. `op` gets the attempt number (from 1)
    /// and must re-read what it changes, so a retry after a conflict re-applies on fresh state.
    pub async fn run<T, E, F, Fut>(&self, policy: &RetryPolicy, mut op: F) -> Outcome<T, E>
    where
        E: Retryable,
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let inner = &self.inner;
        let started = Instant::now();
        let mut attempts = 0u32;
        let cancelled =
            |attempts| Outcome { result: Err(UnitError::Cancelled), attempts, elapsed: started.elapsed() };
        if inner.stop.is_cancelled() {
            return cancelled(0);
        }
        inner.stats.units_started.fetch_add(1, Ordering::Relaxed);
        let outcome = loop {
            let permit = tokio::select! {
                biased;
                _ = inner.stop.cancelled() => break cancelled(attempts),
                permit = inner.permits.acquire() => permit.expect("pool semaphore is never closed"),
            };
            if let Some(limiter) = &inner.limiter {
                tokio::select! {
                    biased;
                    _ = inner.stop.cancelled() => break cancelled(attempts),
                    _ = limiter.until_ready() => {}
                }
            }
            attempts += 1;
            inner.stats.attempts.fetch_add(1, Ordering::Relaxed);
            let result = tokio::select! {
                biased;
                _ = inner.abort.cancelled() => break cancelled(attempts),
                r = op(attempts) => r,
            };
            drop(permit);
            let error = match result {
                Ok(value) => {
                    break Outcome { result: Ok(value), attempts, elapsed: started.elapsed() };
                }
                Err(e) => e,
            };
            let class = error.retry_class();
            if class == RetryClass::Never || attempts >= policy.max_attempts {
                break Outcome {
                    result: Err(UnitError::Failed(error)),
                    attempts,
                    elapsed: started.elapsed(),
                };
            }
            inner.stats.retries.fetch_add(1, Ordering::Relaxed);
            let delay = policy.delay(attempts, class);
            tokio::select! {
                biased;
                _ = inner.stop.cancelled() => break Outcome {
                    result: Err(UnitError::Failed(error)),
                    attempts,
                    elapsed: started.elapsed(),
                },
                _ = tokio::time::sleep(delay) => {}
            }
        };
        inner.stats.units_done.fetch_add(1, Ordering::Relaxed);
        outcome
    }

    /// Run `op` once per item, all on this pool (at most `workers` in flight across the whole
    /// run), and return the outcomes in the items' order.
    pub async fn run_each<I, T, E, F, Fut>(
        &self,
        policy: &RetryPolicy,
        items: impl IntoIterator<Item = I>,
        op: F,
    ) -> Vec<Outcome<T, E>>
    where
        I: Clone,
        E: Retryable,
        F: Fn(I, u32) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let op = &op;
        let mut running: FuturesUnordered<_> = items
            .into_iter()
            .enumerate()
            .map(|(index, item)| async move {
                let outcome = self.run(policy, |attempt| op(item.clone(), attempt)).await;
                (index, outcome)
            })
            .collect();
        let mut outcomes: Vec<Option<Outcome<T, E>>> = (0..running.len()).map(|_| None).collect();
        while let Some((index, outcome)) = running.next().await {
            outcomes[index] = Some(outcome);
        }
        outcomes.into_iter().map(|o| o.expect("every unit reports")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[derive(Debug)]
    struct E(RetryClass);
    impl Retryable for E {
        fn retry_class(&self) -> RetryClass {
            self.0
        }
    }

    fn fast_policy(max_attempts: u32) -> RetryPolicy {
        RetryPolicy {
            max_attempts,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
        }
    }

    #[tokio::test]
    async fn final_errors_are_not_retried() {
        let pool = Pool::new(&PoolConfig::default());
        let out = pool.run(&fast_policy(5), |_| async { Err::<(), _>(E(RetryClass::Never)) }).await;
        assert_eq!(out.attempts, 1);
        assert!(matches!(out.result, Err(UnitError::Failed(E(RetryClass::Never)))));
    }

    #[tokio::test]
    async fn transient_errors_retry_until_success() {
        let pool = Pool::new(&PoolConfig::default());
        let out = pool
            .run(&fast_policy(5), |attempt| async move {
                if attempt < 3 { Err(E(RetryClass::Transient)) } else { Ok(attempt) }
            })
            .await;
        assert_eq!(out.attempts, 3);
        assert_eq!(out.result.unwrap(), 3);
        assert_eq!(pool.stats().retries, 2);
    }

    #[tokio::test]
    async fn retries_stop_at_the_policy_limit() {
        let pool = Pool::new(&PoolConfig::default());
        let out = pool.run(&fast_policy(4), |_| async { Err::<(), _>(E(RetryClass::Conflict)) }).await;
        assert_eq!(out.attempts, 4);
        assert!(out.result.is_err());
    }

    #[tokio::test]
    async fn concurrency_never_exceeds_workers() {
        let pool = Pool::new(&PoolConfig { workers: 3, ..PoolConfig::default() });
        let now = AtomicU32::new(0);
        let peak = AtomicU32::new(0);
        let outs = pool
            .run_each(&fast_policy(1), 0..40, |i, _| {
                let (now, peak) = (&now, &peak);
                async move {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, E>(i)
                }
            })
            .await;
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        let values: Vec<i32> = outs.into_iter().map(|o| o.result.unwrap()).collect();
        assert_eq!(values, (0..40).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn stopped_pool_starts_nothing_new() {
        let pool = Pool::new(&PoolConfig::default());
        pool.stop();
        let out = pool.run(&fast_policy(3), |_| async { Ok::<_, E>(1) }).await;
        assert_eq!(out.attempts, 0);
        assert!(matches!(out.result, Err(UnitError::Cancelled)));
    }
}
