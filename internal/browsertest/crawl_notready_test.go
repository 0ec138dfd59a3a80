package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestCrawlReportsStartThrowsWithinSession: pages that run the
// dashboard's script (window.AppStats) and throw in its start never set
// data-ready. The crawl reports each page's exception, and does not spend
// its browser session on them: Settle says "not ready" at once for a page
// that threw since it loaded, instead of waiting Patience (1 min) each
// (three such pages used up a 2-minute session, and the crawl ended in
// context errors).
func TestCrawlReportsStartThrowsWithinSession(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page := `<!doctype html><title>%s</title><a href="/s/a">a</a> <a href="/s/b">b</a> <a href="/s/c">c</a>` +
			`<script>window.AppStats = {}; document.addEventListener('DOMContentLoaded', function () { throw new Error('start boom %s'); });</script>`
		fmt.Fprintf(w, page, r.URL.Path, r.URL.Path)
	}))
	defer srv.Close()
	all := crawlWantReported(t, New(t, srv.URL, Options{Timeout: 2 * time.Minute}), "/s/a", "start boom /s/a", "start boom /s/b", "start boom /s/c")
	if strings.Contains(all, "context deadline exceeded") {
		t.Errorf("the crawl ran out of its session: %.1500s", all)
	}
}
