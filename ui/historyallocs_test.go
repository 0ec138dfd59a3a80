package ui_test

import (
	"testing"
	"time"

	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestPartHistoryAllocs: the history section a live refresh fetches
// writes its 50 rows without the template's reflective calls per value:
// at most 2,000 allocations in all (874 with go1.26, since historyRowsHTML
// writes the rows; 5,069 when the template wrote each formatted field;
// 11,576 when it read each row's summary and called its functions).
func TestPartHistoryAllocs(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	writeRecs(t, st, helloRecords(time.Now().Add(-time.Minute), time.Millisecond, 500, 1)...)
	h := ui.NewHandler(st)
	get := func() {
		w := do(h, "GET", "/stats/part/history", nil)
		if w.Code != 200 {
			t.Fatal(w.Code, w.Body.String())
		}
	}
	get()
	if a := testing.AllocsPerRun(20, get); a > 2000 {
		t.Errorf("part/history: %.0f allocations for 50 rows, want at most 2,000", a)
	}
}
