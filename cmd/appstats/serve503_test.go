package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store/redisstore"
)

// TestServeSaysWhatTheStoreSays: serve's pages and API answer a record
// written by a newer release of appstats by naming that (and what to do:
// upgrade), not "store error"; and, with Redis down, 503 Service
// Unavailable with the store's error (Redis's, as api/health shows it),
// not 500 "store error". Before, both were 500 "store error".
func TestServeSaysWhatTheStoreSays(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	w, err := redisstore.Open(ctx, "redis://"+r.Addr, redisstore.Options{FoldInterval: -1, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	recs := testRecords(5, 3)
	if err := w.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// A newer release's record: its encoding's version one past this
	// release's.
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	id := recs[0].ID
	key := "{appstats:" + strconv.FormatInt(id.Time().Unix()/3600, 10) + "}:r"
	v, err := c.HGet(ctx, key, string(id[:])).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	v[1]++
	if err := c.HSet(ctx, key, string(id[:]), v).Err(); err != nil {
		t.Fatal(err)
	}

	stdout, _, stop := background(t, "serve", "-redis", "redis://"+r.Addr, "-addr", "127.0.0.1:0")
	base := dashboardURL(t, stdout)
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, path := range []string{"records/" + id.String(), "api/records/" + id.String()} {
		if code, body := get(path); !strings.Contains(body, "newer version of appstats") || !strings.Contains(body, "upgrade") {
			t.Errorf("%s, a newer release's record = %d %.300q; want it said that a newer version wrote it, and to upgrade", path, code, body)
		}
	}

	r.Stop()
	for _, path := range []string{"", "records/" + recs[1].ID.String(), "api/records", "api/stats", "part/stats"} {
		code, body := get(path)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "unavailable") || !strings.Contains(body, "connection refused") {
			t.Errorf("%q with Redis down = %d %.300q; want 503, saying the store is unavailable, and Redis's error", path, code, body)
		}
		if strings.HasPrefix(path, "api/") {
			var e struct{ Error string }
			if json.Unmarshal([]byte(body), &e) != nil || e.Error == "" {
				t.Errorf("%q with Redis down: %q is no JSON error", path, body)
			}
		}
	}
	if code := stop(); code != 0 {
		t.Errorf("serve exit status %d", code)
	}
}
