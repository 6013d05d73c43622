//! Retry an operation with capped exponential backoff.
//!
//! ```text
//! let policy = Retry::new(5).with_backoff(Duration::from_millis(50), Duration::from_secs(2));
//! let body = policy.run(|attempt| client.get(url, attempt))?;
//! ```

use std::fmt;
use std::time::Duration;

/// Why [`Retry::run`] gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryError<E> {
    /// The policy allows zero attempts, so the operation never ran.
    NoAttempts,
    /// Every attempt failed; `last` is the error of the final attempt.
    Exhausted { attempts: u32, last: E },
}

impl<E: fmt::Display> fmt::Display for RetryError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetryError::NoAttempts => write!(f, "retry policy allows no attempts"),
            RetryError::Exhausted { attempts, last } => {
                write!(f, "gave up after {} attempt(s): {}", attempts, last)
            }
        }
    }
}

/// A retry policy: how many attempts, and how long to wait between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
}

impl Retry {
    /// A policy of `max_attempts` attempts with no delay between them.
    pub fn new(max_attempts: u32) -> Self {
        Retry { max_attempts, base_delay: Duration::ZERO, max_delay: Duration::ZERO }
    }

    /// Waits `base * 2^n` after the n-th failed attempt (0-based), never more than `max`.
    pub fn with_backoff(self, base: Duration, max: Duration) -> Self {
        Retry { base_delay: base, max_delay: max, ..self }
    }

    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The wait after failed attempt `attempt` (0-based).
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt).unwrap_or(u32::MAX);
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Runs `op` until it succeeds or the attempts are used up, sleeping between attempts.
    ///
    /// `op` receives the 0-based attempt number.
    pub fn run<T, E, F>(&self, op: F) -> Result<T, RetryError<E>>
    where
        F: FnMut(u32) -> Result<T, E>,
    {
        self.run_with_sleep(std::thread::sleep, op)
    }

    /// [`Retry::run`] with an injectable sleep, for tests and async wrappers.
    pub fn run_with_sleep<T, E, F, S>(&self, mut sleep: S, mut op: F) -> Result<T, RetryError<E>>
    where
        F: FnMut(u32) -> Result<T, E>,
        S: FnMut(Duration),
    {
        for attempt in 0..self.max_attempts {
            let outcome = op(attempt);
            let last_attempt = attempt + 1 == self.max_attempts;
            if outcome.is_err() || last_attempt {
                return outcome.map_err(|last| RetryError::Exhausted { attempts: attempt + 1, last });
            }
            sleep(self.delay_after(attempt));
        }
        Err(RetryError::NoAttempts)
    }
}
