package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserTooltipLongNames: a call's service and method are what a
// request controls (a route, a SQL text, a gRPC method): 10,000 characters
// of them, with a right-to-left override (U+202E) never closed and a
// </script>, in the Gantt chart's tooltip. The tooltip stays within the
// chart (the name cut in its middle, its start and end kept), the override
// does not reach past the name (the call's number and the line after read
// left to right), no payload runs, and no policy is violated. On main the
// tooltip held the whole name: 5,000 px and more tall, over the page.
func TestBrowserTooltipLongNames(t *testing.T) {
	st, _ := demoStore(t)
	r := timelineRecord(time.Now().Add(-time.Minute))
	c := &r.Calls[2]
	c.Service = "svc\u202e" + strings.Repeat("s", 5000) + "</script><img src=x onerror=window.__xss=1>"
	c.Method = "\u202eSELECT " + strings.Repeat("m", 10000) + " END"
	writeRecs(t, st, r)
	b := newBrowser(t, ui.NewHandler(st))
	b.Navigate(t, "/stats/records/"+r.ID.String())
	b.WaitPainted(t, "chartGantt")
	row := b.Eval(t, `AppStats.gantt().visible.indexOf(2)`).(float64)
	b.Eval(t, `echarts.getInstanceByDom(document.getElementById("chartGantt")).dispatchAction({type: "showTip", seriesIndex: 0, dataIndex: `+ftoa(row)+`}), true`)
	b.WaitFor(t, "the tooltip of the long call", tooltipJS+`("chartGantt") !== null && `+tooltipJS+`("chartGantt").visible && `+tooltipJS+`("chartGantt").text.indexOf("END") > 0`, browsertest.Patience)
	got := b.Eval(t, `(function () {
		var tt = document.querySelector('#chartGantt .tt'), box = tt.parentElement.getBoundingClientRect();
		var chart = document.getElementById('chartGantt').getBoundingClientRect();
		var title = tt.querySelector('.tt-title'), r = document.createRange();
		// The number before the names, and the line after them, laid out
		// left to right: the first's left edge left of its last digit's.
		var num = title.firstChild, line = title.nextElementSibling.firstChild;
		r.setStart(num, 0); r.setEnd(num, 1); var a = r.getBoundingClientRect().left;
		r.setStart(num, 1); r.setEnd(num, 2); var z = r.getBoundingClientRect().left;
		r.setStart(line, 0); r.setEnd(line, 1); var l0 = r.getBoundingClientRect().left;
		r.setStart(line, 1); r.setEnd(line, 2); var l1 = r.getBoundingClientRect().left;
		return {height: box.height, width: box.width, chartHeight: chart.height, chars: tt.textContent.length,
			ltr: a < z && l0 < l1, xss: window.__xss === undefined && !document.querySelector('img[src=x]')};
	})()`).(map[string]any)
	if h, ch := got["height"].(float64), got["chartHeight"].(float64); h > ch || got["width"].(float64) > 460 || got["chars"].(float64) > 1000 ||
		got["ltr"] != true || got["xss"] != true {
		t.Errorf("the tooltip of a call of 15,000 characters of names: %v; want it within the chart (%v px tall), under 1,000 characters, left to right around the names, and no payload run", got, ch)
	}
	b.Check(t)
}
