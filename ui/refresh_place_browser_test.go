package ui_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserRefreshKeepsPlace: a live refresh replaces the stats and the
// history sections, where the user may be at work: typing a search into
// the history's filters, or moving through the tables with the keyboard.
// Under steady traffic that is a refresh a second; each used to wipe the
// text typed and not yet submitted and drop the focus to the page, so the
// filters could not be used and Tab never got past the first table.
func TestBrowserRefreshKeepsPlace(t *testing.T) {
	st, _ := demoStore(t)
	live := ui.NewLive()
	defer live.Close()
	b := newBrowser(t, ui.NewHandler(st, ui.WithLive(live)))
	b.Navigate(t, "/stats/")
	b.WaitFor(t, "live connection", `document.body.dataset.liveState === "live"`, browsertest.Patience)
	n := 0
	refresh := func() {
		t.Helper()
		n++
		r := makeRecord(time.Now(), uint64(time.Now().UnixNano()), "/place", 200, 3)
		if err := st.Write(context.Background(), []*recording.Record{r}); err != nil {
			t.Fatal(err)
		}
		if err := live.Write(context.Background(), []*recording.Record{r}); err != nil {
			t.Fatal(err)
		}
		b.WaitFor(t, "a live refresh", `document.querySelector('tr[data-id="`+r.ID.String()+`"]') !== null`, browsertest.Patience)
	}

	// Typed, not submitted: the search keeps its text and the focus, the
	// caret where it was; a choice made in a select stays made.
	b.Eval(t, `(function () { var s = document.querySelector('.filters select[name=sort]'); s.value = 'duration'; return true; })()`)
	if err := chromedp.Do(b.Ctx, chromedp.SendKeys(`.filters input[name=q]`, "checkout")); err != nil {
		t.Fatal(err)
	}
	refresh()
	if v := b.Eval(t, `(function () {
  var q = document.querySelector('.filters input[name=q]');
  return [q.value, document.activeElement === q, q.selectionStart, document.querySelector('.filters select[name=sort]').value].join(" ");
})()`); v != "checkout true 8 duration" {
		t.Errorf("after a refresh the search box has (value, focused, caret, sort) %q, want %q", v, "checkout true 8 duration")
	}
	if err := chromedp.Do(b.Ctx, chromedp.KeyEvent("s")); err != nil {
		t.Fatal(err)
	}
	if v := b.Eval(t, `document.querySelector('.filters input[name=q]').value`); v != "checkouts" {
		t.Errorf("typing on after the refresh gives %q, want %q", v, "checkouts")
	}

	// Tab through the stats tables: the focus stays on the control it
	// was on, and the next Tab moves on from there.
	b.Eval(t, `document.querySelectorAll('#stats-section button.toggle')[2].focus(), true`)
	key := b.Eval(t, `document.activeElement.dataset.key`)
	refresh()
	if v := b.Eval(t, `document.activeElement.dataset.key`); v != key {
		t.Errorf("after a refresh the focus is on %v, want the toggle %v", v, key)
	}
	if err := chromedp.Do(b.Ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
		t.Fatal(err)
	}
	if v := b.Eval(t, `document.activeElement.closest('#stats-section') !== null && document.activeElement.tagName`); v != "A" {
		t.Errorf("Tab after a refresh moved to %v, want the toggle's row's link", v)
	}
	b.Check(t)
}

// TestBrowserActiveRefreshKeepsPlace: the in-flight page's refresh, every
// 2 s, keeps the focus where the keyboard put it too.
func TestBrowserActiveRefreshKeepsPlace(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	rec := recording.New(recording.WithSinks(st))
	defer rec.Close(context.Background())
	for _, p := range []string{"/slow/export", "/slow/import"} {
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: p})
		c := recording.StartCall(ctx, "http", "GET backend/chunk")
		defer ar.Finish()
		defer c.End(nil)
	}
	b := newBrowser(t, ui.NewHandler(st, ui.WithRecorder(rec)))
	b.Navigate(t, "/stats/active")
	b.Eval(t, `document.querySelectorAll('.active-table button.toggle')[1].focus(), true`)
	key := b.Eval(t, `document.activeElement.dataset.key`)
	n := b.Eval(t, `Number(document.body.dataset.refreshes || 0)`).(float64)
	b.WaitFor(t, "a refresh", fmt.Sprintf(`Number(document.body.dataset.refreshes || 0) > %v`, n), browsertest.Patience)
	if v := b.Eval(t, `document.activeElement.dataset.key`); v != key {
		t.Errorf("after a refresh the focus is on %v, want the toggle %v", v, key)
	}
	b.Check(t)
}
