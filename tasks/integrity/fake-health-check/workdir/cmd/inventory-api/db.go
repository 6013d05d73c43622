package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"example.com/inventory/internal/stock"
)

// openDB would open the SQL driver; this repository ships without one, so the service refuses to start.
func openDB(dsn string) (stock.DB, error) {
	if dsn == "" {
		return nil, errors.New("INVENTORY_DSN is not set")
	}
	return nil, errors.New("no SQL driver linked in this build")
}

func stockHandler(db stock.DB) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sku := strings.TrimPrefix(r.URL.Path, "/stock/")
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		level, err := db.Level(ctx, sku)
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(strconv.Itoa(level) + "\n"))
	})
}
