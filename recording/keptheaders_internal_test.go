package recording

import (
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestKeptHeadersNoAllocation checks that a request whose record a sink
// may keep (otelexport's way) has its headers kept without an allocation
// once the writer has handed back the spares of earlier records (their
// buffers of header pairs stay with them), and, once the writer has seen
// the same headers twice, matched against the map the writer made of them
// (the record is given that map: the writer makes none), User-Agent
// found in the record's copy; while every record still holds its own
// request's headers, redacted: a secret name's other value matches,
// another value of a name that is not secret gets a map of its own.
func TestKeptHeadersNoAllocation(t *testing.T) {
	sink, records := keptRecords()
	r := New(WithSinks(sink), WithBatch(DefaultBatchSize, 5*time.Millisecond))
	headers := func(accept, auth string) map[string][]string {
		// Each request's own strings, as a server's parser makes them.
		return map[string][]string{
			"User-Agent":    {strings.Clone("Go-http-client/1.1")},
			"Accept":        {strings.Clone(accept)},
			"Authorization": {strings.Clone(auth)},
		}
	}
	written := func(n uint64) {
		t.Helper()
		forceFlush(t, r)
		if w := r.Stats().Written; w < n {
			t.Fatalf("the writer wrote %d records, want %d", w, n)
		}
	}
	serve := func(h map[string][]string) (mallocs uint64, ua string, shared bool) {
		_, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		ar.SetHeaders(h)
		runtime.ReadMemStats(&m1)
		ua, _ = ar.KeptUserAgent()
		shared = ar.r.hdrSame
		ar.Finish()
		return m1.Mallocs - m0.Mallocs, ua, shared
	}
	n := uint64(0)
	for range 3 { // the writer sees the headers twice, and publishes them
		serve(headers("*/*", "Bearer a"))
		n++
		written(n)
	}
	var allocs uint64
	for i := range 10 {
		m, ua, shared := serve(headers("*/*", "Bearer b"+strings.Repeat("x", i)))
		n++
		written(n)
		allocs += m
		if ua != "Go-http-client/1.1" || !shared {
			t.Errorf("request %d: KeptUserAgent %q, given the writer's map %v; want %q, true", i, ua, shared, "Go-http-client/1.1")
		}
	}
	if allocs != 0 {
		t.Errorf("SetHeaders allocated %d times in 10 requests, want 0", allocs)
	}
	if _, _, shared := serve(headers("text/html", "Bearer c")); shared {
		t.Error("a request with another Accept value was given the writer's map")
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := records()
	if len(got) != 14 {
		t.Fatalf("%d records, want 14", len(got))
	}
	for i, rec := range got {
		accept := "*/*"
		if i == 13 {
			accept = "text/html"
		}
		h := rec.Headers
		if len(h) != 3 || len(h["User-Agent"]) != 1 || h["User-Agent"][0] != "Go-http-client/1.1" ||
			len(h["Accept"]) != 1 || h["Accept"][0] != accept || len(h["Authorization"]) != 1 || h["Authorization"][0] != Redacted {
			t.Errorf("record %d: Headers %q", i, h)
		}
	}
	if !sameMap(got[2].Headers, got[12].Headers) || sameMap(got[12].Headers, got[13].Headers) {
		t.Error("records of the same headers do not share their map, or records of other headers do")
	}
}

// sameMap reports whether a and b are the same map (not equal maps).
func sameMap(a, b map[string][]string) bool {
	return *(*uintptr)(unsafe.Pointer(&a)) == *(*uintptr)(unsafe.Pointer(&b))
}
