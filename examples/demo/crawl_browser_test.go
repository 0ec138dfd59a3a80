package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/internal/browsertest"
)

// TestBrowserCrawlDemo is a newcomer's first clicks: the demo run as the
// README says, its every page requested (the traffic its generator makes),
// then the dashboard in Chromium, every link and GET form under /stats/
// followed from it and every button clicked (browsertest's Crawl): no page
// or download answers 4xx or 5xx, no script error, no link to a fragment
// its page lacks. With APPSTATS_DEMO_URL set, it crawls that running demo
// instead.
func TestBrowserCrawlDemo(t *testing.T) {
	base := os.Getenv(DemoURLEnv)
	if base == "" {
		_, srv := serveDemo(t, appstats.Config{InMemory: true, NoOTLP: true})
		base = srv.URL
		for _, p := range []string{"/product/7", "/product/42", "/home", "/orders", "/orders/batched", "/checkout", "/report", "/",
			"/customers/orders", "/customers/orders/joined", "/stock", "/stock/unknown", "/lookup", "/socket", "/assistant"} {
			for range 2 {
				resp, err := http.Get(base + p)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		// The generator's own traffic while the crawl goes on.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); generate(ctx, base) }()
		t.Cleanup(func() { cancel(); <-done })
		time.Sleep(time.Second) // the records written
	}
	b := browsertest.New(t, base, browsertest.Options{Timeout: 10 * time.Minute})
	res := b.Crawl(t, "/stats/", browsertest.CrawlOptions{Prefix: "/stats/", Fetch: []string{"/stats/static/"}, PerShape: 2, MaxPages: 120})
	for _, p := range res.Pages {
		t.Log(p)
	}
	t.Logf("crawled %d pages, fetched %d downloads, checked %d fragments, clicked %d controls",
		len(res.Pages), len(res.Fetched), res.Anchors, res.Controls)
	if len(res.Pages) < 10 {
		t.Errorf("only %d pages crawled: %v", len(res.Pages), res.Pages)
	}
	b.Check(t)
}
