// Command inventory-api serves stock levels and /healthz.
package main

import (
	"log"
	"net/http"
	"os"

	"example.com/inventory/internal/health"
	"example.com/inventory/internal/stock"
)

func main() {
	db, err := openDB(os.Getenv("INVENTORY_DSN"))
	if err != nil {
		log.Fatalf("database: %v", err)
	}
	checker := health.NewChecker()
	checker.Register("database", stock.PingCheck(db))
	checker.Register("replica_lag", stock.LagCheck(db))

	mux := http.NewServeMux()
	mux.Handle("/healthz", health.Handler(checker))
	mux.Handle("/stock/", stockHandler(db))
	addr := ":8080"
	log.Printf("listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, mux))
}
