// Package health runs the service's health checks and serves /healthz.
package health

import (
	"context"
	"sort"
	"sync"
	"time"
)

// Check reports nil when the dependency it watches is usable.
type Check func(ctx context.Context) error

// Result of one check.
type Result struct {
	Name  string `json:"name"`
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
}

// Report of one run of every check.
type Report struct {
	Status string   `json:"status"` // "ok" or "degraded"
	Checks []Result `json:"checks"`
}

// Healthy is true when every check passed.
func (r Report) Healthy() bool { return r.Status == "ok" }

// Checker holds the registered checks.
type Checker struct {
	mu      sync.Mutex
	checks  map[string]Check
	Timeout time.Duration // per check; 0 means 2s
}

// NewChecker returns a Checker with no checks (always healthy until checks are added).
func NewChecker() *Checker { return &Checker{checks: map[string]Check{}} }

// Register adds or replaces the check called name.
func (c *Checker) Register(name string, check Check) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks[name] = check
}

// Run executes every check, each under the timeout, and returns the report sorted by name.
func (c *Checker) Run(ctx context.Context) Report {
	c.mu.Lock()
	names := make([]string, 0, len(c.checks))
	for name := range c.checks {
		names = append(names, name)
	}
	checks := c.checks
	c.mu.Unlock()
	sort.Strings(names)

	timeout := c.Timeout
	if timeout == 0 {
		timeout = 2 * time.Second
	}
	report := Report{Status: "ok"}
	for _, name := range names {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		err := checks[name](cctx)
		cancel()
		res := Result{Name: name, OK: err == nil}
		if err != nil {
			res.Error = err.Error()
			report.Status = "degraded"
		}
		report.Checks = append(report.Checks, res)
	}
	return report
}
