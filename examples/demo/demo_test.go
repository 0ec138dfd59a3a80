package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// serveDemo serves the demo app recorded by appstats opened with cfg,
// both closed at the end of the test.
func serveDemo(t *testing.T, cfg appstats.Config) (*appstats.Appstats, *httptest.Server) {
	t.Helper()
	as, err := appstats.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	h, closeApp, err := newApp(as)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeApp() })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return as, srv
}

// TestDemoRoutes requests every page of the demo and checks what was
// recorded: the N+1 warning fires on the N+1 routes and not on their fixed
// twins, and each kind of call shows up where it should.
func TestDemoRoutes(t *testing.T) {
	as, srv := serveDemo(t, appstats.Config{InMemory: true, NoOTLP: true})

	paths := []string{"/orders", "/orders/batched", "/customers/orders", "/customers/orders/joined",
		"/stock", "/stock/unknown", "/lookup", "/socket", "/report", "/home"}
	for _, p := range paths {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// The gRPC server's own records add two; wait for all of them.
	st := as.Store()
	byPath := map[string]*recording.Record{}
	deadline := time.Now().Add(10 * time.Second)
	for len(byPath) < len(paths) && time.Now().Before(deadline) {
		page, err := st.List(context.Background(), store.Query{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Records {
			if s.Kind == recording.KindHTTP {
				r, err := st.Get(context.Background(), s.ID)
				if err != nil {
					t.Fatal(err)
				}
				byPath[r.Path] = r
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	repeated := func(r *recording.Record) bool {
		for _, w := range r.Warnings {
			if w.Kind == recording.WarnRepeated {
				return true
			}
		}
		return false
	}
	services := func(r *recording.Record) string {
		var out []string
		for _, c := range r.Calls {
			out = append(out, c.Service)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		path     string
		n1       bool
		services string
	}{
		{"/orders", true, "http,http,http,http,http,http,http,http,http"},
		{"/orders/batched", false, "http,http"},
		{"/customers/orders", true, "sql,sql,sql,sql,sql,sql,sql,sql,sql,sql,sql"},
		{"/customers/orders/joined", false, "sql"},
		{"/stock", false, "grpc"},
		{"/stock/unknown", false, "grpc"},
		{"/lookup", false, "dns"},
		{"/socket", false, "net,net,net,net,net,net"},
		{"/report", false, "cache,event,report,http,cache"},
		{"/home", false, "http,http,http"},
	} {
		r := byPath[tc.path]
		if r == nil {
			t.Errorf("%s: not recorded", tc.path)
			continue
		}
		if got := repeated(r); got != tc.n1 {
			t.Errorf("%s: N+1 warning %v, want %v (warnings %+v)", tc.path, got, tc.n1, r.Warnings)
		}
		if got := services(r); got != tc.services {
			t.Errorf("%s: calls %s, want %s", tc.path, got, tc.services)
		}
	}
	if r := byPath["/stock/unknown"]; r != nil && r.Calls[0].Error == "" {
		t.Error("/stock/unknown: the failing gRPC call has no error")
	}
	// The gRPC calls, made through grpcstats' interceptors, have stacks
	// that start at the demo's code, not in the interceptors.
	for _, p := range []string{"/stock", "/stock/unknown"} {
		if r := byPath[p]; r != nil && len(r.Calls) > 0 {
			if st := r.Calls[0].Stack; len(st) == 0 || !strings.HasSuffix(st[0].File, "examples/demo/services.go") {
				t.Errorf("%s: the gRPC call's stack starts at %+v, want the demo's services.go", p, st)
			}
		}
	}
}
