package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestClearCrossCounted: timers and intervals share one pool of handles
// in the browser — clearTimeout clears an interval, clearInterval a
// timeout — and a page that clears its work with the other function has
// none left: the count Settle waits for (window.__browsertestPending) is
// 0, not a handle that never fires, which held every Settle of such a
// page for the whole QuietBound. A handle cleared never fires, so the
// count read at once is what it would be later.
func TestClearCrossCounted(t *testing.T) {
	pages := map[string]string{
		"interval-cleared-by-clearTimeout":        `clearTimeout(setInterval(function () {}, 100))`,
		"string-interval-cleared-by-clearTimeout": `clearTimeout(setInterval("1", 100))`,
		"timer-cleared-by-clearInterval":          `clearInterval(setTimeout(function () {}, 100))`,
		"string-timer-cleared-by-clearInterval":   `clearInterval(setTimeout("1", 100))`,
		"string-interval-cleared":                 `clearInterval(setInterval("1", 100))`,
		"string-timer-cleared":                    `clearTimeout(setTimeout("1", 100))`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		js, ok := pages[r.URL.Path[1:]]
		if !ok {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		// __browsertestMark first: an interval not yet ticked since the
		// mark is pending, as it is when Settle has marked.
		fmt.Fprintf(w, `<!doctype html><title>t</title><script>window.__browsertestMark(); %s</script>`, js)
	}))
	t.Cleanup(srv.Close)
	b := New(t, srv.URL, Options{})
	for name := range pages {
		b.Navigate(t, "/"+name)
		if got := b.Eval(t, `[window.__browsertestPending, window.__browsertestTimers]`); fmt.Sprint(got) != "[0 0]" {
			t.Errorf("%s: pending, timers = %v, want [0 0]", name, got)
		}
	}
}
