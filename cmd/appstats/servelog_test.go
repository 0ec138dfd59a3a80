package main

import (
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
)

// TestServeRedisDownSaysSoOnce: serve over a Redis that goes down says
// so on its standard error once — the store's warning that live updates
// stopped, with Redis's error — not once a retry (its subscription retries
// every few seconds; go-redis's own line for each failed dial goes to its
// logger at Debug, which serve does not print), and once more when Redis
// is back. Before, serve printed nothing while Redis was down: the store
// had no logger, and an operator learnt of the outage only from a page
// that failed.
func TestServeRedisDownSaysSoOnce(t *testing.T) {
	r := testservers.StartRedis(t)
	stdout, stderr, stop := background(t, "serve", "-redis", "redis://"+r.Addr, "-addr", "127.0.0.1:0")
	dashboardURL(t, stdout)
	r.WaitSubscribed(t, "appstats:events", 1)
	r.Stop()
	const down = "subscribing to the channel fails"
	waitFor(t, "serve to say Redis is down", func() bool { return strings.Contains(stderr.String(), down) })
	// Past the longest backoff twice (5 s), and the log's interval (10 s):
	// the subscription has retried, and would have said so again.
	time.Sleep(11 * time.Second)
	if n := strings.Count(stderr.String(), down); n != 1 {
		t.Errorf("serve said %d times that Redis is down; want once:\n%s", n, stderr)
	}
	r.Start()
	waitFor(t, "serve to say Redis is back", func() bool { return strings.Contains(stderr.String(), "live updates again") })
	if code := stop(); code != 0 {
		t.Errorf("serve exit status %d", code)
	}
	t.Logf("serve's standard error over the outage:\n%s", stderr)
}
