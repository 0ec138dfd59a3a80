package ui_test

import (
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// A record may keep many more calls than the recorder's default cap
// (recording.WithMaxCalls): its details page shows them a page at a time,
// each page bounded in bytes and rows, and every call is on one of the
// pages, reachable by the pages' links and by its number (?call=N). On
// main, the page of 10,000 calls was 15 MB with 10,000 rows.
func TestDetailsBigRecordPaged(t *testing.T) {
	const n = 10000
	st := memstore.New(0)
	defer st.Close()
	r := makeRecord(time.Now().Add(-time.Minute), 1, "/big", 200, n)
	writeRecs(t, st, r)
	h := ui.NewHandler(st)
	base := "/stats/records/" + r.ID.String()
	rowRE := regexp.MustCompile(`<details class="call[^"]*" id="call-(\d+)"`)
	linkRE := regexp.MustCompile(`href="(\?page=\d+#calls)"`)
	islandRE := regexp.MustCompile(`(?s)<script type="application/json" id="gantt-data">(.*?)</script>`)
	const maxBytes, maxRows = 3 << 20, 1000

	seen := make(map[int]int) // call number → times listed
	visited := map[string]bool{}
	queue := []string{"?page=1"} // the page without ?page=, whose links lead here too
	for len(queue) > 0 {
		q := queue[0]
		queue = queue[1:]
		if visited[q] {
			continue
		}
		visited[q] = true
		w := do(h, "GET", base+q, nil)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d", q, w.Code)
		}
		body := w.Body.String()
		if len(body) > maxBytes {
			t.Errorf("page %q is %d bytes, want at most %d", q, len(body), maxBytes)
		}
		rows := rowRE.FindAllStringSubmatch(body, -1)
		if len(rows) == 0 || len(rows) > maxRows {
			t.Errorf("page %q lists %d calls, want 1 to %d", q, len(rows), maxRows)
		}
		for _, m := range rows {
			num, _ := strconv.Atoi(m[1])
			seen[num]++
		}
		// The timeline charts the page's calls, no more.
		var island struct {
			Calls []struct {
				N int `json:"n"`
			} `json:"calls"`
			CallsTotal int `json:"calls_total"`
		}
		im := islandRE.FindStringSubmatch(body)
		if im == nil {
			t.Fatalf("page %q has no timeline data", q)
		}
		if err := json.Unmarshal([]byte(im[1]), &island); err != nil {
			t.Fatal(err)
		}
		if len(island.Calls) != len(rows) || island.CallsTotal != n {
			t.Errorf("page %q: the timeline has %d rows (the list %d), calls_total %d (want %d)",
				q, len(island.Calls), len(rows), island.CallsTotal, n)
		}
		for _, l := range linkRE.FindAllStringSubmatch(body, -1) {
			queue = append(queue, html.UnescapeString(l[1][:strings.Index(l[1], "#")]))
		}
	}
	if len(seen) != n {
		t.Errorf("the pages list %d distinct calls, want %d", len(seen), n)
	}
	for num, k := range seen {
		if k != 1 || num < 1 || num > n {
			t.Errorf("call #%d listed %d times", num, k)
		}
	}
	if len(visited) < n/maxRows {
		t.Errorf("%d pages visited", len(visited))
	}
	// Any call by its number: the page holding it, which opens it.
	for _, num := range []int{1, 4321, n} {
		body := do(h, "GET", base+"?call="+strconv.Itoa(num), nil).Body.String()
		if !strings.Contains(body, `id="call-`+strconv.Itoa(num)+`"`) || !strings.Contains(body, `"open":`+strconv.Itoa(num)) {
			t.Errorf("?call=%d: the page does not hold and open it", num)
		}
	}
	// A page or call that is not one: a clear 4xx.
	for q, code := range map[string]int{"?page=0": 400, "?page=x": 400, "?page=999": 400, "?call=x": 400, "?call=0": 404, "?call=10001": 404} {
		w := do(h, "GET", base+q, nil)
		if w.Code != code || !strings.Contains(w.Body.String(), "this record") && !strings.Contains(w.Body.String(), "call number") {
			t.Errorf("GET %s: %d, want %d with a message", q, w.Code, code)
		}
	}
}

// A record of a few calls has one page: no pager, no calls_total.
func TestDetailsSmallRecordOnePage(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	r := makeRecord(time.Now().Add(-time.Minute), 1, "/small", 200, 30)
	writeRecs(t, st, r)
	body := do(ui.NewHandler(st), "GET", "/stats/records/"+r.ID.String(), nil).Body.String()
	if n := strings.Count(body, `<details class="call`); n != 30 {
		t.Errorf("%d calls listed, want 30", n)
	}
	if strings.Contains(body, "calls-pages") || strings.Contains(body, "calls_total") {
		t.Error("a record of 30 calls is paged")
	}
}

// Calls whose texts escape into many bytes each (1 KiB of "<" in each
// request and response: &lt;) take more pages: each stays within its bound.
func TestDetailsEscapedCallsBounded(t *testing.T) {
	const n = 1000
	st := memstore.New(0)
	defer st.Close()
	r := makeRecord(time.Now().Add(-time.Minute), 1, "/lt", 200, n)
	lt := strings.Repeat("<", recording.DefaultMaxText)
	for i := range r.Calls {
		r.Calls[i].Request, r.Calls[i].Response = lt, lt
	}
	writeRecs(t, st, r)
	h := ui.NewHandler(st)
	base := "/stats/records/" + r.ID.String()
	rowRE := regexp.MustCompile(`<details class="call[^"]*" id="call-(\d+)"`)
	seen := 0
	for p := 1; ; p++ {
		w := do(h, "GET", base+"?page="+strconv.Itoa(p), nil)
		if w.Code == 400 && p > 1 {
			break
		}
		if w.Code != 200 {
			t.Fatalf("page %d: %d", p, w.Code)
		}
		if w.Body.Len() > 3<<20+256<<10 {
			t.Errorf("page %d is %d bytes", p, w.Body.Len())
		}
		seen += len(rowRE.FindAllString(w.Body.String(), -1))
	}
	if seen != n {
		t.Errorf("the pages list %d calls, want %d", seen, n)
	}
}

// A record of 10,000 calls, each with a name of its own: the details
// page's RPC stats list the 200 of most self time and say how many more
// there are. On main the table had 10,000 rows, the page 5.5 MB.
func TestDetailsRPCStatsBounded(t *testing.T) {
	const n = 10000
	st := memstore.New(0)
	defer st.Close()
	r := makeRecord(time.Now().Add(-time.Minute), 1, "/distinct", 200, n)
	for i := range r.Calls {
		r.Calls[i].Method = "SELECT " + strconv.Itoa(i) + " FROM users"
	}
	writeRecs(t, st, r)
	w := do(ui.NewHandler(st), "GET", "/stats/records/"+r.ID.String(), nil)
	body := w.Body.String()
	if w.Code != 200 || len(body) > 3<<20 {
		t.Errorf("%d, %d bytes; want 200 within %d", w.Code, len(body), 3<<20)
	}
	if k := strings.Count(body, `<tr><td class="name">`); k != 200 {
		t.Errorf("%d RPC rows, want 200", k)
	}
	if !strings.Contains(body, `id="rpcs-cut">9800 more RPCs`) {
		t.Error("the page does not say how many RPCs it leaves out")
	}
	// The note's link gives every RPC (a page of the record's JSON lists
	// 200 of them too).
	note := body[strings.Index(body, `id="rpcs-cut"`):]
	href := note[strings.Index(note, `href="`)+len(`href="`):]
	href = strings.ReplaceAll(href[:strings.Index(href, `"`)], "&amp;", "&")
	link, err := url.Parse("/stats/records/" + r.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if link, err = link.Parse(href); err != nil {
		t.Fatal(err)
	}
	w = do(ui.NewHandler(st), "GET", link.String(), nil)
	var j struct {
		RPCStats []json.RawMessage `json:"rpc_stats"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &j); err != nil || len(j.RPCStats) != n {
		t.Errorf("the note's link %s: %d, %d rpc_stats (%v), want %d", href, w.Code, len(j.RPCStats), err, n)
	}
}
