package breaker

import "fmt"

// State is the state of a Breaker.
type State int

const (
	// Closed lets every call through.
	Closed State = iota
	// Open rejects every call with ErrOpen.
	Open
	// HalfOpen lets a few trial calls through.
	HalfOpen
)

func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	default:
		return fmt.Sprintf("State(%d)", int(s))
	}
}
