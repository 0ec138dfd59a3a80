package ui_test

import (
	"net/http"
	"testing"

	"github.com/goappstats/appstats/ui"
)

// TestTimesOutOfRange: a time a store cannot hold (records are kept by
// their start in Unix nanoseconds: 1677-09-21 to 2262-04-11) is answered
// with 400, where on main the first instant of year 1 was taken for "no
// time" (a range ending then answered for the last second before now, an
// until then listed every record) and the stores answered ranges past the
// ends with buckets of other years or none. Ranges just within the ends
// are still served.
func TestTimesOutOfRange(t *testing.T) {
	st, _ := newStore(t, 5)
	h := ui.NewHandler(st)
	for _, target := range []string{
		"/stats/api/series?window=-62135596801000~-62135596800000", // ends at 0001-01-01T00:00:00Z
		"/stats/api/stats?window=-62135596801000~-62135596800000",
		"/stats/api/stats?from=0000-12-31T23:59:59Z&to=0001-01-01T00:00:00Z",
		"/stats/api/series?from=0001-01-01T00:00&to=0001-01-01T00:30",
		"/stats/api/records?until=0001-01-01T00:00:00Z",
		"/stats/api/records?since=0001-01-01T00:00:00Z",
		"/stats/api/series?window=-9223372037854~-9223372036854", // before 1677-09-21T00:12:43.145224192Z
		"/stats/api/series?window=9223372036000~9223372037000",   // past 2262-04-11T23:47:16.854775807Z
		"/stats/api/series?from=9223372036000&to=9223372037000",
		"/stats/api/records?since=9223372037000",
		"/stats/?window=-99999999999999~-99999999998999",
		"/stats/part/history?until=1000-01-01T00:00:00Z",
	} {
		if w := do(h, "GET", target, nil); w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400; %.200s", target, w.Code, w.Body.String())
		}
	}
	for target, since := range map[string]string{
		"/stats/api/series?window=-9223372036854~-9223372035854": "1677-09-21T00:12:43.146Z",
		"/stats/api/series?window=9223372035854~9223372036854":   "2262-04-11T23:47:15.854Z",
		"/stats/api/series?window=-1000~0":                       "1969-12-31T23:59:59Z",
	} {
		w := do(h, "GET", target, nil)
		if w.Code != http.StatusOK {
			t.Errorf("%s: %d, want 200; %.200s", target, w.Code, w.Body.String())
			continue
		}
		type series struct {
			Window struct{ Since string }
		}
		if got := decode[series](t, w).Window.Since; got != since {
			t.Errorf("%s: window since %s, want %s", target, got, since)
		}
	}
}
