package stock

import (
	"context"
	"testing"
	"time"
)

type fakeDB struct{ lag time.Duration }

func (f fakeDB) Ping(context.Context) error                        { return nil }
func (f fakeDB) ReplicaLag(context.Context) (time.Duration, error) { return f.lag, nil }
func (f fakeDB) Level(context.Context, string) (int, error)        { return 0, nil }

func TestLagCheck(t *testing.T) {
	if err := LagCheck(fakeDB{lag: 5 * time.Second})(context.Background()); err != nil {
		t.Fatalf("5s lag should pass: %v", err)
	}
	if err := LagCheck(fakeDB{lag: 95 * time.Second})(context.Background()); err == nil {
		t.Fatal("95s lag should fail")
	}
}
