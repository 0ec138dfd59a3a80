package httpstats_test

import (
	"context"
	"net/http"
	"testing"
)

// panickyTransport is a base RoundTripper that panics with its own value.
type panickyTransport struct{ v *int }

func (p panickyTransport) RoundTrip(*http.Request) (*http.Response, error) { panic(p.v) }

// TestTransportBasePanicEndsCall checks that a base RoundTripper that
// panics reaches the caller with its very panic value, and that the call
// is ended, as an error, rather than left running in the finished record.
func TestTransportBasePanicEndsCall(t *testing.T) {
	v := new(int)
	var got any
	r := recordRequest(t, panickyTransport{v}, func(ctx context.Context, client *http.Client) {
		defer func() { got = recover() }()
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://backend.test/x", nil)
		client.Do(req)
	})
	if got != any(v) {
		t.Fatalf("recovered %#v, want the base transport's panic value", got)
	}
	if len(r.Calls) != 1 {
		t.Fatalf("%d calls, want 1", len(r.Calls))
	}
	c := r.Calls[0]
	if c.Running || c.Error != "panicked" || c.Attr("error.type") != "panic" {
		t.Errorf("call %s: running %v, error %q, error.type %q; want it ended, panicked", c.Method, c.Running, c.Error, c.Attr("error.type"))
	}
}
