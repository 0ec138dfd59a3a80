package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// tail follows a Redis that restarts: it says once that reading failed,
// and prints the records written when Redis answers again. Before, it
// exited at the first failed poll.
func TestTailFollowsRedisRestart(t *testing.T) {
	r := testservers.StartRedis(t)
	url := "redis://" + r.Addr
	out, errOut, stop := background(t, "tail", "-redis", url, "-n", "0", "-interval", "20ms")
	// tail has started once it is subscribed to the announcements.
	r.WaitSubscribed(t, redisstore.DefaultPrefix+":events", 1)
	r.Stop()
	waitFor(t, "tail's word of the failure", func() bool { return strings.Contains(errOut.String(), "appstats tail:") })
	if s := errOut.String(); !strings.Contains(s, "trying again every 20ms") {
		t.Fatalf("tail with Redis down said %q", s)
	}
	r.Start()
	ctx := context.Background()
	w, err := redisstore.Open(ctx, url, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	recs := storetest.Records(7, time.Now().Add(-time.Second), time.Millisecond, 2)
	if err := w.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the records written after the restart", func() bool {
		return strings.Contains(out.String(), recs[0].ID.String()) && strings.Contains(out.String(), recs[1].ID.String())
	})
	if code := stop(); code != 0 {
		t.Errorf("tail exit status %d", code)
	}
	if s := errOut.String(); strings.Count(s, "trying again") != 1 || !strings.Contains(s, "reading again") {
		t.Errorf("tail said %q; want the failure once, then that it reads again", s)
	}
}
