package recording_test

import (
	"context"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestStartRecordFrom checks that StartRecordFrom records what
// StartRecordWith records for the same RequestInfo, with the wrapper's
// state, leaves the RequestInfo as it was, and leaves out what the
// recorder's options and a nil recorder leave out.
func TestStartRecordFrom(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithInstance("inst"))
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	tid := recording.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	info := recording.RequestInfo{
		Kind: recording.KindHTTP, Method: "POST", Path: "/from",
		Header:  map[string][]string{"X-A": {"1"}},
		TraceID: tid, ParentSpanID: recording.SpanID{8, 7, 6, 5, 4, 3, 2, 1},
		TraceState: "k=v", Unsampled: true, Start: start, Instance: "other",
	}
	before := info
	type state struct{ n int }
	ctx, ar, st := recording.StartRecordFrom[state](rec, context.Background(), &info)
	if ar == nil || st == nil || recording.FromContext(ctx) != ar {
		t.Fatalf("StartRecordFrom: record %v, state %v, context's record %v", ar, st, recording.FromContext(ctx))
	}
	st.n = 1
	if info.Method != before.Method || info.Path != before.Path || info.TraceID != before.TraceID ||
		info.ParentSpanID != before.ParentSpanID || info.TraceState != before.TraceState ||
		info.Unsampled != before.Unsampled || !info.Start.Equal(before.Start) || info.Instance != before.Instance ||
		info.Kind != before.Kind || len(info.Header) != 1 {
		t.Fatalf("StartRecordFrom changed its RequestInfo: %+v, was %+v", info, before)
	}
	ar.FinishAt(start.Add(time.Millisecond))
	_, ar2, _ := recording.StartRecordWith[state](rec, context.Background(), info)
	ar2.FinishAt(start.Add(time.Millisecond))
	recs := sink.Wait(t.Context(), 2)
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	for i, r := range recs {
		if r.Kind != recording.KindHTTP || r.Method != "POST" || r.Path != "/from" || r.TraceID != tid ||
			r.ParentSpanID != info.ParentSpanID || !r.Unsampled || !r.Start.Equal(start) ||
			r.Duration != time.Millisecond || r.Instance != "other" {
			t.Errorf("record %d: %+v", i, r)
		}
	}
	if recs[0].SpanID == recs[1].SpanID || recs[0].ID == recs[1].ID {
		t.Errorf("the two records share an ID or a span: %v %v", recs[0].ID, recs[1].ID)
	}
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}

	// Left out: by a filter (and counted), by a closed recorder, by a nil one.
	f := recording.New(recording.WithExclude(recording.Filter{PathPrefix: "/from"}))
	defer f.Close(context.Background())
	if _, ar, st := recording.StartRecordFrom[state](f, context.Background(), &info); ar != nil || st != nil {
		t.Error("StartRecordFrom recorded an excluded request")
	}
	if n := f.Stats().Filtered; n != 1 {
		t.Errorf("filtered %d, want 1", n)
	}
	if _, ar, _ := recording.StartRecordFrom[state](rec, context.Background(), &info); ar != nil {
		t.Error("StartRecordFrom recorded after Close")
	}
	if _, ar, _ := recording.StartRecordFrom[state](nil, context.Background(), &info); ar != nil {
		t.Error("StartRecordFrom recorded with a nil recorder")
	}
}
