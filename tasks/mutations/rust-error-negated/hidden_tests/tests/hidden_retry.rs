// Scoring tests for `Retry::run_with_sleep`; copied into the work dir only when grading.

mod tests {
    use std::time::Duration;

    use retrying::{Retry, RetryError};

    #[test]
    fn first_attempt_ok_returns_immediately() {
        let mut calls = 0;
        let mut sleeps = Vec::new();
        let got: Result<u32, RetryError<String>> =
            Retry::new(5).run_with_sleep(|d| sleeps.push(d), |_| {
                calls += 1;
                Ok(42)
            });
        assert_eq!(calls, 1);
        assert_eq!(got, Ok(42));
        assert!(sleeps.is_empty(), "no sleep after a success: {:?}", sleeps);
    }

    #[test]
    fn retries_on_error_until_success() {
        let policy = Retry::new(5).with_backoff(Duration::from_millis(10), Duration::from_secs(1));
        let mut sleeps = Vec::new();
        let got = policy.run_with_sleep(|d| sleeps.push(d), |attempt| {
            if attempt < 2 {
                Err(format!("attempt {}", attempt))
            } else {
                Ok(7)
            }
        });
        assert_eq!(got, Ok(7));
        assert_eq!(sleeps, vec![Duration::from_millis(10), Duration::from_millis(20)]);
    }

    #[test]
    fn gives_up_after_max_attempts() {
        let mut calls = 0;
        let mut sleeps = 0;
        let got: Result<(), RetryError<String>> = Retry::new(3).run_with_sleep(|_| sleeps += 1, |attempt| {
            calls += 1;
            Err(format!("attempt {}", attempt))
        });
        assert_eq!(calls, 3);
        assert_eq!(sleeps, 2, "sleep between attempts, not after the last one");
        assert_eq!(got, Err(RetryError::Exhausted { attempts: 3, last: "attempt 2".to_string() }));
    }

    #[test]
    fn zero_max_attempts_errors() {
        let got: Result<(), RetryError<String>> = Retry::new(0).run_with_sleep(|_| {}, |_| Ok(()));
        assert_eq!(got, Err(RetryError::NoAttempts));
    }
}
