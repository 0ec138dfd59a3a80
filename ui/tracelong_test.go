package ui_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// listSpy is a memstore that keeps the windows of the trace lookups (List
// with a TraceID) it was asked for.
type listSpy struct {
	*memstore.Store
	mu   sync.Mutex
	wins []store.Window
}

func (s *listSpy) List(ctx context.Context, q store.Query) (store.Page, error) {
	if q.TraceID.IsValid() {
		s.mu.Lock()
		s.wins = append(s.wins, store.Window{Since: q.Since, Until: q.Until})
		s.mu.Unlock()
	}
	return s.Store.List(ctx, q)
}

// TestTraceLookupBounded: a record open for days (a push connection, a
// stream) had its details page, its trace view and api/traces?record= look
// for the other records of its trace over its whole duration, reading every
// summary stored in those days (2–3 s for a 72 h record among 200,000
// records). The lookup now reads at most maxTraceReach past the record's
// start, plus the minute of slack either side, and says so.
func TestTraceLookupBounded(t *testing.T) {
	spy := &listSpy{Store: memstore.New(100)}
	defer spy.Close()
	t0 := time.Now().Add(-80 * time.Hour).Truncate(time.Millisecond)
	long := makeRecord(t0, 1, "/push", 200, 2)
	long.Duration = 72 * time.Hour
	near := makeRecord(t0.Add(time.Second), 2, "/b", 200, 0)
	near.TraceID = long.TraceID
	writeRecs(t, spy.Store, long, near)
	h := ui.NewHandler(spy)
	const bound = 12 * time.Minute // the reach and a minute either side
	id, tid := long.ID.String(), long.TraceID.String()
	for _, target := range []string{"/stats/records/" + id, "/stats/traces/" + tid + "?record=" + id,
		"/stats/api/traces/" + tid + "?record=" + id} {
		spy.mu.Lock()
		spy.wins = nil
		spy.mu.Unlock()
		w := do(h, "GET", target, nil)
		if w.Code != 200 {
			t.Fatalf("%s: %d", target, w.Code)
		}
		spy.mu.Lock()
		wins := spy.wins
		spy.mu.Unlock()
		if len(wins) == 0 {
			t.Fatalf("%s: no trace lookup", target)
		}
		for _, win := range wins {
			if d := win.Until.Sub(win.Since); d > bound {
				t.Errorf("%s: looked for the trace's records over %v, want at most %v", target, d, bound)
			}
		}
	}
	// The record near its start is still found.
	tj := decode[struct{ Records []struct{ ID string } }](t, do(h, "GET", "/stats/api/traces/"+tid+"?record="+id, nil))
	if len(tj.Records) != 2 {
		t.Errorf("api/traces?record=: %d records, want 2", len(tj.Records))
	}
}
