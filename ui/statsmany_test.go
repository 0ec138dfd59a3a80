package ui_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// A window whose requests made 150 kinds of call on one route: the
// dashboard and api/stats answer, listing 100 RPCs and saying 50 more. On
// main both went round for ever in boundStats (the test ran until go
// test's timeout).
func TestStatsManyRPCsFewRoutes(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	r := makeRecord(time.Now().Add(-time.Minute), 1, "/many", 200, 150)
	for i := range r.Calls {
		r.Calls[i].Service, r.Calls[i].Method = "sql", "SELECT "+strconv.Itoa(i)
	}
	writeRecs(t, st, r)
	h := ui.NewHandler(st)
	type stats struct {
		RPCs        []struct{} `json:"rpcs"`
		RPCsOmitted int        `json:"rpcs_omitted"`
	}
	s := decode[stats](t, do(h, "GET", "/stats/api/stats", nil))
	if len(s.RPCs) != 100 || s.RPCsOmitted != 50 {
		t.Errorf("api/stats: %d RPCs, %d omitted; want 100 and 50", len(s.RPCs), s.RPCsOmitted)
	}
	if w := do(h, "GET", "/stats/", nil); w.Code != 200 || !strings.Contains(w.Body.String(), "SELECT 99") {
		t.Errorf("the dashboard: %d", w.Code)
	}
}
