package ui_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/ui"
)

// unappliedJS lists the controls of the history's filter form whose
// value is not the one the page was served with: what the form says is
// filtered and the list is not.
const unappliedJS = `(function () {
  var f = document.querySelector('form.filters'), out = [];
  Array.prototype.forEach.call(f.elements, function (e) {
    if (!e.name || e.type === 'hidden') return;
    if (e.type === 'checkbox' ? e.checked !== e.defaultChecked :
        e.tagName === 'SELECT' ? e.selectedIndex !== Math.max(0, Array.prototype.findIndex.call(e.options, function (o) { return o.defaultSelected; })) :
        e.value !== e.defaultValue) out.push(e.name + '=' + (e.type === 'checkbox' ? e.checked : e.value));
  });
  return out.join(' ');
})()`

// TestBrowserBackAfterFilter: after filtering the history and going back,
// the filter form shows what the list does (no filter). The browser
// restored the controls as the user had set them before submitting
// (status 5xx, a search, errors only) over the unfiltered list, with no
// chip or "Reset" to say they were not applied.
func TestBrowserBackAfterFilter(t *testing.T) {
	st, _ := demoStore(t)
	live := ui.NewLive()
	defer live.Close()
	b := newBrowser(t, ui.NewHandler(st, ui.WithLive(live)))
	b.Navigate(t, "/stats/")
	b.Settle(t, "")
	b.Eval(t, `(function () {
  var f = document.querySelector('form.filters');
  f.elements.status.value = '5xx'; f.elements.q.value = 'checkout'; f.elements.error.checked = true;
  f.requestSubmit();
  return true;
})()`)
	b.WaitAfterNav(t, "the filtered history", `location.search.indexOf('status=5xx') >= 0 && document.readyState === 'complete'`)
	b.Settle(t, "")
	if v := b.Eval(t, unappliedJS); v != "" {
		t.Fatalf("the filtered page's form has values not applied: %v", v)
	}
	if err := chromedp.Do(b.Ctx, chromedp.NavigateBack()); err != nil {
		t.Fatal(err)
	}
	b.WaitAfterNav(t, "the unfiltered dashboard", `location.search === '' && document.readyState === 'complete'`)
	b.Settle(t, "")
	if v := b.Eval(t, unappliedJS); v != "" {
		t.Errorf("back on the unfiltered dashboard, its filter form says %v", v)
	}
	b.Check(t)
}

// TestBrowserBackAfterRecord: the filters a user applied are still in
// the history's form after opening a record from the filtered list and
// going back (the form says autocomplete="off", so the browser restores
// no control's state: the values are the page's own, from its URL). A
// pin of what autocomplete="off" must not lose.
func TestBrowserBackAfterRecord(t *testing.T) {
	st, _ := demoStore(t)
	live := ui.NewLive()
	defer live.Close()
	b := newBrowser(t, ui.NewHandler(st, ui.WithLive(live)))
	b.Navigate(t, "/stats/?status=2xx&sort=duration&min_ms=0.001")
	b.Settle(t, "")
	const applied = `(function () { var e = document.querySelector('form.filters').elements; return [e.status.value, e.sort.value, e.min_ms.value].join(' '); })()`
	const want = "2xx duration 0.001"
	if v := b.Eval(t, applied); v != want {
		t.Fatalf("the filtered page's form says %q, want %q", v, want)
	}
	if got := b.Eval(t, `(function () { var a = document.querySelector('.history-table tbody a[href^="records/"]'); if (!a) return false; a.click(); return true; })()`); got != true {
		t.Fatal("no record link in the filtered history")
	}
	b.WaitAfterNav(t, "a record page", `location.pathname.indexOf('/stats/records/') === 0 && document.readyState === 'complete'`)
	if err := chromedp.Do(b.Ctx, chromedp.NavigateBack()); err != nil {
		t.Fatal(err)
	}
	b.WaitAfterNav(t, "the filtered dashboard", `location.search.indexOf('status=2xx') >= 0 && document.readyState === 'complete'`)
	b.Settle(t, "")
	if v := b.Eval(t, applied); v != want {
		t.Errorf("back from a record page, the filter form says %q, want %q", v, want)
	}
	if v := b.Eval(t, unappliedJS); v != "" {
		t.Errorf("back from a record page, the filter form has values not applied: %v", v)
	}
	b.Check(t)
}
