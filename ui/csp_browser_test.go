package ui_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/ui"
)

// hoverChart moves the mouse, a real one, over the point (x, y) of chart
// id's data coordinates.
func (b *browser) hoverChart(t *testing.T, id string, x, y any) {
	t.Helper()
	xy := b.chartPoint(t, id, x, y)
	for _, d := range []float64{-2, 0} { // a move, then onto the point
		if err := chromedp.Do(b.Ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, xy[0].(float64)+d, xy[1].(float64)+d)); err != nil {
			t.Fatal(err)
		}
	}
}

// tooltipJS describes the tooltip shown in chart id (the element holding
// its text, .tt): whether it is visible, its text, the font size app.css
// gives it, and its series marks' colours and widths as computed; null
// while none is shown.
const tooltipJS = `(function (id) {
  var tt = document.querySelector('#' + id + ' .tt');
  if (!tt) return null;
  var box = tt.parentElement, cs = getComputedStyle(box), r = tt.getBoundingClientRect();
  var visible = cs.display !== 'none' && cs.visibility !== 'hidden' && Number(cs.opacity) > 0 && r.width > 0 && r.height > 0;
  var marks = Array.from(tt.querySelectorAll('.tt-mark')).map(function (m) {
    var s = getComputedStyle(m);
    return s.backgroundColor + ' ' + s.width;
  });
  return {visible: visible, text: tt.textContent, font: getComputedStyle(tt).fontSize,
    boxBackground: cs.backgroundColor, boxPosition: cs.position, marks: marks};
})`

// TestBrowserNoInlineStyle: the UI's policy allows no inline style
// (style-src without 'unsafe-inline'), and its pages still show what they
// did: hovering each chart shows its tooltip, visible and styled (the
// dashboard charts' series marks in their colours, app.css's font on the
// text, the Gantt chart's call), with no securitypolicyviolation event on
// any page (browsertest reports them; TestBrowserCrawl loads every page).
// On main style-src had 'unsafe-inline'; without it, the templates' style
// attributes (share bars, depths) and echarts' tooltip markup (its marks are
// spans with style attributes, the Gantt tooltip's arrow a div with one)
// were blocked.
func TestBrowserNoInlineStyle(t *testing.T) {
	st, _ := demoStore(t)
	r := timelineRecord(time.Now().Add(-time.Minute))
	writeRecs(t, st, r)
	b := newBrowser(t, ui.NewHandler(st))

	resp, err := http.Get(b.srv.URL + "/stats/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("the dashboard's policy is %q, want style-src without 'unsafe-inline'", csp)
	}
	b.Navigate(t, "/stats/?window=1h")
	b.WaitPainted(t, "chartRequests", "chartLatency", "chartHistogram")
	n := int(b.Eval(t, `JSON.parse(document.getElementById("series-data").textContent).buckets.length`).(float64))
	last := b.Eval(t, `(function () { var b = JSON.parse(document.getElementById("series-data").textContent).buckets; return b[b.length - 3].start_unix_ms; })()`)
	for _, c := range []struct {
		id    string
		x, y  any
		marks []string // colours of the series marks, as computed
		text  string
	}{
		{"chartRequests", last, 0, []string{"rgb(37, 99, 235) 10px", "rgb(220, 38, 38) 10px"}, "Requests"},
		{"chartLatency", last, 0, []string{"rgb(22, 163, 74) 10px", "rgb(217, 119, 6) 10px", "rgb(220, 38, 38) 10px"}, "p95"},
		{"chartHistogram", 2, 0, []string{"rgb(124, 58, 237) 10px"}, "Requests"},
	} {
		b.hoverChart(t, c.id, c.x, c.y)
		b.WaitFor(t, c.id+"'s tooltip shown", tooltipJS+`(`+browsertest.JSString(c.id)+`) !== null && `+tooltipJS+`(`+browsertest.JSString(c.id)+`).visible`, browsertest.Patience)
		got := b.Eval(t, tooltipJS+`(`+browsertest.JSString(c.id)+`)`).(map[string]any)
		var marks []string
		for _, m := range got["marks"].([]any) {
			marks = append(marks, m.(string))
		}
		if fmt.Sprint(marks) != fmt.Sprint(c.marks) || got["font"] != "12.5px" || !strings.Contains(got["text"].(string), c.text) ||
			got["boxPosition"] != "absolute" || got["boxBackground"] != "rgb(255, 255, 255)" {
			t.Errorf("%s's tooltip (%d points): %v; want marks %q, font 12.5px, %q in its text, a white box placed absolute", c.id, n, got, c.marks, c.text)
		}
	}

	b.Navigate(t, "/stats/records/"+r.ID.String())
	b.WaitPainted(t, "chartGantt")
	xy := b.Eval(t, `(function () { var c = AppStats.gantt().calls[2]; return [c.st + c.d / 2, 2]; })()`).([]any)
	b.hoverChart(t, "chartGantt", xy[0], 2)
	b.WaitFor(t, "the Gantt chart's tooltip shown", tooltipJS+`("chartGantt") !== null && `+tooltipJS+`("chartGantt").visible`, browsertest.Patience)
	if got := b.Eval(t, tooltipJS+`("chartGantt")`).(map[string]any); got["font"] != "12.5px" || !strings.Contains(got["text"].(string), "duration") {
		t.Errorf("the Gantt chart's tooltip: %v; want font 12.5px and the call's duration", got)
	}
	// Shown for a call chosen without the mouse (showTip, as the page's
	// own links do): echarts' arrow for a worded position was markup with
	// a style attribute.
	b.Eval(t, `echarts.getInstanceByDom(document.getElementById("chartGantt")).dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: 3}), true`)
	b.WaitFor(t, "the Gantt chart's tooltip of call 4", tooltipJS+`("chartGantt") !== null && `+tooltipJS+`("chartGantt").visible && `+tooltipJS+`("chartGantt").text.indexOf("#4 ") === 0`, browsertest.Patience)
	// The share bars and the call list's depths, drawn without style
	// attributes: a bar as wide as its share, a call indented by its depth.
	if v := b.Eval(t, `(function () {
		var bar = document.querySelector('.share .bar'), rect = bar && bar.querySelector('rect');
		var kid = document.querySelector('details.call.d1 .name'), top = document.querySelector('details.call.d0 .name');
		return !!rect && rect.getBoundingClientRect().width > 0 && rect.getBoundingClientRect().width <= bar.getBoundingClientRect().width &&
			!!kid && !!top && parseFloat(getComputedStyle(kid).paddingLeft) - parseFloat(getComputedStyle(top).paddingLeft) === 18;
	})()`); v != true {
		t.Error("the share bar or the call list's indentation not drawn")
	}
	b.Check(t)
}
