package httpstats_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// The record keeps r.Header itself; an outer middleware that edits the header
// after the inner handler returned races with the recorder's writer.
func TestEdgeHeaderMapShared(t *testing.T) {
	rec, _ := newRecorder(t, recording.WithBatch(1, time.Millisecond))
	inner := httpstats.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r)
		for i := 0; i < 1000; i++ {
			r.Header.Set("X-Audit", "done") // e.g. a logging middleware scrubbing/annotating
			r.Header.Del("Authorization")
		}
	})
	for i := 0; i < 50; i++ {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Authorization", "Bearer SECRET")
		outer.ServeHTTP(httptest.NewRecorder(), req)
	}
	time.Sleep(50 * time.Millisecond)
}

// Direct RoundTrip with a nil Header: http.Transport returns an error; the wrapper panics.
func TestEdgeNilHeaderRoundTrip(t *testing.T) {
	rec, _ := newRecorder(t)
	h := httpstats.Handler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				t.Errorf("RoundTrip panicked: %v", v)
			}
		}()
		req := &http.Request{Method: "GET", URL: r.URL}
		req = req.WithContext(r.Context())
		req.Header = nil
		_, err := httpstats.Transport(nil).RoundTrip(req)
		t.Logf("err=%v", err)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "http://127.0.0.1:1/", nil))
}
