package ui_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestTraceInCustomRange: the trace view and api/traces look for a
// trace's records in a custom range (window=FROM~TO, or from and to), as
// api/stats does, where on main they looked in a window of the same
// length ending now: the dashboard's search for a trace ID, on a range
// of the past, led to a view that found none of its records.
func TestTraceInCustomRange(t *testing.T) {
	st := memstore.New(100)
	t0 := time.Now().Add(-3 * time.Hour).Truncate(time.Millisecond)
	a, b := makeRecord(t0, 1, "/a", 200, 2), makeRecord(t0.Add(time.Second), 2, "/b", 200, 0)
	b.TraceID = a.TraceID
	writeRecs(t, st, a, b)
	h := ui.NewHandler(st)
	from, to := t0.Add(-10*time.Minute).UnixMilli(), t0.Add(10*time.Minute).UnixMilli()
	tid := a.TraceID.String()
	since := time.UnixMilli(from).UTC().Format(time.RFC3339Nano)
	for _, q := range []string{fmt.Sprintf("window=%d~%d", from, to), fmt.Sprintf("from=%d&to=%d", from, to)} {
		tj := decode[struct {
			Window  struct{ Since string }
			Records []struct{ ID string }
		}](t, do(h, "GET", "/stats/api/traces/"+tid+"?"+q, nil))
		if len(tj.Records) != 2 || tj.Window.Since != since {
			t.Errorf("api/traces?%s: window since %s, %d records; want since %s, 2 records", q, tj.Window.Since, len(tj.Records), since)
		}
		w := do(h, "GET", "/stats/traces/"+tid+"?"+q, nil)
		if body := w.Body.String(); w.Code != 200 || !strings.Contains(body, a.ID.String()) || !strings.Contains(body, b.ID.String()) {
			t.Errorf("traces/%s?%s: %d, the records of the trace not listed", tid, q, w.Code)
		}
	}
	// The dashboard's search for the trace ID, on that range, leads there.
	w := do(h, "GET", fmt.Sprintf("/stats/?from=%d&to=%d&q=%s", from, to, tid), nil)
	if want := fmt.Sprintf("traces/%s?window=%d~%d", tid, from, to); w.Code != 303 || w.Header().Get("Location") != want {
		t.Errorf("search for the trace: %d to %q, want 303 to %q", w.Code, w.Header().Get("Location"), want)
	}
}
