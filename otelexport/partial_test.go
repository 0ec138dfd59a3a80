package otelexport_test

import (
	"testing"
	"time"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// TestPartlyFullQueueCountsWhatItTook: when the Exporter's queue has room
// for some records of a batch and not others, the recorder counts the
// ones it queued as written to it and the others as dropped, as the
// Exporter counts them; its Write reports which records it dropped
// (recording.PartialWriteError). On main its error made the recorder
// count the whole batch as dropped, records the Exporter went on to export
// among them.
func TestPartlyFullQueueCountsWhatItTook(t *testing.T) {
	st := &stallExporter{release: make(chan struct{}), entered: make(chan struct{})}
	exp := otelexport.New(st, otelexport.WithQueueSize(1))
	rec := recording.New(recording.WithSinks(exp), recording.WithBatch(5, time.Hour))
	for range 5 {
		_, a := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/x"})
		a.Finish()
	}
	deadline := time.Now().Add(10 * time.Second)
	var ss recording.SinkStats
	for {
		ss = rec.Stats().Sinks[0]
		if ss.Written+ss.Dropped == 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the batch was not written: %+v", ss)
		}
		time.Sleep(5 * time.Millisecond)
	}
	es := exp.Stats()
	took := 5 - es.Dropped
	if took == 0 || took == 5 {
		t.Fatalf("the exporter took %d of 5 records; want some, with a queue of one", took)
	}
	if ss.Written != took || ss.Dropped != es.Dropped || ss.Errors != 1 {
		t.Errorf("the recorder counts %d written to the exporter, %d dropped, %d errors; the exporter took %d and dropped %d",
			ss.Written, ss.Dropped, ss.Errors, took, es.Dropped)
	}
	if w := rec.Stats().Written; w != took {
		t.Errorf("the recorder counts %d records written, want %d", w, took)
	}
	close(st.release)
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := exp.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}
