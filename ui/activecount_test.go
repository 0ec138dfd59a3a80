package ui_test

import (
	"context"
	"fmt"
	"strings"
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

// TestActiveCallCountKept: api/active's call_count counts the calls the
// recorder kept, as call_count of a finished record does, not those it
// dropped over its per-record cap (WithMaxCalls), which dropped_calls
// counts apart; calls_omitted still counts every call made and not listed.
// The in-flight page tells the two apart the same way. On main call_count
// was 5, the calls made, for 2 kept.
func TestActiveCallCountKept(t *testing.T) {
	st := memstore.New(100)
	rec := recording.New(recording.WithSinks(st), recording.WithMaxCalls(2))
	defer rec.Close(context.Background())
	h := ui.NewHandler(st, ui.WithRecorder(rec))
	ctx, a := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/slow"})
	defer a.Finish()
	for range 5 {
		recording.StartCall(ctx, "svc", "M").End(nil)
	}
	recording.Event(ctx, "note", "") // not kept either: over the cap

	for _, calls := range []int{200, 1} {
		got := decode[struct {
			Active []struct {
				CallCount    int  `json:"call_count"`
				DroppedCalls *int `json:"dropped_calls"`
				CallsOmitted int  `json:"calls_omitted"`
				Calls        []struct{ Event bool }
			}
		}](t, do(h, "GET", fmt.Sprintf("/stats/api/active?calls=%d", calls), nil))
		if len(got.Active) != 1 {
			t.Fatalf("%d records listed, want 1", len(got.Active))
		}
		g := got.Active[0]
		if g.CallCount != 2 || g.DroppedCalls == nil || *g.DroppedCalls != 4 || len(g.Calls) != min(calls, 2) || g.CallsOmitted != 6-len(g.Calls) {
			dropped := -1
			if g.DroppedCalls != nil {
				dropped = *g.DroppedCalls
			}
			t.Errorf("calls=%d: call_count %d, dropped_calls %d, %d calls listed, calls_omitted %d; want 2 kept, 4 dropped, %d listed, %d omitted",
				calls, g.CallCount, dropped, len(g.Calls), g.CallsOmitted, min(calls, 2), 6-min(calls, 2))
		}
	}

	snaps, _ := rec.Active(0, 1)
	if len(snaps) != 1 || snaps[0].KeptCalls() != 2 || snaps[0].DroppedCalls != 4 || len(snaps[0].Calls) != 1 {
		t.Errorf("Active(0, 1): %d snapshots; want one with 2 calls kept, 4 dropped, 1 copied", len(snaps))
		for _, s := range snaps {
			t.Logf("kept %d, dropped %d, copied %d", s.KeptCalls(), s.DroppedCalls, len(s.Calls))
		}
	}

	page := do(h, "GET", "/stats/active?calls=1", nil)
	body := page.Body.String()
	for _, want := range []string{`<td class="num">2</td>`, "1 more call not listed", "4 not kept"} {
		if !strings.Contains(body, want) {
			t.Errorf("in-flight page does not say %q", want)
		}
	}
}
