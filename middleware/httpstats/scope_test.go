package httpstats_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
)

// recordingKeys is a context that counts the look-ups of recording's own
// keys that reach it.
type recordingKeys struct {
	context.Context
	n *atomic.Int32
}

func (c recordingKeys) Value(key any) any {
	if reflect.TypeOf(key).PkgPath() == reflect.TypeFor[recording.Scope]().PkgPath() {
		c.n.Add(1)
	}
	return c.Context.Value(key)
}

// TestTransportAsksRecordingOnceACall checks that the transport asks a
// request's context for recording's keys once a call (one walk up it for
// the record, the call it is inside and the call's parent), and that the
// calls land where they did: in the context's record, under the call the
// context is made a part of.
func TestTransportAsksRecordingOnceACall(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	defer backend.Close()
	st := memstore.New(16)
	rec := recording.New(recording.WithSinks(st))
	defer rec.Close(context.Background())
	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: httpstats.NewTransport(base)}

	rctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	id := ar.Record().ID
	p := ar.StartCall("report", "Build")
	n := new(atomic.Int32)
	ctx := recordingKeys{recording.ContextWithParent(rctx, p), n}
	const calls = 3
	for range calls {
		fetch(t, ctx, client, "GET", backend.URL+"/item", nil)
	}
	if got := n.Load(); got != calls {
		t.Errorf("the request's context was asked for recording's keys %d times in %d calls, want once a call", got, calls)
	}
	p.End(nil)
	ar.Finish()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	kept, err := st.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("memstore has no record %v: %v", id, err)
	}
	var under int
	for _, c := range kept.Calls {
		if c.Service == "http" && c.ParentSpanID == p.SpanID() {
			under++
		}
	}
	if under != calls {
		t.Errorf("%d of the record's calls are HTTP calls under the parent, want %d (calls: %+v)", under, calls, kept.Calls)
	}
}
