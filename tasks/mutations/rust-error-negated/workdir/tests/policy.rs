use std::time::Duration;

use retrying::{Retry, RetryError};

#[test]
fn backoff_doubles_and_caps() {
    let policy = Retry::new(5).with_backoff(Duration::from_millis(100), Duration::from_millis(350));
    assert_eq!(policy.delay_after(0), Duration::from_millis(100));
    assert_eq!(policy.delay_after(1), Duration::from_millis(200));
    assert_eq!(policy.delay_after(2), Duration::from_millis(350));
    assert_eq!(policy.delay_after(40), Duration::from_millis(350));
}

#[test]
fn no_attempts_never_calls_the_operation() {
    let mut calls = 0;
    let got: Result<(), RetryError<&str>> = Retry::new(0).run(|_| {
        calls += 1;
        Ok(())
    });
    assert_eq!(got, Err(RetryError::NoAttempts));
    assert_eq!(calls, 0);
}
