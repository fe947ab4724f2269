//! Retry policy: how many attempts, and how long to wait between them (exponential backoff with
//! full jitter, so many workers retrying at once spread out instead of hitting the server together).

use std::time::Duration;

use super::RetryClass;

/// Attempts and delays for one unit of work. A task file can set these per task
/// (`retry: {attempts, backoff}` or the seed's `maxRetries`/`retryDelay`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RetryPolicy {
    /// Total attempts, the first included (at least 1).
    pub max_attempts: u32,
    /// Delay before the second attempt; doubles each attempt after.
    pub base_delay: Duration,
    /// Upper bound on any one delay.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, 200 ms doubling up to 10 s: rides out an API server restart of a few seconds
    /// without holding a run for minutes.
    fn default() -> Self {
        Self { max_attempts: 5, base_delay: Duration::from_millis(200), max_delay: Duration::from_secs(10) }
    }
}

impl RetryPolicy {
    /// The ceiling of the delay after failed attempt `attempt` (1-based), before jitter.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        self.base_delay.saturating_mul(1u32 << exp).min(self.max_delay)
    }

    /// The delay to sleep after failed attempt `attempt`, for an error of class `class`.
    pub fn delay(&self, attempt: u32, class: RetryClass) -> Duration {
        match class {
            RetryClass::Never => Duration::ZERO,
            // The operation re-reads the object, so a short pause is enough to let the other
            // writer finish; jitter keeps two of ours from colliding again in lockstep.
            RetryClass::Conflict => jitter(self.base_delay.min(Duration::from_millis(50))),
            RetryClass::Transient => jitter(self.ceiling(attempt)),
            RetryClass::After(after) => after.max(jitter(self.ceiling(attempt))),
        }
    }
}

/// A uniformly random duration in `[0, ceiling]` ("full jitter").
fn jitter(ceiling: Duration) -> Duration {
    let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(fastrand::u64(0..=nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_and_caps() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        assert_eq!(p.ceiling(1), Duration::from_millis(100));
        assert_eq!(p.ceiling(2), Duration::from_millis(200));
        assert_eq!(p.ceiling(4), Duration::from_millis(800));
        assert_eq!(p.ceiling(5), Duration::from_secs(1));
        assert_eq!(p.ceiling(60), Duration::from_secs(1));
    }

    #[test]
    fn delays_stay_within_their_ceiling() {
        let p = RetryPolicy::default();
        for attempt in 1..8 {
            for _ in 0..200 {
                assert!(p.delay(attempt, RetryClass::Transient) <= p.ceiling(attempt));
                assert!(p.delay(attempt, RetryClass::Conflict) <= Duration::from_millis(50));
            }
        }
    }

    #[test]
    fn retry_after_is_honoured_as_a_floor() {
        let p = RetryPolicy::default();
        let wait = Duration::from_secs(3);
        for _ in 0..100 {
            assert!(p.delay(1, RetryClass::After(wait)) >= wait);
        }
    }

    #[test]
    fn jitter_spreads_delays() {
        let p = RetryPolicy::default();
        let delays: std::collections::HashSet<_> =
            (0..50).map(|_| p.delay(3, RetryClass::Transient)).collect();
        assert!(delays.len() > 10, "jitter gave only {} distinct delays", delays.len());
    }
}
