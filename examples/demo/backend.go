package main

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// startBackend starts the loopback services the shop depends on, with
// latencies that vary like real ones. The caller closes the listener.
func startBackend() (net.Listener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	slow := func(min, spread time.Duration) { time.Sleep(min + rand.N(spread)) }
	mux.HandleFunc("GET /api/products/{id}", func(w http.ResponseWriter, r *http.Request) {
		slow(5*time.Millisecond, 20*time.Millisecond)
		fmt.Fprintf(w, `{"id":%q,"name":"Gopher plush"}`, r.PathValue("id"))
	})
	mux.HandleFunc("GET /api/recommendations", func(w http.ResponseWriter, r *http.Request) {
		slow(20*time.Millisecond, 40*time.Millisecond)
		fmt.Fprint(w, `["mug","sticker","t-shirt"]`)
	})
	mux.HandleFunc("GET /api/cart", func(w http.ResponseWriter, r *http.Request) {
		slow(3*time.Millisecond, 10*time.Millisecond)
		fmt.Fprint(w, `{"items":2}`)
	})
	mux.HandleFunc("GET /api/banner", func(w http.ResponseWriter, r *http.Request) {
		slow(1*time.Millisecond, 5*time.Millisecond)
		fmt.Fprint(w, `"Free shipping today"`)
	})
	mux.HandleFunc("GET /api/orders", func(w http.ResponseWriter, r *http.Request) {
		slow(5*time.Millisecond, 10*time.Millisecond)
		fmt.Fprint(w, `[101,102,103,104,105,106,107,108]`)
	})
	mux.HandleFunc("GET /api/items", func(w http.ResponseWriter, r *http.Request) {
		slow(2*time.Millisecond, 6*time.Millisecond)
		fmt.Fprint(w, `{"sku":"gopher-1"}`)
	})
	mux.HandleFunc("GET /api/payments", func(w http.ResponseWriter, r *http.Request) {
		slow(10*time.Millisecond, 30*time.Millisecond)
		if rand.IntN(3) == 0 {
			http.Error(w, "card declined", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return ln, nil
}
