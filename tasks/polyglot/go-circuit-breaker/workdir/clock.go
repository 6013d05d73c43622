package breaker

import "time"

// Clock tells the time; tests replace it with a fake.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
