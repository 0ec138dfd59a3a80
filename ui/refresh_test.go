package ui_test

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/ui"
)

// refreshSections returns the stats section and the history section of a
// part/refresh answer: the contents of its two <template> elements.
func refreshSections(t *testing.T, body string) (stats, history string) {
	t.Helper()
	const a, b, end = `<template id="refresh-stats">`, `<template id="refresh-history">`, `</template>`
	if !strings.HasPrefix(body, a) || !strings.HasSuffix(body, end) {
		t.Fatalf("part/refresh: not the two sections:\n%.300s", body)
	}
	stats, history, ok := strings.Cut(body[len(a):len(body)-len(end)], end+b)
	if !ok || strings.Contains(stats, "<template") || strings.Contains(history, "<template") {
		t.Fatalf("part/refresh: not the two sections:\n%.300s", body)
	}
	return stats, history
}

// TestPartRefreshSections: part/refresh answers the bytes of part/stats
// and part/history for the same store and parameters, in one answer.
func TestPartRefreshSections(t *testing.T) {
	st, recs := newStore(t, 40)
	h := ui.NewHandler(st)
	from, to := recs[0].Start.Add(-time.Minute), time.Now().Add(time.Minute)
	rangeName := url.QueryEscape(timeMS(from) + "~" + timeMS(to))
	for _, q := range []string{
		"", "window=1h", "window=24h&status=5xx", "window=1h&route=GET+%2Fusers%2F%7Bid%7D&limit=3",
		"window=1h&sort=duration", "window=" + rangeName, "window=1h&error=true&min_ms=0.5",
	} {
		statsQ := ""
		if v, _ := url.ParseQuery(q); v.Get("window") != "" {
			statsQ = "window=" + url.QueryEscape(v.Get("window"))
		}
		wantStats := do(h, "GET", "/stats/part/stats?"+statsQ, nil)
		wantHist := do(h, "GET", "/stats/part/history?"+q, nil)
		got := do(h, "GET", "/stats/part/refresh?"+q, nil)
		if got.Code != 200 || wantStats.Code != 200 || wantHist.Code != 200 {
			t.Fatalf("%s: refresh %d, stats %d, history %d", q, got.Code, wantStats.Code, wantHist.Code)
		}
		if ct := got.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", q, ct)
		}
		stats, hist := refreshSections(t, got.Body.String())
		if stats != wantStats.Body.String() {
			t.Errorf("%s: the stats section differs from part/stats", q)
		}
		if hist != wantHist.Body.String() {
			t.Errorf("%s: the history section differs from part/history", q)
		}
	}
}

// timeMS is t in Unix milliseconds, as a window's range names it.
func timeMS(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// TestPartRefreshShowsNewRecord: a record written between two refreshes
// is in the second one, in its history and in its stats (a route of its
// own), and not in the first.
func TestPartRefreshShowsNewRecord(t *testing.T) {
	st, _ := newStore(t, 20)
	h := ui.NewHandler(st)
	refresh := func() (string, string) {
		w := do(h, "GET", "/stats/part/refresh?window=1h", nil)
		if w.Code != 200 {
			t.Fatal(w.Code, w.Body.String())
		}
		return refreshSections(t, w.Body.String())
	}
	stats1, hist1 := refresh()
	rec := makeRecord(time.Now(), 999, "/fresh", 200, 2)
	rec.Route = "GET /fresh/{route}"
	writeRecs(t, st, rec)
	stats2, hist2 := refresh()
	id := rec.ID.String()
	if strings.Contains(hist1, id) || !strings.Contains(hist2, id) {
		t.Errorf("the new record in the history: before %v, after %v; want false, true", strings.Contains(hist1, id), strings.Contains(hist2, id))
	}
	if strings.Contains(stats1, "/fresh/{route}") || !strings.Contains(stats2, "/fresh/{route}") {
		t.Errorf("the new record's route in the stats: before %v, after %v; want false, true",
			strings.Contains(stats1, "/fresh/{route}"), strings.Contains(stats2, "/fresh/{route}"))
	}
}

// TestPartRefreshConcurrent: refreshes served at once while records are
// written (under -race: no race) each answer both sections.
func TestPartRefreshConcurrent(t *testing.T) {
	st, _ := newStore(t, 20)
	h := ui.NewHandler(st)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 50 {
			rec := makeRecord(time.Now(), uint64(1000+i), "/w", 200, 1)
			if err := st.Write(context.Background(), []*recording.Record{rec}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 4 {
		wg.Go(func() {
			for range 10 {
				w := do(h, "GET", "/stats/part/refresh?window=1h", nil)
				if w.Code != 200 {
					t.Errorf("part/refresh: %d", w.Code)
					return
				}
				if b := w.Body.String(); !strings.Contains(b, `<template id="refresh-stats">`) || !strings.Contains(b, `<template id="refresh-history">`) {
					t.Errorf("part/refresh: not the two sections:\n%.300s", b)
					return
				}
			}
		})
	}
	wg.Wait()
}

// statsCountingStore counts the calls of its store's Stats.
type statsCountingStore struct {
	store.Store
	calls atomic.Int64
}

func (s *statsCountingStore) Stats(ctx context.Context, w store.Window) (*store.Stats, error) {
	s.calls.Add(1)
	return s.Store.Stats(ctx, w)
}

// TestPartRefreshReadsStatsOnce: one part/refresh reads the store's Stats
// exactly once, for both of its sections, whatever the history's
// parameters.
func TestPartRefreshReadsStatsOnce(t *testing.T) {
	mem, recs := newStore(t, 40)
	st := &statsCountingStore{Store: mem}
	h := ui.NewHandler(st)
	from, to := recs[0].Start.Add(-time.Minute), time.Now().Add(time.Minute)
	rangeName := url.QueryEscape(timeMS(from) + "~" + timeMS(to))
	for _, q := range []string{
		"", "window=1h", "window=24h&status=5xx", "window=1h&sort=duration&limit=3",
		"window=" + rangeName, "window=1h&offset=5&limit=5",
	} {
		st.calls.Store(0)
		w := do(h, "GET", "/stats/part/refresh?"+q, nil)
		if w.Code != 200 {
			t.Fatalf("%s: %d %s", q, w.Code, w.Body.String())
		}
		if n := st.calls.Load(); n != 1 {
			t.Errorf("%s: part/refresh read the store's Stats %d times, want 1", q, n)
		}
	}
}
