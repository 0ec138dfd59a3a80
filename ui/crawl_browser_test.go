package ui_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserCrawl follows every link and GET form under /stats/ from the
// dashboard, and clicks every button, of an empty store and of a store of
// 900 demo records, two big records of one trace (their details, trace and
// compare pages paged): no page answers 4xx or 5xx, no script error, no
// link to a fragment its page lacks (browsertest's Crawl); and the crawl
// went where it should: enough pages, the kinds of page linked, and the
// second page of each pager.
func TestBrowserCrawl(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		st := memstore.New(0)
		defer st.Close()
		b := newBrowser(t, ui.NewHandler(st))
		res := b.Crawl(t, "/stats/", browsertest.CrawlOptions{Prefix: "/stats/", Fetch: []string{"/stats/static/"}})
		t.Logf("crawled %d pages, checked %d fragments, clicked %d controls", len(res.Pages), res.Anchors, res.Controls)
		if len(res.Pages) < 5 { // 10 when written
			t.Errorf("the crawl visited %d pages, want at least 5: %q", len(res.Pages), res.Pages)
		}
		b.Check(t)
	})
	t.Run("records", func(t *testing.T) {
		st, _ := demoStore(t)
		now := time.Now().Add(-time.Minute)
		a := makeRecord(now, 1, "/big", 200, 3000)
		c := makeRecord(now.Add(time.Millisecond), 2, "/big", 200, 3000)
		c.TraceID = a.TraceID
		c.SpanID[1] = 2
		a.Calls[0].SpanID[0], a.Calls[0].SpanID[1] = 9, 9
		c.ParentSpanID = a.Calls[0].SpanID
		writeRecs(t, st, a, c)
		b := newBrowser(t, ui.NewHandler(st))
		res := b.Crawl(t, "/stats/", browsertest.CrawlOptions{Prefix: "/stats/", Fetch: []string{"/stats/static/"}, PerShape: 2, PerPath: 6, MaxPages: 50})
		// And the big records' pages, which the dashboard's first page may
		// not reach.
		// It reached the details and compare pages, and the dashboard's
		// pager (older records: ?before=); it visited 21 pages when written
		// (those it only checked fragments of counted since).
		for _, kind := range []string{"/stats/records/", "/stats/compare?", "/stats/?before="} {
			if !slices.ContainsFunc(slices.Concat(res.Pages, res.Checked), func(u string) bool { return strings.Contains(u, kind) }) {
				t.Errorf("the crawl from the dashboard reached no page of %s: %q", kind, res.Pages)
			}
		}
		if n := len(res.Pages) + len(res.Checked); n < 15 {
			t.Errorf("the crawl from the dashboard visited %d pages, want at least 15: %q", n, res.Pages)
		}
		for _, p := range []string{"/stats/records/" + a.ID.String(), "/stats/compare?a=" + a.ID.String() + "&b=" + c.ID.String(),
			"/stats/traces/" + a.TraceID.String() + "?record=" + a.ID.String()} {
			r := b.Crawl(t, p, browsertest.CrawlOptions{Prefix: "/stats/", Fetch: []string{"/stats/static/"}, PerShape: 3, MaxPages: 8})
			// Its pager's second page, which a broken pager would not reach.
			path, _, _ := strings.Cut(p, "?")
			if !slices.ContainsFunc(slices.Concat(r.Pages, r.Checked), func(u string) bool {
				v, err := url.Parse(u)
				return err == nil && v.Path == path && v.Query().Get("page") == "2"
			}) {
				t.Errorf("the crawl from %s did not reach its page 2: %q", p, r.Pages)
			}
			res.Pages = append(res.Pages, r.Pages...)
			res.Checked = append(res.Checked, r.Checked...)
			res.Anchors += r.Anchors
			res.Reloaded += r.Reloaded
		}
		t.Logf("crawled %d pages (and fetched %d more for their fragments), checked %d fragments (%d of them by loading their page with them), clicked %d controls",
			len(res.Pages), len(res.Checked), res.Anchors, res.Reloaded, res.Controls)
		b.Check(t)
	})
}
