package recording_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"weak"

	"github.com/goappstats/appstats/recording"
)

// TestTraceStateKeepsNoActiveRecord checks that a finished Record with a
// tracestate does not keep its ActiveRecord alive: sinks such as the
// OTLP exporter's queue hold Records long after the request, and
// an ActiveRecord (with the wrapper state allocated beside it) is several
// times a Record's size.
func TestTraceStateKeepsNoActiveRecord(t *testing.T) {
	var (
		mu   sync.Mutex
		kept []*recording.Record
	)
	r := recording.New(recording.WithSinks(recording.SinkFunc(func(_ context.Context, recs []*recording.Record) error {
		mu.Lock()
		kept = append(kept, recs...)
		mu.Unlock()
		return nil
	})))
	_, a := r.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/x", TraceState: "k=v"})
	if a == nil {
		t.Fatal("StartRecord returned no record")
	}
	w := weak.Make(a)
	a.Finish()
	a = nil
	if err := r.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(kept) != 1 {
		t.Fatalf("sink got %d records, want 1", len(kept))
	}
	if got := kept[0].TraceState(); got != "k=v" {
		t.Errorf("TraceState = %q, want %q", got, "k=v")
	}
	for i := 0; i < 3 && w.Value() != nil; i++ {
		runtime.GC()
	}
	if w.Value() != nil {
		t.Error("the finished Record keeps its ActiveRecord alive through its tracestate")
	}
	runtime.KeepAlive(kept)
}

// TestAttrsKeepNoActiveRecord checks that a finished Record a sink keeps
// does not keep its ActiveRecord alive through its attributes: the first
// four are set in the ActiveRecord's room for them (AddAttr, AddAttrs,
// AttrRoom), and a kept Record pointing there would pin the ActiveRecord,
// the wrapper's state allocated with it and what they reference, for as
// long as a sink such as the OTLP exporter's queue holds the record.
func TestAttrsKeepNoActiveRecord(t *testing.T) {
	for _, n := range []int{1, 4, 5} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var (
				mu   sync.Mutex
				kept []*recording.Record
			)
			r := recording.New(recording.WithSinks(recording.SinkFunc(func(_ context.Context, recs []*recording.Record) error {
				mu.Lock()
				kept = append(kept, recs...)
				mu.Unlock()
				return nil
			})))
			_, a := r.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/x"})
			for i := range n {
				a.AddAttr(fmt.Sprintf("k%d", i), fmt.Sprintf("v%d", i))
			}
			w := weak.Make(a)
			a.Finish()
			a = nil
			if err := r.Close(context.Background()); err != nil {
				t.Fatalf("Close: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(kept) != 1 {
				t.Fatalf("sink got %d records, want 1", len(kept))
			}
			if got := len(kept[0].Attrs); got != n {
				t.Fatalf("kept record has %d attributes, want %d", got, n)
			}
			for i, at := range kept[0].Attrs {
				if at.Key != fmt.Sprintf("k%d", i) || at.Value != fmt.Sprintf("v%d", i) {
					t.Errorf("attribute %d = %q=%q", i, at.Key, at.Value)
				}
			}
			for i := 0; i < 3 && w.Value() != nil; i++ {
				runtime.GC()
			}
			if w.Value() != nil {
				t.Error("the kept Record keeps its ActiveRecord alive through its attributes")
			}
			runtime.KeepAlive(kept)
		})
	}
}
