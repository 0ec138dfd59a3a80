package ui_test

import (
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
// link to a fragment its page lacks (browsertest's Crawl).
func TestBrowserCrawl(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		st := memstore.New(0)
		defer st.Close()
		b := newBrowser(t, ui.NewHandler(st))
		res := b.Crawl(t, "/stats/", browsertest.CrawlOptions{Prefix: "/stats/", Fetch: []string{"/stats/static/"}})
		t.Logf("crawled %d pages, checked %d fragments, clicked %d controls", len(res.Pages), res.Anchors, res.Controls)
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
		for _, p := range []string{"/stats/records/" + a.ID.String(), "/stats/compare?a=" + a.ID.String() + "&b=" + c.ID.String(),
			"/stats/traces/" + a.TraceID.String() + "?record=" + a.ID.String()} {
			r := b.Crawl(t, p, browsertest.CrawlOptions{Prefix: "/stats/", Fetch: []string{"/stats/static/"}, PerShape: 3, MaxPages: 8})
			res.Pages = append(res.Pages, r.Pages...)
			res.Anchors += r.Anchors
			res.Unchecked += r.Unchecked
		}
		t.Logf("crawled %d pages, checked %d fragments (%d more not on their page as loaded), clicked %d controls",
			len(res.Pages), res.Anchors, res.Unchecked, res.Controls)
		b.Check(t)
	})
}
