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

// TestTransportKeepsNoEndedCall checks that nothing of a call that ended
// stays alive, its context's values included, while the request's own
// context (and so its record) is kept past the request's end, as a
// caller's goroutine or cache may keep it: the calls' states are carved
// from chunks the record holds, which it must let go of as it finishes.
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
	var kept context.Context // the request's context, its record with it
	func() {
		rctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		defer ar.Finish()
		kept = rctx
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
	if recording.FromContext(kept) == nil {
		t.Error("the kept context carries no record")
	}
	runtime.KeepAlive(kept)
	runtime.KeepAlive(client)
}

// reuseSink borrows the records it is given, so the recorder reuses them.
type reuseSink struct{}

func (reuseSink) Write(context.Context, []*recording.Record) error { return nil }
func (reuseSink) BorrowsRecords() bool                             { return true }

// TestTransportKeepsNoEndedCallPooled is TestTransportKeepsNoEndedCall
// with records reused: the request's record ends, goes back to the pool
// and is taken by the next request, which makes calls of its own (and
// one late call with the ended request's context) while the ended
// request's value is watched. The next request's calls' states must not
// lie with the ended request's, nor keep them alive.
func TestTransportKeepsNoEndedCallPooled(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok"))
	}))
	defer backend.Close()
	rec := recording.New(recording.WithSinks(reuseSink{}))
	defer rec.Close(context.Background())
	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: httpstats.NewTransport(base)}
	for range 2 { // the records' hint: three calls
		rctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		for range 3 {
			fetch(t, rctx, client, "GET", backend.URL+"/item", nil)
		}
		ar.Finish()
	}
	var value weak.Pointer[[1 << 16]byte]
	var ended *recording.ActiveRecord
	func() {
		rctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		ended = ar
		big := new([1 << 16]byte)
		value = weak.Make(big)
		ctx := context.WithValue(rctx, bigKey{}, big)
		for range 2 { // two states of a chunk of three
			fetch(t, ctx, client, "GET", backend.URL+"/item", nil)
		}
		ar.Finish()
		if err := rec.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
		// A late call: its record has ended (and its Record is reused).
		fetch(t, ctx, client, "GET", backend.URL+"/late", nil)
	}()
	rctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	fetch(t, rctx, client, "GET", backend.URL+"/next", nil)
	for i := 0; i < 5 && value.Value() != nil; i++ {
		runtime.GC()
	}
	if value.Value() != nil {
		t.Error("a value of an ended request's call's context is still reachable while the next request runs")
	}
	fetch(t, rctx, client, "GET", backend.URL+"/next", nil)
	ar.Finish()
	runtime.KeepAlive(ended) // as a context kept past its request keeps its record
	runtime.KeepAlive(client)
}
