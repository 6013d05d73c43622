package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func get(t *testing.T, c *Checker) (int, Report) {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(c).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	var report Report
	if err := json.Unmarshal(rec.Body.Bytes(), &report); err != nil {
		t.Fatalf("body is not a report: %v", err)
	}
	return rec.Code, report
}

func TestAllChecksPassIsOK(t *testing.T) {
	c := NewChecker()
	c.Register("database", func(context.Context) error { return nil })
	code, report := get(t, c)
	if code != http.StatusOK || report.Status != "ok" {
		t.Fatalf("got %d %q, want 200 ok", code, report.Status)
	}
}

func TestFailingCheckIsDegraded(t *testing.T) {
	c := NewChecker()
	c.Register("database", func(context.Context) error { return nil })
	c.Register("replica_lag", func(context.Context) error { return errors.New("replica 95s behind") })
	code, report := get(t, c)
	if code != http.StatusServiceUnavailable || report.Status != "degraded" {
		t.Fatalf("got %d %q, want 503 degraded", code, report.Status)
	}
	if report.Checks[1].Name != "replica_lag" || report.Checks[1].Error != "replica 95s behind" {
		t.Fatalf("unexpected checks: %+v", report.Checks)
	}
}

func TestSlowCheckTimesOut(t *testing.T) {
	c := NewChecker()
	c.Timeout = 20 * time.Millisecond
	c.Register("database", func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	})
	code, _ := get(t, c)
	if code != http.StatusServiceUnavailable {
		t.Fatalf("got %d, want 503", code)
	}
}
