package redisstore_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testlog"
	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store/redisstore"
)

// TestNewUnansweredWithinWriteTimeout: New's question to a *redis.Client
// is bounded by WriteTimeout whatever the client's
// options (here no ContextTimeoutEnabled, and a read timeout of an hour,
// which bounded the question before), and New logs at Warn that it was
// not answered and which writes the store takes.
func TestNewUnansweredWithinWriteTimeout(t *testing.T) {
	addr := testservers.Silent(t)
	c := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: time.Hour, WriteTimeout: time.Hour, MaxRetries: -1})
	defer c.Close()
	var logs testlog.Buffer
	type result struct {
		s   *redisstore.Store
		err error
	}
	got := make(chan result, 1)
	go func() {
		s, err := redisstore.New(c, redisstore.Options{
			Prefix: "silent", FoldInterval: -1, RetentionInterval: -1,
			WriteTimeout: 200 * time.Millisecond,
			Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
		})
		got <- result{s, err}
	}()
	var r result
	select {
	case r = <-got:
	case <-time.After(time.Minute):
		// A watchdog, far above WriteTimeout: without the bound New
		// waits for the client's read timeout (an hour).
		t.Fatal("New still waits for an unanswered server a minute on (WriteTimeout 200ms)")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	defer r.s.Close()
	if r.s.SingleServer() {
		t.Error("a server that did not answer was taken for a single server")
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN") || !strings.Contains(out, "did not answer") {
		t.Errorf("no warning that the server did not answer; logs:\n%s", out)
	}
}
