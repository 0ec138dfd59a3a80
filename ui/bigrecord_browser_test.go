package ui_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserBigRecord: the details page of a record of 10,000 calls shows
// a page of them, in the timeline and in the list alike; a link to a call
// on another page (#call-N, as the trace and compare pages write them)
// loads the page holding it and opens it; and the form "Call #" takes a
// keyboard user to any call. On main the page listed all 10,000.
func TestBrowserBigRecord(t *testing.T) {
	const n = 10000
	st := memstore.New(0)
	defer st.Close()
	r := makeRecord(time.Now().Add(-time.Minute), 1, "/big", 200, n)
	writeRecs(t, st, r)
	b := newBrowser(t, ui.NewHandler(st))
	base := "/stats/records/" + r.ID.String()

	b.Navigate(t, base)
	b.WaitPainted(t, "chartGantt")
	rows := b.Eval(t, `Number(document.body.dataset.ganttRows)`).(float64)
	listed := b.Eval(t, `document.querySelectorAll("#calls details.call").length`).(float64)
	if rows < 1 || rows > 1000 || rows != listed {
		t.Errorf("the timeline shows %v rows and the list %v, want the same page of at most 1,000", rows, listed)
	}
	if v := b.Eval(t, `!!document.getElementById("calls-pages") && !!document.getElementById("call-9000")`); v != false {
		t.Errorf("page 1: a pager and call #9000 = %v, want a pager without #9000", v)
	}

	// A link to a call on another page.
	b.Navigate(t, base+"#call-9000")
	b.WaitAfterNav(t, "call #9000 open", `(function () { var e = document.getElementById("call-9000"); return !!e && e.open; })()`)

	// The keyboard: to the number box, type, Enter.
	b.Navigate(t, base)
	if err := chromedp.Do(b.Ctx,
		chromedp.Focus(chromedp.CSS(`#call-jump input[name=call]`)),
		chromedp.KeyEvent("7777"),
		chromedp.KeyEvent(kb.Enter),
	); err != nil {
		t.Fatal(err)
	}
	b.WaitAfterNav(t, "call #7777 open", `(function () { var e = document.getElementById("call-7777"); return !!e && e.open; })()`)
	if v := b.Eval(t, `new URLSearchParams(location.search).get("call")`); v != strconv.Itoa(7777) {
		t.Errorf("the form went to ?call=%v", v)
	}
	b.Check(t)
}
