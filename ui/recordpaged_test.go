package ui_test

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

type pagedRecordJSON struct {
	ID    string `json:"id"`
	Calls []struct {
		Method string `json:"method"`
		Parent *int   `json:"parent"`
	} `json:"calls"`
	CallCount int `json:"call_count"`
	RPCStats  []struct {
		Method string `json:"method"`
	} `json:"rpc_stats"`
	RPCStatsCut int `json:"rpc_stats_cut"`
	CallsPage   *struct {
		Offset int  `json:"offset"`
		Limit  int  `json:"limit"`
		Total  int  `json:"total"`
		Next   *int `json:"next"`
	} `json:"calls_page"`
}

// The record's JSON of 10,000 calls comes a page at a time: without
// offset or limit, the first 1,000 calls and where the next page starts;
// following calls_page.next reaches every call once, each page bounded;
// bad values are a 400 naming the parameter; ?download=1 is the whole
// record. On main the answer held all 10,000 calls (6.5 MB) whatever the
// query. Each call has a name of its own, of some 410 bytes: the answer's
// rpc_stats is bounded too (the top 200 by self time, and a count of those
// cut), where a page of one call held every RPC of the record (5 MB).
func TestAPIRecordPaged(t *testing.T) {
	const n = 10000
	st := memstore.New(0)
	defer st.Close()
	r := makeRecord(time.Now().Add(-time.Minute), 1, "/big", 200, n)
	pad := " " + strings.Repeat("x", 400)
	name := func(i int) string { return "call " + strconv.Itoa(i) + pad }
	for i := range r.Calls {
		r.Calls[i].Method = name(i)
	}
	r.Calls[10].SpanID[0], r.Calls[10].SpanID[7] = 7, 7
	r.Calls[1500].ParentSpanID = r.Calls[10].SpanID
	writeRecs(t, st, r)
	h := ui.NewHandler(st)
	base := "/stats/api/records/" + r.ID.String()
	get := func(q string) pagedRecordJSON {
		t.Helper()
		w := do(h, "GET", base+q, nil)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", q, w.Code, w.Body.String())
		}
		if w.Body.Len() > 4<<20 && !strings.Contains(q, "download") {
			t.Errorf("GET %s: %d bytes", q, w.Body.Len())
		}
		var j pagedRecordJSON
		if err := json.Unmarshal(w.Body.Bytes(), &j); err != nil {
			t.Fatal(err)
		}
		return j
	}
	seen := make([]int, n)
	q, pages := "", 0
	for {
		j := get(q)
		pages++
		p := j.CallsPage
		if p == nil || p.Total != n || j.CallCount != n || len(j.Calls) == 0 || len(j.Calls) > 1000 {
			t.Fatalf("GET %q: %d calls, page %+v, call_count %d", q, len(j.Calls), p, j.CallCount)
		}
		for k, c := range j.Calls {
			i := p.Offset + k
			if c.Method != name(i) {
				t.Fatalf("GET %q: calls[%d] is %q, want call %d", q, k, c.Method, i)
			}
			seen[i]++
			if i == 1500 && (c.Parent == nil || *c.Parent != 10) {
				t.Errorf("call 1500's parent is %v, want the record's index 10", c.Parent)
			}
		}
		if p.Next == nil {
			break
		}
		q = "?offset=" + strconv.Itoa(*p.Next)
	}
	for i, k := range seen {
		if k != 1 {
			t.Fatalf("call %d answered %d times", i, k)
		}
	}
	if pages != n/1000 {
		t.Errorf("%d pages, want %d", pages, n/1000)
	}
	if j := get("?offset=9990&limit=50"); len(j.Calls) != 10 || j.CallsPage.Next != nil || j.CallsPage.Limit != 50 {
		t.Errorf("the last 10: %d calls, page %+v", len(j.Calls), j.CallsPage)
	}
	if j := get("?limit=5000"); len(j.Calls) <= 1000 || len(j.Calls) >= 5000 || *j.CallsPage.Next != len(j.Calls) {
		t.Errorf("limit=5000: %d calls, next %d; want the calls within the bound, and where the next start", len(j.Calls), *j.CallsPage.Next)
	}
	if j := get("?download=1"); len(j.Calls) != n || j.CallsPage != nil || len(j.RPCStats) != n || j.RPCStatsCut != 0 {
		t.Errorf("the download: %d calls, page %+v, %d rpc_stats, %d cut", len(j.Calls), j.CallsPage, len(j.RPCStats), j.RPCStatsCut)
	}
	// A page of one call: its size is the call's and the bounded rpc_stats'.
	for _, q := range []string{"?limit=1", "?offset=5000&limit=1"} {
		w := do(h, "GET", base+q, nil)
		if w.Code != 200 || w.Body.Len() > 200<<10 {
			t.Errorf("GET %s: %d, %d bytes, want at most 200 kB", q, w.Code, w.Body.Len())
		}
		if j := get(q); len(j.RPCStats) != 200 || j.RPCStatsCut != n-200 {
			t.Errorf("GET %s: %d rpc_stats, %d cut; want 200 and %d", q, len(j.RPCStats), j.RPCStatsCut, n-200)
		} else {
			// The kept are of the most self time: the calls of 1.5 ms
			// (makeRecord's longest, every 13th), in the record's order.
			last := -1
			for _, s := range j.RPCStats {
				i, _ := strconv.Atoi(strings.Fields(s.Method)[1])
				if i%13 != 12 || i <= last {
					t.Fatalf("GET %s: rpc_stats holds %q after call %d", q, s.Method[:12], last)
				}
				last = i
			}
		}
	}
	for q, name := range map[string]string{"?offset=-1": "offset", "?offset=x": "offset", "?offset=10001": "offset",
		"?limit=0": "limit", "?limit=x": "limit", "?limit=5001": "limit", "?offset=": "offset"} {
		w := do(h, "GET", base+q, nil)
		if w.Code != 400 || !strings.Contains(w.Body.String(), name+":") {
			t.Errorf("GET %s: %d %s, want 400 naming %s", q, w.Code, w.Body.String(), name)
		}
	}
	// A page read back as a record: an error, not a record missing calls.
	w := do(h, "GET", base+"?offset=1000", nil)
	if _, err := ui.UnmarshalRecord(w.Body.Bytes()); !errors.Is(err, ui.ErrBadRecordJSON) || !strings.Contains(err.Error(), "page") {
		t.Errorf("UnmarshalRecord of a page: %v", err)
	}
}

// A record within the recorder's default cap is answered whole, as before:
// no calls_page; with offset or limit it is paged like any other.
func TestAPIRecordSmallWhole(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	r := makeRecord(time.Now().Add(-time.Minute), 1, "/s", 200, 1000)
	writeRecs(t, st, r)
	h := ui.NewHandler(st)
	w := do(h, "GET", "/stats/api/records/"+r.ID.String(), nil)
	var j pagedRecordJSON
	if err := json.Unmarshal(w.Body.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Calls) != 1000 || j.CallsPage != nil || strings.Contains(w.Body.String(), "calls_page") {
		t.Errorf("%d calls, calls_page %+v", len(j.Calls), j.CallsPage)
	}
	if _, err := ui.UnmarshalRecord(w.Body.Bytes()); err != nil {
		t.Error(err)
	}
	w = do(h, "GET", "/stats/api/records/"+r.ID.String()+"?limit=10", nil)
	j = pagedRecordJSON{}
	if err := json.Unmarshal(w.Body.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Calls) != 10 || j.CallsPage == nil || *j.CallsPage.Next != 10 {
		t.Errorf("limit=10: %d calls, calls_page %+v", len(j.Calls), j.CallsPage)
	}
}

// Calls whose texts escape into many bytes each (1 KiB of "<" in each
// request and response) take smaller pages, each within its bound.
func TestAPIRecordEscapedPagesBounded(t *testing.T) {
	const n = 3000
	st := memstore.New(0)
	defer st.Close()
	r := makeRecord(time.Now().Add(-time.Minute), 1, "/lt", 200, n)
	lt := strings.Repeat("<", 1024)
	for i := range r.Calls {
		r.Calls[i].Request, r.Calls[i].Response = lt, lt
	}
	writeRecs(t, st, r)
	h := ui.NewHandler(st)
	got, pages := 0, 0
	for q := ""; ; pages++ {
		w := do(h, "GET", "/stats/api/records/"+r.ID.String()+q, nil)
		if w.Code != 200 || w.Body.Len() > 4<<20 {
			t.Fatalf("GET %q: %d, %d bytes", q, w.Code, w.Body.Len())
		}
		var j pagedRecordJSON
		if err := json.Unmarshal(w.Body.Bytes(), &j); err != nil {
			t.Fatal(err)
		}
		got += len(j.Calls)
		if j.CallsPage.Next == nil {
			break
		}
		q = "?offset=" + strconv.Itoa(*j.CallsPage.Next)
	}
	if got != n || pages < 3 {
		t.Errorf("%d calls on %d pages, want %d on more than 3", got, pages+1, n)
	}
}
