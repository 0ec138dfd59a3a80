package main

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store/redisstore"
)

// APPSTATS_REDIS_URL names the Redis when neither -data nor -redis is
// given, so that its password stays out of the process list (a -redis URL
// with a password is there for any local user to read). -data wins over
// it.
func TestRedisURLFromEnvironment(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	if err := c.ConfigSet(ctx, "requirepass", "env-s3cret").Err(); err != nil {
		t.Fatal(err)
	}
	url := "redis://:env-s3cret@" + r.Addr
	w, err := redisstore.Open(ctx, url, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(ctx, testRecords(3, 12)); err != nil {
		t.Fatal(err)
	}
	t.Setenv(redisURLEnv, url)
	code, stdout, stderr := appstats(t, "", "stats", "-window", "2h")
	if code != 0 || !strings.Contains(stdout, ": 12 requests") {
		t.Errorf("stats with $%s = %d, %q %q; want 12 requests", redisURLEnv, code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "env-s3cret") {
		t.Errorf("the password is shown: %q %q", stdout, stderr)
	}
	if code, _, stderr := appstats(t, "", "stats", "-data", t.TempDir()); code != 1 || !strings.Contains(stderr, "holds no appstats records") {
		t.Errorf("stats -data with $%s = %d, %q; want -data used", redisURLEnv, code, stderr)
	}
	t.Setenv(redisURLEnv, "")
	if code, _, stderr := appstats(t, "", "stats"); code != 1 || !strings.Contains(stderr, "$"+redisURLEnv) {
		t.Errorf("stats with no store = %d, %q; want the variable named", code, stderr)
	}
}
