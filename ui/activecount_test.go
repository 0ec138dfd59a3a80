package ui_test

import (
	"context"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestActiveCallCountLeavesOutEvents: API.md says events are not counted
// in api/active's call_count. A record whose events the answer left out,
// over its bound of 5,000 calls in all, had them counted as calls; they
// are still counted in calls_omitted, and on the in-flight page as more
// calls not listed, but not in the calls of the record.
func TestActiveCallCountLeavesOutEvents(t *testing.T) {
	st := memstore.New(100)
	rec := recording.New(recording.WithSinks(st))
	defer rec.Close(context.Background())
	h := ui.NewHandler(st, ui.WithRecorder(rec))
	const records, events = 26, 200 // 5,200 events: the last record's are left out
	for range records {
		ctx, a := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/ws"})
		defer a.Finish()
		for range events {
			recording.Event(ctx, "ping", "")
		}
	}
	got := decode[struct {
		Active []struct {
			CallCount    int `json:"call_count"`
			CallsOmitted int `json:"calls_omitted"`
			Calls        []struct{ Event bool }
		}
	}](t, do(h, "GET", "/stats/api/active?limit=200&calls=200", nil))
	if len(got.Active) != records {
		t.Fatalf("%d records listed, want %d", len(got.Active), records)
	}
	omitted := 0
	for i, a := range got.Active {
		omitted += a.CallsOmitted
		if a.CallCount != 0 {
			t.Errorf("record %d: call_count %d with %d events listed and %d omitted, want 0: it made events only",
				i, a.CallCount, len(a.Calls), a.CallsOmitted)
		}
	}
	if omitted != records*events-5000 {
		t.Errorf("calls_omitted add up to %d, want %d", omitted, records*events-5000)
	}
}
