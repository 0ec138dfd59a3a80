package ui_test

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// treeRecord is a record of n calls in groups of seven: a call and the six
// it made, one after the other, so that call number N is the (N-1)th row in
// tree order as in start order. With 3,000 calls, page 2 of the details page
// holds rows 1000 to 1999: row 1000 (call #1001) is the last child of a call
// on page 1, and call #1002 (row 1001) makes calls #1003 to #1008.
func treeRecord(t time.Time, n int) *recording.Record {
	r := makeRecord(t, 1, "/tree", 200, 0)
	span := func(i int) (s recording.SpanID) {
		binary.BigEndian.PutUint64(s[:], uint64(i+1))
		return s
	}
	for i := range n {
		c := recording.Call{
			Service: "sql", Method: "SELECT 1", SpanID: span(i),
			Start: time.Duration(i) * time.Millisecond, Duration: 500 * time.Microsecond,
		}
		if root := i - i%7; root != i {
			c.ParentSpanID = span(root)
		} else {
			c.Duration = 6*time.Millisecond + 600*time.Microsecond
		}
		r.Calls = append(r.Calls, c)
	}
	r.Duration = time.Duration(n+10) * time.Millisecond
	return r
}

// On a later page of a paged record, the call list numbers its rows as the
// timeline's data does, from 0 on the page: a row's data-i is its row in
// the page's timeline, and data-p its parent's, or -1 when the parent is on
// another page; the ids keep the call numbers. Before, data-i and data-p
// were rows of the whole record (data-i="1000" for the page's first), which
// the timeline's folding could not match, so folding any row hid the whole
// list.
func TestDetailsPagedRowIndexes(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	r := treeRecord(time.Now().Add(-time.Minute), 3000)
	writeRecs(t, st, r)
	w := do(ui.NewHandler(st), "GET", "/stats/records/"+r.ID.String()+"?page=2", nil)
	if w.Code != 200 {
		t.Fatalf("GET ?page=2: %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`id="call-1001" data-i="0" data-p="-1"`,
		`id="call-1002" data-i="1" data-p="-1"`,
		`<button type="button" class="ctog" data-i="1"`,
		`id="call-1003" data-i="2" data-p="1"`,
		`id="call-2000" data-i="999" data-p="995"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page 2 has no %s", want)
		}
	}
}
