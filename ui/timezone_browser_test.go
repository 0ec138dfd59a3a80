package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/ui"
)

// TestBrowserTimeZone: the pages show times in the browser's zone, and say
// which: after a time standing alone (a record's start), in the heading
// of a column of times. In Tokyo the server's 10:00 UTC is 19:00 local;
// shown as a bare 19:00, beside the comparison's list in UTC, nothing told
// which zone a time was in.
func TestBrowserTimeZone(t *testing.T) {
	st, recs := demoStore(t)
	b := newBrowser(t, ui.NewHandler(st))
	if err := chromedp.Do(b.Ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	r := recs[len(recs)-1]
	local := r.Start.In(time.FixedZone("JST", 9*3600)).Format("15:04:05.000")
	zone := func(s string) bool {
		return strings.Contains(s, "GMT+9") || strings.Contains(s, "JST") || strings.Contains(s, "+09")
	}

	b.Navigate(t, "/stats/records/"+r.ID.String())
	started := b.Eval(t, `document.querySelector(".facts time").textContent`).(string)
	if !strings.Contains(started, local) || !zone(started) {
		t.Errorf("the record's start reads %q, want %s and its zone, Tokyo's", started, local)
	}
	b.Navigate(t, "/stats/")
	head := b.Eval(t, `document.querySelector(".history-table thead th").textContent`).(string)
	if !zone(head) {
		t.Errorf("the history's time column is headed %q, without Tokyo's zone", head)
	}
	if v := b.Eval(t, `Array.from(document.querySelectorAll(".history-table td.time time")).every(e => !/[A-Z]{3}|GMT/.test(e.textContent))`); v != true {
		t.Error("the history repeats the zone in each row")
	}
	b.Check(t)
}
