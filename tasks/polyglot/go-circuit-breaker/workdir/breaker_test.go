package breaker

import (
	"errors"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 5, 14, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

var errBoom = errors.New("boom")

func fail() error    { return errBoom }
func succeed() error { return nil }

func TestOpensAfterThresholdFailures(t *testing.T) {
	b := New(Settings{FailureThreshold: 3, Clock: newFakeClock()})
	for i := 0; i < 2; i++ {
		if err := b.Do(fail); !errors.Is(err, errBoom) {
			t.Fatalf("call %d: err = %v, want the call's error", i, err)
		}
	}
	if got := b.State(); got != Closed {
		t.Fatalf("after 2 failures: state = %v, want closed", got)
	}
	b.Do(fail)
	if got := b.State(); got != Open {
		t.Fatalf("after 3 failures: state = %v, want open", got)
	}
}

func TestOpenRejectsWithoutCalling(t *testing.T) {
	b := New(Settings{FailureThreshold: 1, Clock: newFakeClock()})
	b.Do(fail)
	ran := false
	err := b.Do(func() error { ran = true; return nil })
	if !errors.Is(err, ErrOpen) || ran {
		t.Fatalf("open breaker: err = %v, ran = %v", err, ran)
	}
	if got := b.Counts().Rejected; got != 1 {
		t.Fatalf("rejected = %d, want 1", got)
	}
}

func TestHalfOpenAfterCooldownThenCloses(t *testing.T) {
	clock := newFakeClock()
	b := New(Settings{FailureThreshold: 1, Cooldown: 10 * time.Second, Clock: clock})
	b.Do(fail)
	clock.Advance(9 * time.Second)
	if got := b.State(); got != Open {
		t.Fatalf("before cooldown: state = %v, want open", got)
	}
	clock.Advance(time.Second)
	if got := b.State(); got != HalfOpen {
		t.Fatalf("after cooldown: state = %v, want half-open", got)
	}
	if err := b.Do(succeed); err != nil {
		t.Fatalf("trial call: %v", err)
	}
	if got := b.State(); got != Closed {
		t.Fatalf("after a good trial: state = %v, want closed", got)
	}
}

func TestHalfOpenLimitsTrialCalls(t *testing.T) {
	clock := newFakeClock()
	b := New(Settings{FailureThreshold: 1, Cooldown: time.Second, Clock: clock})
	b.Do(fail)
	clock.Advance(time.Second)
	var inner error
	b.Do(func() error {
		inner = b.Do(succeed) // a second trial while the first is in flight
		return nil
	})
	if !errors.Is(inner, ErrOpen) {
		t.Fatalf("second concurrent trial: err = %v, want ErrOpen", inner)
	}
}

func TestDefaults(t *testing.T) {
	b := New(Settings{})
	if b.settings.FailureThreshold != 5 || b.settings.Cooldown != 30*time.Second || b.settings.HalfOpenMaxCalls != 1 {
		t.Fatalf("defaults = %+v", b.settings)
	}
}

func TestStateChangeCallback(t *testing.T) {
	var seen []string
	b := New(Settings{
		FailureThreshold: 2,
		Clock:            newFakeClock(),
		OnStateChange:    func(from, to State) { seen = append(seen, from.String()+">"+to.String()) },
	})
	b.Do(fail)
	b.Do(fail)
	if len(seen) != 1 || seen[0] != "closed>open" {
		t.Fatalf("transitions = %v", seen)
	}
}

func TestStateString(t *testing.T) {
	if HalfOpen.String() != "half-open" || State(7).String() != "State(7)" {
		t.Fatal("State.String")
	}
}
