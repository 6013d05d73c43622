// Package breaker is a circuit breaker for calls to a flaky dependency (see README.md).
package breaker

import (
	"errors"
	"sync"
	"time"
)

// ErrOpen is returned by Do, without running the call, while the breaker rejects calls.
var ErrOpen = errors.New("breaker: circuit open")

// Settings configures a Breaker; zero fields take the defaults below.
type Settings struct {
	// FailureThreshold is the number of consecutive failures that opens the breaker (default 5).
	FailureThreshold int
	// Cooldown is how long the breaker stays open before trying again (default 30s).
	Cooldown time.Duration
	// HalfOpenMaxCalls is the number of trial calls allowed in flight when half-open (default 1).
	HalfOpenMaxCalls int
	// OnStateChange, if set, is called after every transition, outside the lock.
	OnStateChange func(from, to State)
	// Clock defaults to the system clock.
	Clock Clock
}

// Counts are the breaker's statistics.
type Counts struct {
	Successes           int
	Failures            int
	ConsecutiveFailures int
	Rejected            int
}

// Breaker is a circuit breaker. The zero value is not usable; call New.
type Breaker struct {
	settings Settings

	mu       sync.Mutex
	state    State
	openedAt time.Time
	inFlight int
	counts   Counts
}

// New returns a closed breaker.
func New(s Settings) *Breaker {
	if s.FailureThreshold <= 0 {
		s.FailureThreshold = 5
	}
	if s.Cooldown <= 0 {
		s.Cooldown = 30 * time.Second
	}
	if s.HalfOpenMaxCalls <= 0 {
		s.HalfOpenMaxCalls = 1
	}
	if s.Clock == nil {
		s.Clock = systemClock{}
	}
	return &Breaker{settings: s}
}

// State returns the current state, moving from open to half-open when the cooldown is over.
func (b *Breaker) State() State {
	b.mu.Lock()
	from, to := b.refresh()
	state := b.state
	b.mu.Unlock()
	b.notify(from, to)
	return state
}

// Counts returns a copy of the statistics.
func (b *Breaker) Counts() Counts {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.counts
}

// Do runs call if the breaker allows it and records its outcome (a non-nil error is a
// failure). It returns ErrOpen without running call when the breaker rejects it.
func (b *Breaker) Do(call func() error) error {
	if err := b.before(); err != nil {
		return err
	}
	err := call()
	b.after(err == nil)
	return err
}

func (b *Breaker) before() error {
	b.mu.Lock()
	from, to := b.refresh()
	var err error
	switch {
	case b.state == Open:
		err = ErrOpen
	case b.state == HalfOpen && b.inFlight >= b.settings.HalfOpenMaxCalls:
		err = ErrOpen
	}
	if err != nil {
		b.counts.Rejected++
	} else {
		b.inFlight++
	}
	b.mu.Unlock()
	b.notify(from, to)
	return err
}

func (b *Breaker) after(ok bool) {
	b.mu.Lock()
	b.inFlight--
	from := b.state
	if ok {
		b.counts.Successes++
		// Only consecutive failures count: any success starts the count again.
		b.counts.ConsecutiveFailures = 0
		if b.state == HalfOpen {
			b.state = Closed
		}
	} else {
		b.counts.Failures++
		b.counts.ConsecutiveFailures++
		switch b.state {
		case Closed:
			if b.counts.ConsecutiveFailures >= b.settings.FailureThreshold {
				b.state = Open
				b.openedAt = b.settings.Clock.Now()
			}
		case HalfOpen:
			// A failed trial opens the breaker for a full cooldown, counted from now.
			b.state = Open
			b.openedAt = b.settings.Clock.Now()
		}
	}
	to := b.state
	b.mu.Unlock()
	b.notify(from, to)
}

// refresh moves an open breaker whose cooldown is over to half-open; call with mu held.
func (b *Breaker) refresh() (from, to State) {
	from = b.state
	if b.state == Open && !b.settings.Clock.Now().Before(b.openedAt.Add(b.settings.Cooldown)) {
		b.state = HalfOpen
	}
	return from, b.state
}

func (b *Breaker) notify(from, to State) {
	if from != to && b.settings.OnStateChange != nil {
		b.settings.OnStateChange(from, to)
	}
}
