package ui_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/goappstats/appstats/ui"
)

// TestRecordsRangeParams: api/records takes its range as since and until.
// Given api/stats' and api/series' range parameters instead (from, to,
// window), it answered 200 with every record, as if no range had been
// asked for; it now answers 400 naming the parameters it takes. A range in
// since and until is still served, and the dashboard's own pages, which
// take window, are not affected.
func TestRecordsRangeParams(t *testing.T) {
	st, recs := newStore(t, 3)
	h := ui.NewHandler(st)
	at := recs[0].Start.UTC().Format("2006-01-02T15:04:05Z")
	for _, q := range []string{"from=" + at, "to=" + at, "window=15m", "window=1h&since=" + at, "from=" + at + "&to=" + at} {
		w := do(h, "GET", "/stats/api/records?"+q, nil)
		if w.Code != http.StatusBadRequest {
			t.Errorf("api/records?%s: %d %s, want 400", q, w.Code, w.Body.String())
			continue
		}
		if body := w.Body.String(); !strings.Contains(body, "since") || !strings.Contains(body, "until") {
			t.Errorf("api/records?%s: %s does not name since and until", q, body)
		}
	}
	for _, target := range []string{"/stats/api/records?since=" + at, "/stats/api/records?until=" + at, "/stats/?window=15m"} {
		if w := do(h, "GET", target, nil); w.Code != http.StatusOK {
			t.Errorf("%s: %d %s", target, w.Code, w.Body.String())
		}
	}
}
