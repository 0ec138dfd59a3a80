package ui_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserPagedFold: on page 2 of a record of 3,000 calls (treeRecord),
// folding hides the rows under the folded call and only them, in the list
// and in the chart alike, whether it is folded from the list's toggle, from
// the chart's label, or by "Fold all"; opening a call whose parent is
// folded (a #call-N link) unfolds that parent only; and unfolding shows
// every row again. Before, the list's rows carried the record's row
// numbers, not the page's, and each of these hid all 1,000 rows of the
// list.
func TestBrowserPagedFold(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	r := treeRecord(time.Now().Add(-time.Minute), 3000)
	writeRecs(t, st, r)
	b := newBrowser(t, ui.NewHandler(st))
	b.Navigate(t, "/stats/records/"+r.ID.String()+"?page=2")
	b.WaitPainted(t, "chartGantt")

	const hiddenJS = `Array.from(document.querySelectorAll("#calls details.call")).filter(e => e.hidden).map(e => e.id.slice(5)).join(",")`
	rowsJS := `Number(document.body.dataset.ganttRows)`
	// nums lists the call numbers from a to b, inclusive.
	nums := func(a, b int) []string {
		var out []string
		for n := a; n <= b; n++ {
			out = append(out, strconv.Itoa(n))
		}
		return out
	}
	// check asserts what the chart and the list show: the chart's rows,
	// and the call numbers of the list's hidden rows, in order; it stops
	// the test at the first difference.
	check := func(what string, rows int, hidden []string) {
		t.Helper()
		if got := b.Eval(t, rowsJS).(float64); got != float64(rows) {
			t.Errorf("%s: the chart shows %v rows, want %d", what, got, rows)
		}
		got := b.Eval(t, hiddenJS).(string)
		if want := strings.Join(hidden, ","); got != want {
			n := 0
			if got != "" {
				n = strings.Count(got, ",") + 1
			}
			if len(want) > 60 {
				want = want[:60] + "…"
			}
			t.Errorf("%s: the list hides %d rows, want %d (%s)", what, n, len(hidden), want)
		}
		if t.Failed() { // the next steps click rows that may be hidden
			t.FailNow()
		}
	}
	// changed waits for the chart or the list to show other than rows
	// rows and hidden hidden rows (toggleRow is synchronous: this is
	// belt and braces).
	changed := func(what string, rows int, hidden []string) {
		t.Helper()
		b.WaitFor(t, what, fmt.Sprintf(`%s !== %d || %s !== %s`, rowsJS, rows, hiddenJS, browsertest.JSString(strings.Join(hidden, ","))), browsertest.Patience)
	}
	expanded := func(num int) any {
		return b.Eval(t, `document.querySelector("#call-`+strconv.Itoa(num)+` .ctog").getAttribute("aria-expanded")`)
	}
	check("at first", 1000, nil)
	if v := b.Eval(t, `!!document.getElementById("call-1001") && !!document.getElementById("call-2000")`); v != true {
		t.Fatal("page 2 does not list calls #1001 to #2000")
	}

	// The list's toggle of call #1002 (row 1), which made #1003 to #1008.
	b.click(t, "#call-1002 .ctog")
	changed("fold #1002", 1000, nil)
	check("#1002 folded from the list", 994, nums(1003, 1008))
	if v := expanded(1002); v != "false" {
		t.Errorf("#1002's toggle: aria-expanded %v, want false", v)
	}
	if v := b.Eval(t, `document.getElementById("call-1002").open`); v != false {
		t.Error("the toggle opened call #1002")
	}
	b.click(t, "#call-1002 .ctog")
	changed("unfold #1002", 994, nums(1003, 1008))
	check("#1002 unfolded from the list", 1000, nil)

	// The chart's label of call #1009 (row 8), which made #1010 to #1015.
	clickLabel := func(pos int) {
		t.Helper()
		b.Eval(t, `document.getElementById("chartGantt").scrollIntoView({block: "center"}), true`)
		xy := b.Eval(t, fmt.Sprintf(`(function () {
			var el = document.getElementById("chartGantt"), c = echarts.getInstanceByDom(el);
			var p = c.convertToPixel({gridIndex: 0}, [0, %d]), r = el.getBoundingClientRect();
			return [r.left + 16, r.top + p[1]];
		})()`, pos)).([]any)
		if err := chromedp.Do(b.Ctx, chromedp.MouseClickXY(xy[0].(float64), xy[1].(float64))); err != nil {
			t.Fatal(err)
		}
	}
	if l := b.Eval(t, `AppStats.ganttLabel(8)`).(string); !strings.HasPrefix(l, "#1009") {
		t.Fatalf("the chart's row 8 is %q, want call #1009", l)
	}
	clickLabel(8)
	changed("fold #1009", 1000, nil)
	check("#1009 folded from the chart", 994, nums(1010, 1015))
	if v := expanded(1009); v != "false" {
		t.Errorf("#1009's toggle: aria-expanded %v, want false", v)
	}
	clickLabel(8)
	changed("unfold #1009", 994, nums(1010, 1015))
	check("#1009 unfolded from the chart", 1000, nil)

	// Fold all: every call that made calls on the page is folded; call
	// #1001, whose parent is on page 1, stays.
	var kids []string // calls #1001 to #2000 under a call of the page
	for n := 1001; n <= 2000; n++ {
		if row := n - 1; row%7 != 0 && row != 1000 {
			kids = append(kids, strconv.Itoa(n))
		}
	}
	b.click(t, "#gantt-fold")
	changed("fold all", 1000, nil)
	check("all folded", 1000-len(kids), kids)

	// A link to call #1004 unfolds #1002, its parent, only.
	b.Eval(t, `location.hash = "#call-1004", true`)
	b.WaitFor(t, "call #1004 open", `document.getElementById("call-1004").open`, browsertest.Patience)
	var rest []string
	for _, n := range kids {
		if k, _ := strconv.Atoi(n); k < 1003 || k > 1008 {
			rest = append(rest, n)
		}
	}
	check("#1004 opened", 1000-len(rest), rest)
	if v := expanded(1002); v != "true" {
		t.Errorf("#1002's toggle: aria-expanded %v, want true", v)
	}

	b.click(t, "#gantt-fold")
	changed("unfold all", 1000-len(rest), rest)
	check("all unfolded", 1000, nil)
	b.Check(t)
}
