package ui_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserNarrow: at a phone's width (375 px) no page is wider than the
// window, so that nothing is cut off or reached only by scrolling the
// whole page sideways: the header's controls wrap onto more lines and wide
// tables scroll within themselves. At a wide window the same holds. The
// paged pages of big records, with their pagers, too.
func TestBrowserNarrow(t *testing.T) {
	st, rec, caller, callee := traceStore(t)
	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/slow/export"})
	defer ar.Finish()
	live := ui.NewLive()
	defer live.Close()
	b := newBrowser(t, ui.NewHandler(st, ui.WithRecorder(rec), ui.WithLive(live)))
	// Two big records of one trace: their pages paged, with pagers.
	bigA := makeRecord(time.Now().Add(-time.Minute), 9001, "/big", 200, 2500)
	bigB := makeRecord(time.Now().Add(-time.Minute), 9002, "/big", 200, 2500)
	bigB.TraceID = bigA.TraceID
	for i := range bigA.Calls {
		bigA.Calls[i].Method = "SELECT " + itoa(i) + " FROM a_rather_long_table_name"
	}
	writeRecs(t, st, bigA, bigB)
	pages := append(tracePages(caller, callee),
		"/stats/records/"+bigA.ID.String()+"?page=2",
		"/stats/traces/"+bigA.TraceID.String()+"?record="+bigA.ID.String()+"&page=3",
		"/stats/compare?a="+bigA.ID.String()+"&b="+bigB.ID.String()+"&page=2",
	)
	// wider lists what sticks out past the window's right edge, outside a
	// box that scrolls.
	const wider = `(function () {
  var w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth > w) out.push("page " + document.documentElement.scrollWidth + " px wide");
  document.querySelectorAll("header.top a, header.top summary, header.top .live-status").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width > 0 && (r.left < 0 || r.right > w)) out.push("header " + el.textContent.trim() + " at " + Math.round(r.left) + "-" + Math.round(r.right));
  });
  return out.join("; ");
})()`
	for _, width := range []int64{375, 1920} {
		if err := chromedp.Do(b.Ctx, chromedp.EmulateViewport(width, 800)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			b.Navigate(t, p)
			b.WaitFor(t, "the page's script", `typeof AppStats === "object"`, time.Minute)
			if v := b.Eval(t, wider); v != "" {
				t.Errorf("%s at %d px: %v", p, width, v)
			}
		}
		// A link among the facts of a record is not cut mid-word.
		b.Navigate(t, "/stats/records/"+caller.ID.String())
		// The timeline's row labels end before its bars begin: what the
		// chart drew of each label lies left of the plot.
		b.WaitPainted(t, "chartGantt")
		if v := b.Eval(t, `(function () {
  var c = AppStats.gantt().chart, left = c.getOption().grid[0].left, out = [];
  c.getZr().storage.getDisplayList().forEach(function (e) {
    if (!e.style || typeof e.style.text !== "string" || e.style.text.charAt(0) !== "#") return;
    var r = e.getBoundingRect(), x = (e.transform ? e.transform[4] : 0) + r.x;
    if (x + r.width > left) out.push(e.style.text + " ends at " + Math.round(x + r.width) + ", the plot starts at " + left);
  });
  return out.join("; ");
})()`); v != "" {
			t.Errorf("at %d px timeline labels run into the bars: %v", width, v)
		}
		// The call list's names keep room to be read: at a phone's width
		// the fixed columns of numbers once left the name a column a few
		// pixels wide, one letter a line.
		if v := b.Eval(t, `(function () {
  var w = document.getElementById("calls").clientWidth, out = [];
  document.querySelectorAll("#calls .call-row .name").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width < w / 2) out.push(el.textContent.trim() + ": " + Math.round(r.width) + " of " + w + " px");
  });
  return out.length ? out.length + " names squeezed, e.g. " + out[0] : "";
})()`); v != "" {
			t.Errorf("at %d px the call list squeezes the calls' names: %v", width, v)
		}
		if v := b.Eval(t, `Array.from(document.querySelectorAll(".facts dd a")).filter(a => a.getClientRects().length > 1).map(a => a.textContent).join("; ")`); v != "" {
			t.Errorf("at %d px these links of the record's facts break across lines: %v", width, v)
		}
		// The custom range opens within the window.
		b.Navigate(t, "/stats/")
		b.click(t, ".custom-range > summary")
		if v := b.Eval(t, `(function () {
  var r = document.getElementById("range-form").getBoundingClientRect();
  return r.width > 0 && r.left >= 0 && r.right <= document.documentElement.clientWidth;
})()`); v != true {
			t.Errorf("at %d px the custom range form is not within the window", width)
		}
	}
	b.Check(t)
}
