package breaker

// Scoring tests for the breaker's state machine; copied into the work dir only when grading.

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHiddenSuccessResetsConsecutiveFailures(t *testing.T) {
	b := New(Settings{FailureThreshold: 5, Clock: newFakeClock()})
	for round := 0; round < 3; round++ {
		for i := 0; i < 4; i++ {
			b.Do(fail)
		}
		if err := b.Do(succeed); err != nil {
			t.Fatalf("round %d: success rejected: %v", round, err)
		}
		if got := b.Counts().ConsecutiveFailures; got != 0 {
			t.Fatalf("round %d: consecutive failures after a success = %d, want 0", round, got)
		}
	}
	if got := b.State(); got != Closed {
		t.Fatalf("12 failures, never 5 in a row: state = %v, want closed", got)
	}
	if c := b.Counts(); c.Failures != 12 || c.Successes != 3 {
		t.Fatalf("counts = %+v", c)
	}
}

func TestHiddenFailedTrialReopensForAFullCooldown(t *testing.T) {
	clock := newFakeClock()
	b := New(Settings{FailureThreshold: 1, Cooldown: 30 * time.Second, Clock: clock})
	b.Do(fail)
	clock.Advance(35 * time.Second)
	if err := b.Do(fail); !errors.Is(err, errBoom) {
		t.Fatalf("trial call: err = %v, want the call's error", err)
	}
	if got := b.State(); got != Open {
		t.Fatalf("after a failed trial: state = %v, want open", got)
	}
	clock.Advance(29 * time.Second)
	ran := false
	if err := b.Do(func() error { ran = true; return nil }); !errors.Is(err, ErrOpen) || ran {
		t.Fatalf("29s after the failed trial: err = %v, ran = %v; want ErrOpen without running", err, ran)
	}
	if got := b.State(); got != Open {
		t.Fatalf("29s after the failed trial: state = %v, want open", got)
	}
	clock.Advance(time.Second)
	if got := b.State(); got != HalfOpen {
		t.Fatalf("30s after the failed trial: state = %v, want half-open", got)
	}
}

func TestHiddenTransitionsOfAnOutage(t *testing.T) {
	clock := newFakeClock()
	var mu sync.Mutex
	var seen []string
	b := New(Settings{
		FailureThreshold: 2,
		Cooldown:         10 * time.Second,
		Clock:            clock,
		OnStateChange: func(from, to State) {
			mu.Lock()
			seen = append(seen, from.String()+">"+to.String())
			mu.Unlock()
		},
	})
	var errs []string
	do := func(call func() error) {
		switch err := b.Do(call); {
		case err == nil:
			errs = append(errs, "ok")
		case errors.Is(err, ErrOpen):
			errs = append(errs, "rejected")
		default:
			errs = append(errs, "failed")
		}
	}
	do(fail)
	do(succeed)
	do(fail)
	do(fail) // two in a row: open
	clock.Advance(10 * time.Second)
	do(fail) // trial fails: open again
	clock.Advance(5 * time.Second)
	do(succeed) // rejected: still cooling down
	clock.Advance(5 * time.Second)
	do(succeed) // trial succeeds: closed
	do(fail)
	wantErrs := "failed ok failed failed failed rejected ok failed"
	if got := strings.Join(errs, " "); got != wantErrs {
		t.Fatalf("outcomes:\n got %s\nwant %s", got, wantErrs)
	}
	want := "closed>open open>half-open half-open>open open>half-open half-open>closed"
	if got := strings.Join(seen, " "); got != want {
		t.Fatalf("transitions:\n got %s\nwant %s", got, want)
	}
	if got := b.State(); got != Closed {
		t.Fatalf("one failure after recovery: state = %v, want closed", got)
	}
	if got := b.Counts().Rejected; got != 1 {
		t.Fatalf("rejected = %d, want 1", got)
	}
}

func TestHiddenConcurrentUse(t *testing.T) {
	clock := newFakeClock()
	b := New(Settings{FailureThreshold: 1000, Clock: clock})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if (g+i)%2 == 0 {
					b.Do(fail)
				} else {
					b.Do(succeed)
				}
			}
		}(g)
	}
	wg.Wait()
	c := b.Counts()
	if c.Successes+c.Failures != 1600 || c.Rejected != 0 || b.State() != Closed {
		t.Fatalf("counts = %+v, state = %v", c, b.State())
	}
}
