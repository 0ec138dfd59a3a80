package httpstats_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
)

type outerWriterKey struct{}

// TestOuterRecordOtherWriter serves, inside recorded request /b, a
// sub-request /a of its own (recorded), whose handler hands a request that
// shares /a's header map and carries /a's record, in a context of other
// middleware, to an inner handler of the same recorder — with /b's writer,
// not /a's. The writer is another request's: the inner does not pass the
// request through to /a's record (whose writer it is not), and records it,
// three records in all.
func TestOuterRecordOtherWriter(t *testing.T) {
	rec, sink := newRecorder(t)
	inner := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "inner")
	}))
	var outer http.Handler
	var wB http.ResponseWriter
	outer = httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/b":
			wB = w
			outer.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/a", nil))
		case "/a":
			r2 := r.WithContext(context.WithValue(r.Context(), outerWriterKey{}, 1))
			inner.ServeHTTP(wB, r2)
		}
	}))
	w := httptest.NewRecorder()
	outer.ServeHTTP(w, httptest.NewRequest("GET", "/b", nil))
	if w.Body.String() != "inner" {
		t.Fatalf("/b's body %q, want the inner's", w.Body.String())
	}
	recs := flush(t, rec, sink)
	if len(recs) != 3 {
		for _, r := range recs {
			t.Logf("record %s %d", r.Path, r.Status)
		}
		t.Fatalf("%d records, want 3: /b, /a and the inner's", len(recs))
	}
}
