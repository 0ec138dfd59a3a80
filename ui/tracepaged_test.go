package ui_test

import (
	"cmp"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// traceRows crawls the trace view at base through its pager's links and
// returns how many times each timeline row (a record's or a call's link)
// was shown, checking every page against its bounds.
func traceRows(t *testing.T, h http.Handler, base string, maxBytes, maxRows int) (map[string]int, int) {
	t.Helper()
	islandRE := regexp.MustCompile(`(?s)<script type="application/json" id="gantt-data">(.*?)</script>`)
	linkRE := regexp.MustCompile(`href="(\?[^"#]*page=\d+)#timeline"`)
	seen := map[string]int{}
	visited := map[string]bool{}
	path, _, _ := strings.Cut(base, "?")
	queue := []string{base}
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if visited[u] {
			continue
		}
		visited[u] = true
		w := do(h, "GET", u, nil)
		if w.Code != 200 {
			t.Fatalf("GET %s: %d %s", u, w.Code, w.Body.String())
		}
		body := w.Body.String()
		if len(body) > maxBytes {
			t.Errorf("%s: %d bytes, want at most %d", u, len(body), maxBytes)
		}
		im := islandRE.FindStringSubmatch(body)
		if im == nil {
			t.Fatalf("%s: no timeline data", u)
		}
		var island struct {
			Calls []struct {
				U string `json:"u"`
				P int    `json:"p"`
				K int    `json:"k"`
			} `json:"calls"`
		}
		if err := json.Unmarshal([]byte(im[1]), &island); err != nil {
			t.Fatal(err)
		}
		if len(island.Calls) == 0 || len(island.Calls) > maxRows {
			t.Errorf("%s: %d timeline rows, want 1 to %d", u, len(island.Calls), maxRows)
		}
		kids := make([]int, len(island.Calls))
		for i, c := range island.Calls {
			seen[c.U]++
			if c.P >= i || c.P < -1 {
				t.Fatalf("%s: row %d's parent is row %d", u, i, c.P)
			}
			if c.P >= 0 {
				kids[c.P]++
			}
		}
		for i, c := range island.Calls {
			if c.K != kids[i] {
				t.Fatalf("%s: row %d has %d children on the page, says %d", u, i, kids[i], c.K)
			}
		}
		for _, l := range linkRE.FindAllStringSubmatch(body, -1) {
			queue = append(queue, path+html.UnescapeString(l[1]))
		}
	}
	return seen, len(visited)
}

// The trace view of two records of 10,000 calls each, the second caused
// by the first's first call: its timeline comes a page at a time, at most
// 1,000 rows a page within a bound, and the pages reach every call of both
// records, each call's link naming the page of its record's details that
// has its row. On main it showed the two records only (and a trace of
// fewer than 3,000 rows, however long their texts, on one page).
func TestTracePaged(t *testing.T) {
	const n = 10000
	st := memstore.New(0)
	defer st.Close()
	now := time.Now().Add(-time.Minute)
	a := makeRecord(now, 1, "/big", 200, n)
	b := makeRecord(now.Add(time.Millisecond), 2, "/big", 200, n)
	b.TraceID = a.TraceID
	b.SpanID[1] = 2
	a.Calls[0].SpanID[0], a.Calls[0].SpanID[1] = 9, 9
	b.ParentSpanID = a.Calls[0].SpanID
	writeRecs(t, st, a, b)
	h := ui.NewHandler(st)
	base := "/stats/traces/" + a.TraceID.String() + "?record=" + a.ID.String() + "&page=1"
	rows, pages := traceRows(t, h, base, 1<<20, 1000)
	// A call's link names the page of its record's details that has its
	// row (#call-N): the first page held only the first 1,000 calls (its
	// script went on to the page of the others).
	seen := map[string]int{}
	linked := map[string][]string{} // records/{id}?page=P → call numbers linked there
	linkRE := regexp.MustCompile(`^\.\./records/([0-9a-f]+)(?:\?page=(\d+))?#call-(\d+)$`)
	for u, k := range rows {
		m := linkRE.FindStringSubmatch(u)
		if m == nil {
			seen[u] += k
			continue
		}
		seen["../records/"+m[1]+"#call-"+m[3]] += k
		page := cmp.Or(m[2], "1")
		linked[m[1]+"?page="+page] = append(linked[m[1]+"?page="+page], m[3])
	}
	idRE := regexp.MustCompile(`id="call-(\d+)"`)
	for page, nums := range linked {
		w := do(h, "GET", "/stats/records/"+page, nil)
		has := map[string]bool{}
		for _, m := range idRE.FindAllStringSubmatch(w.Body.String(), -1) {
			has[m[1]] = true
		}
		missing := 0
		for _, num := range nums {
			if !has[num] {
				missing++
			}
		}
		if w.Code != 200 || missing > 0 {
			t.Errorf("records/%s: %d; %d of the %d calls linked there (#call-N) are not on it", page, w.Code, missing, len(nums))
		}
	}
	want := map[string]int{"../records/" + a.ID.String(): 1, "../records/" + b.ID.String(): 1}
	for _, r := range []*recording.Record{a, b} {
		for num := 1; num <= n; num++ {
			want["../records/"+r.ID.String()+"#call-"+itoa(num)] = 1
		}
	}
	for u, k := range want {
		if seen[u] != k {
			t.Fatalf("row %s shown %d times, want once", u, seen[u])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("%d distinct rows shown, want %d", len(seen), len(want))
	}
	if pages != (2*n+2+999)/1000 {
		t.Errorf("%d pages, want %d", pages, (2*n+2+999)/1000)
	}
	for _, q := range []string{"&page=0", "&page=x", "&page=999"} {
		w := do(h, "GET", "/stats/traces/"+a.TraceID.String()+"?record="+a.ID.String()+q, nil)
		if w.Code != 400 || !strings.Contains(w.Body.String(), "page:") {
			t.Errorf("GET %s: %d, want 400 with a message", q, w.Code)
		}
	}
}

// Rows whose texts escape into many bytes (an error of 1 KiB of "<" on
// every call) take more pages, each within its bound. On main the trace
// of 2,900 such calls was one page of about 17 MB.
func TestTraceEscapedRowsBounded(t *testing.T) {
	const n = 2900
	st := memstore.New(0)
	defer st.Close()
	a := makeRecord(time.Now().Add(-time.Minute), 1, "/lt", 200, n)
	lt := strings.Repeat("<", recording.DefaultMaxText)
	for i := range a.Calls {
		a.Calls[i].Error = lt
	}
	writeRecs(t, st, a)
	h := ui.NewHandler(st)
	seen, pages := traceRows(t, h, "/stats/traces/"+a.TraceID.String()+"?record="+a.ID.String()+"&page=1", 3<<20, 1000)
	if len(seen) != n+1 || pages < 2 {
		t.Errorf("%d rows on %d pages, want %d on several", len(seen), pages, n+1)
	}
}

// A small trace has one page: no pager.
func TestTraceSmallOnePage(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	a := makeRecord(time.Now().Add(-time.Minute), 1, "/s", 200, 30)
	writeRecs(t, st, a)
	body := do(ui.NewHandler(st), "GET", "/stats/traces/"+a.TraceID.String()+"?record="+a.ID.String(), nil).Body.String()
	if strings.Contains(body, "rows-paged") || strings.Contains(body, "Pages of this list") {
		t.Error("a trace of 31 rows is paged")
	}
}
