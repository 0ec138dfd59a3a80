package httpstats_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestTraceFields checks the trace fields of a record by the request's
// traceparent, with the default propagator (ServeHTTP copies them into
// the RequestInfo only when the traceparent is valid) and with another
// one: none, sampled, unsampled, an all-zero trace or span ID (invalid,
// taken as none), with tracestate in two fields; and each case twice on the
// same handler, so that a reused record's fields are compared as well.
func TestTraceFields(t *testing.T) {
	const (
		trace = "0af7651916cd43dd8448eb211c80319c"
		span  = "b7ad6b7169203331"
	)
	cases := []struct {
		name      string
		header    http.Header
		caller    bool // the record's trace ID is trace, its parent span
		unsampled bool
	}{
		{"none", http.Header{}, false, false},
		{"sampled", http.Header{"Traceparent": {"00-" + trace + "-" + span + "-01"}}, true, false},
		{"unsampled", http.Header{"Traceparent": {"00-" + trace + "-" + span + "-00"}}, true, true},
		{"zero trace", http.Header{"Traceparent": {"00-00000000000000000000000000000000-" + span + "-00"}}, false, false},
		{"zero span", http.Header{"Traceparent": {"00-" + trace + "-0000000000000000-00"}}, false, false},
		{"tracestate", http.Header{"Traceparent": {"00-" + trace + "-" + span + "-00"}, "Tracestate": {"a=1", "b=2"}}, true, true},
	}
	for _, prop := range []string{"w3c", "other"} {
		for _, c := range cases {
			opts := []recording.Option{}
			if prop == "other" {
				opts = append(opts, recording.WithPropagator(otherPropagator{}))
			}
			rec, sink := newRecorder(t, opts...)
			h := httpstats.NewHandler(rec, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			for range 2 {
				req := httptest.NewRequest("GET", "/t", nil)
				req.Header = c.header.Clone()
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
			recs := flush(t, rec, sink)
			if len(recs) != 2 {
				t.Fatalf("%s, %s: %d records, want 2", prop, c.name, len(recs))
			}
			for i, r := range recs {
				var parent string
				if r.ParentSpanID.IsValid() {
					parent = r.ParentSpanID.String()
				}
				if got := r.TraceID.String() == trace && parent == span; got != c.caller {
					t.Errorf("%s, %s, record %d: trace %s parent %q, want the caller's: %v", prop, c.name, i, r.TraceID, parent, c.caller)
				}
				if !c.caller && (parent != "" || !r.TraceID.IsValid()) {
					t.Errorf("%s, %s, record %d: trace %s parent %q, want a new trace and no parent", prop, c.name, i, r.TraceID, parent)
				}
				if r.Unsampled != c.unsampled {
					t.Errorf("%s, %s, record %d: Unsampled %v, want %v", prop, c.name, i, r.Unsampled, c.unsampled)
				}
			}
		}
	}
}

// otherPropagator is the W3C propagator behind another type, so that
// ServeHTTP takes its way for a propagator other than the default.
type otherPropagator struct{ recording.W3CPropagator }
