package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/goappstats/appstats/ui"
)

// TestTimesOutOfRange: a time outside those a store counts in
// (store.MinTime to store.MaxTime: 1677-09-21 02:00 to 2262-04-11 22:00
// UTC) is answered with 400, where on main the first instant of year 1 was
// taken for "no time" (a range ending then answered for the last second
// before now, an until then listed every record) and the stores answered
// ranges past the ends with buckets of other years or none; and where,
// until round 23, a range within the times an int64 of nanoseconds holds
// but outside the stores' windows (1677-09-21 00:12:44 to 01:00) answered
// 200 with a window nobody asked for (02:00 to 02:00). The message says
// the earliest and latest times accepted. Ranges just within the ends are
// still served, with the window asked for.
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
		// Within an int64 of nanoseconds, outside the stores' windows.
		"/stats/api/stats?from=1677-09-21T00:12:44Z&to=1677-09-21T01:00:00Z",
		"/stats/api/series?from=1677-09-21T00:12:44Z&to=1677-09-21T01:00:00Z",
		"/stats/api/stats?from=1677-09-21T01:59:59Z&to=1677-09-21T03:00:00Z",
		"/stats/api/stats?window=-9223372036854~-9223372035854",
		"/stats/api/series?window=-9223372036854~-9223372035854",
		"/stats/api/stats?window=-9223365600001~-9223365590000",
		"/stats/api/stats?from=2262-04-11T21:30:00Z&to=2262-04-11T22:00:00.001Z",
		"/stats/api/series?from=2262-04-11T22:30:00Z&to=2262-04-11T23:00:00Z",
		"/stats/api/stats?window=9223372035854~9223372036854",
		"/stats/api/records?since=1677-09-21T01:00:00Z",
		"/stats/api/records?until=2262-04-11T23:00:00Z",
		"/stats/api/traces/4bf92f3577b34da6a3ce929d0e0e4736?from=1677-09-21T00:12:44Z&to=1677-09-21T01:00:00Z",
		"/stats/?from=1677-09-21T00:12:44Z&to=1677-09-21T01:00:00Z",
	} {
		w := do(h, "GET", target, nil)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400; %.200s", target, w.Code, w.Body.String())
			continue
		}
		if body := w.Body.String(); !strings.Contains(body, "1677-09-21T02:00:00Z") || !strings.Contains(body, "2262-04-11T22:00:00Z") {
			t.Errorf("%s: the message does not say the earliest and latest times accepted: %.300s", target, body)
		}
	}
	for target, want := range map[string]string{
		"/stats/api/series?window=-9223365600000~-9223365599000":         "1677-09-21T02:00:00Z 1677-09-21T02:00:01Z",
		"/stats/api/stats?window=-9223365600000~-9223365599000":          "1677-09-21T02:00:00Z 1677-09-21T02:00:01Z",
		"/stats/api/stats?from=1677-09-21T02:00:00Z&to=1677-09-21T03:00": "1677-09-21T02:00:00Z 1677-09-21T03:00:00Z",
		"/stats/api/series?window=9223365599000~9223365600000":           "2262-04-11T21:59:59Z 2262-04-11T22:00:00Z",
		"/stats/api/stats?from=2262-04-11T21:00:00Z&to=2262-04-11T22:00": "2262-04-11T21:00:00Z 2262-04-11T22:00:00Z",
		"/stats/api/series?window=-1000~0":                               "1969-12-31T23:59:59Z 1970-01-01T00:00:00Z",
		"/stats/api/stats?from=-1000&to=0":                               "1969-12-31T23:59:59Z 1970-01-01T00:00:00Z",
	} {
		w := do(h, "GET", target, nil)
		if w.Code != http.StatusOK {
			t.Errorf("%s: %d, want 200; %.200s", target, w.Code, w.Body.String())
			continue
		}
		type answer struct {
			Window struct{ Since, Until string }
		}
		if win := decode[answer](t, w).Window; win.Since+" "+win.Until != want {
			t.Errorf("%s: window %s to %s, want %s", target, win.Since, win.Until, want)
		}
	}
}
