package convention_test

import (
	"net/http"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// CanonicalHeaderKey is net/http's canonical form of every key, and
// allocates nothing for the propagation fields.
func TestCanonicalHeaderKey(t *testing.T) {
	for _, k := range []string{"traceparent", "tracestate", "baggage", "Traceparent", "x-request-id", "content-type", "X-FOO-bar", "", "a b"} {
		if got, want := convention.CanonicalHeaderKey(k), http.CanonicalHeaderKey(k); got != want {
			t.Errorf("CanonicalHeaderKey(%q) = %q, want %q", k, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		convention.CanonicalHeaderKey("traceparent")
		convention.CanonicalHeaderKey("tracestate")
		convention.CanonicalHeaderKey("baggage")
	}); n != 0 {
		t.Errorf("%v allocations for the propagation fields, want 0", n)
	}
}
