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
)

// bigKey marks the request-scoped value TestTransportKeepsNoEndedCall
// watches.
type bigKey struct{}

// TestTransportKeepsNoEndedCall checks that the transport keeps nothing of
// a call that ended alive, its context's values included, though the
// calls' states are allocated several at a time: a client kept for the
// process's life would otherwise hold its last calls' request-scoped data.
func TestTransportKeepsNoEndedCall(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	defer backend.Close()
	rec := recording.New(recording.WithSinks())
	defer rec.Close(context.Background())
	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: httpstats.NewTransport(base)}
	var value weak.Pointer[[1 << 16]byte]
	func() {
		rctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		defer ar.Finish()
		big := new([1 << 16]byte)
		value = weak.Make(big)
		ctx := context.WithValue(rctx, bigKey{}, big)
		for range 2 { // two states of one chunk
			fetch(t, ctx, client, "GET", backend.URL+"/item", nil)
		}
	}()
	for i := 0; i < 5 && value.Value() != nil; i++ {
		runtime.GC()
	}
	if value.Value() != nil {
		t.Error("a value of an ended call's context is still reachable")
	}
	runtime.KeepAlive(client)
}
