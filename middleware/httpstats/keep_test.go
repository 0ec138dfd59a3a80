package httpstats_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"weak"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
)

// ctxKey marks the request-scoped value TestKeptRecordPinsNoRequest
// watches.
type ctxKey struct{}

// TestKeptRecordPinsNoRequest checks that a record memstore keeps does not
// keep its request alive: neither the record's ActiveRecord (with the
// wrapper's state allocated beside it) nor the request's context and what
// an app put in it. A store holds thousands of records; each pinning its
// request would hold the app's request-scoped data as long.
func TestKeptRecordPinsNoRequest(t *testing.T) {
	st := memstore.New(16)
	rec := recording.New(recording.WithSinks(st))
	var (
		active weak.Pointer[recording.ActiveRecord]
		id     recording.ID
		value  weak.Pointer[[1 << 16]byte]
	)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := recording.FromContext(r.Context())
		id = a.Record().ID
		active = weak.Make(a)
		w.Write([]byte("hello"))
	})
	withValue := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			big := new([1 << 16]byte)
			value = weak.Make(big)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, big)))
		})
	}
	h := withValue(httpstats.NewHandler(rec, app))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x?q=1", nil))
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	kept, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("memstore has no record %v: %v", id, err)
	}
	if len(kept.Attrs) == 0 {
		t.Fatal("the kept record has no attributes: nothing tested")
	}
	for i := 0; i < 3 && (active.Value() != nil || value.Value() != nil); i++ {
		runtime.GC()
	}
	if active.Value() != nil {
		t.Error("the kept record keeps its ActiveRecord alive")
	}
	if value.Value() != nil {
		t.Error("the kept record keeps its request's context alive")
	}
	runtime.KeepAlive(st)
}
