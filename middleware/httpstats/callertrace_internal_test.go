package httpstats

import (
	"net/http"
	"net/http/httptrace"
	"strings"
	"testing"
)

// TestCallerTraceKeepsHeaderValues checks that the header values a
// caller's own ClientTrace is given (WroteHeaderField, composed with the
// call's trace) stay as they were sent after the call ended and later
// calls were made: the traceparent's slice and bytes are not a header
// entry's that a later call reuses. Calls whose context has no trace of
// the caller's own still reuse their entries (TestHeaderMapReused).
func TestCallerTraceKeepsHeaderValues(t *testing.T) {
	srv, base := echoServer(t)
	type kept struct {
		vals []string // as the hook was given them
		was  string   // a copy, made by the hook
	}
	var all []kept
	trace := &httptrace.ClientTrace{
		WroteHeaderField: func(key string, vals []string) {
			if key == "Traceparent" && len(vals) == 1 {
				all = append(all, kept{vals, strings.Clone(vals[0])})
			}
		},
	}
	ctx := httptrace.WithClientTrace(inRecord(t), trace)
	client := &http.Client{Transport: NewTransport(base)}
	got, err := callEach(ctx, client.Do, srv.URL+"/x", gets(20), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(got) {
		t.Fatalf("the caller's hook saw %d traceparents in %d calls", len(all), len(got))
	}
	for i, k := range all {
		if k.was != got[i] {
			t.Errorf("call %d: the hook was given %q, the server got %q", i, k.was, got[i])
		}
		if k.vals[0] != k.was {
			t.Errorf("call %d: the value the hook kept is now %q, was %q when sent", i, k.vals[0], k.was)
		}
	}
}
