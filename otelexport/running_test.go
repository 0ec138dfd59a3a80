package otelexport_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestRunningCallWait: a record whose call was still running when its
// request ended waits in the exporter; the call's end releases it, and its
// span has the call's true end and error. A call that does not end in time
// is exported with the request's end once the wait is over.
func TestRunningCallWait(t *testing.T) {
	for _, tt := range []struct {
		name  string
		wait  time.Duration
		ends  bool // the call ends while the record waits
		final bool // the span has the call's true end
	}{
		{"ends while waiting", time.Minute, true, true},
		{"still running after the wait", 100 * time.Millisecond, false, false},
		{"no wait", -1, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mem := tracetest.NewInMemoryExporter()
				exp := otelexport.New(mem, otelexport.WithRunningCallWait(tt.wait))
				sink := recordingtest.NewSink()
				rec := recording.New(recording.WithSinks(sink, exp), recording.WithBatch(1, time.Millisecond))
				ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindBackground, Path: "job"})
				c := recording.StartCall(ctx, "queue", "publish")
				t.Cleanup(func() { // after a failure too: the bubble's goroutines must end
					c.End(nil)
					rec.Close(context.Background())
					exp.Close(context.Background())
				})
				ar.Finish()
				r := sink.Wait(t.Context(), 1)[0]
				if tt.ends {
					// The exporter holds the record: nothing is exported while
					// the call runs. Half the wait passes on the bubble's
					// clock, and synctest.Wait lets every goroutine in it do
					// what it would by then: were the record not held, it
					// would have been exported.
					time.Sleep(tt.wait / 2)
					synctest.Wait()
					if n := len(mem.GetSpans()); n != 0 {
						t.Fatalf("%d spans exported while the call ran", n)
					}
					c.End(errors.New("broker gone"))
				}
				// Released by the call's end, or by the end of the wait; no
				// ForceFlush, which would release it at once.
				for i := 0; len(mem.GetSpans()) < 2; i++ {
					if i == 1000 {
						t.Fatalf("not exported: stats %+v", exp.Stats())
					}
					time.Sleep(10 * time.Millisecond)
					synctest.Wait()
				}
				spans := mem.GetSpans()
				c.End(nil)
				if err := rec.Close(t.Context()); err != nil {
					t.Fatal(err)
				}
				if err := exp.Close(t.Context()); err != nil {
					t.Fatal(err)
				}
				final, ended := r.FinalCall(0)
				want := r.Start.Add(r.Duration) // the request's end
				if tt.final {
					want = r.Start.Add(final.End())
				}
				for _, s := range spans {
					if s.Name != "queue publish" {
						continue
					}
					if !s.EndTime.Equal(want) {
						t.Errorf("span ends %v after the request's start, want %v", s.EndTime.Sub(r.Start), want.Sub(r.Start))
					}
					if tt.final && (!ended || s.Status.Description != "broker gone") {
						t.Errorf("span status %+v, ended %v; want the call's error", s.Status, ended)
					}
					return
				}
				t.Errorf("no span of the call in %d spans", len(spans))
			})
		})
	}
}

// TestRecordByHandNotHeld: a record built by hand, with a call marked
// running, cannot learn of the call's end: the exporter exports it at once,
// however long it would wait for a recorder's.
func TestRecordByHandNotHeld(t *testing.T) {
	mem := tracetest.NewInMemoryExporter()
	exp := otelexport.New(mem, otelexport.WithRunningCallWait(time.Hour))
	r := fixture(t)
	r.Start = time.Now()
	if err := exp.Write(t.Context(), []*recording.Record{r}); err != nil {
		t.Fatal(err)
	}
	for i := 0; len(mem.GetSpans()) == 0; i++ {
		if i == 1000 {
			t.Fatalf("not exported without a flush: stats %+v", exp.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := exp.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}
