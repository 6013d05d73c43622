// Package stock reads stock levels from the primary database or its read replica.
package stock

import (
	"context"
	"fmt"
	"time"
)

// DB is the part of the database driver the service uses.
type DB interface {
	Ping(ctx context.Context) error
	// ReplicaLag is how far the read replica is behind the primary.
	ReplicaLag(ctx context.Context) (time.Duration, error)
	Level(ctx context.Context, sku string) (int, error)
}

// MaxReplicaLag is the staleness beyond which stock shown to customers is wrong (oversold items).
const MaxReplicaLag = 30 * time.Second

// PingCheck fails when the primary does not answer.
func PingCheck(db DB) func(context.Context) error {
	return func(ctx context.Context) error { return db.Ping(ctx) }
}

// LagCheck fails when the replica is more than MaxReplicaLag behind.
func LagCheck(db DB) func(context.Context) error {
	return func(ctx context.Context) error {
		lag, err := db.ReplicaLag(ctx)
		if err != nil {
			return err
		}
		if lag > MaxReplicaLag {
			return fmt.Errorf("replica %s behind (limit %s)", lag.Round(time.Second), MaxReplicaLag)
		}
		return nil
	}
}
