package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store/redisstore"
)

// serve over a Redis that refuses its password, or is down, when it
// starts: it exits 1 saying which, the password hidden. Over a Redis that
// goes away while it serves: its pages and API answer 5xx (a store error,
// never a panic or a hang), api/health and the error page say the store
// is unavailable (before: "ok", serve writing nothing that could fail),
// it keeps serving, and once Redis is back its pages answer again with
// what was written meanwhile, without a restart; it exits 0 when stopped,
// and nothing it printed holds the password.
func TestServeRedisAway(t *testing.T) {
	const pw = "serve-s3cret"
	r := testservers.StartRedis(t)
	ctx := context.Background()
	setPassword := func() {
		t.Helper()
		c := redis.NewClient(&redis.Options{Addr: r.Addr})
		defer c.Close()
		if err := c.ConfigSet(ctx, "requirepass", pw).Err(); err != nil {
			t.Fatal(err)
		}
	}
	setPassword()
	url := "redis://:" + pw + "@" + r.Addr
	if code, _, stderr := appstats(t, "", "serve", "-redis", "redis://:wrong-pw@"+r.Addr, "-addr", "127.0.0.1:0"); code != 1 || !strings.Contains(stderr, "WRONGPASS") || strings.Contains(stderr, "wrong-pw") {
		t.Errorf("serve with a wrong password = %d, %q; want 1, Redis's refusal, the password hidden", code, stderr)
	}
	w, err := redisstore.Open(ctx, url, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(ctx, testRecords(3, 12)); err != nil {
		t.Fatal(err)
	}
	t.Setenv(redisURLEnv, url)
	stdout, stderr, stop := background(t, "serve", "-addr", "127.0.0.1:0")
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
	health := func() string {
		t.Helper()
		code, body := get("api/health")
		var h struct {
			Store struct {
				State string `json:"state"`
			} `json:"store"`
		}
		if code != 200 || json.Unmarshal([]byte(body), &h) != nil {
			t.Fatalf("api/health = %d %s", code, body)
		}
		return h.Store.State
	}
	if code, _ := get(""); code != 200 || health() != "ok" {
		t.Fatalf("the dashboard with Redis up = %d, store %s", code, health())
	}

	r.Stop()
	waitFor(t, "api/health to say the store is unavailable", func() bool { return health() == "unavailable" })
	for _, path := range []string{"", "api/records", "api/stats", "api/series?window=1h&step=1m", "part/stats", "part/history"} {
		if code, body := get(path); code < 500 || strings.Contains(body, pw) {
			t.Errorf("%q with Redis away = %d %q; want a 5xx, no password", path, code, body)
		}
	}
	if _, body := get(""); !strings.Contains(body, "unavailable") {
		t.Errorf("the dashboard's error page with Redis away does not say the store is unavailable:\n%s", body)
	}
	if code, _, stderr := appstats(t, "", "serve", "-addr", "127.0.0.1:0"); code != 1 || !strings.Contains(stderr, "is unreachable") || strings.Contains(stderr, pw) {
		t.Errorf("serve with Redis down = %d, %q; want 1, unreachable, the password hidden", code, stderr)
	}

	r.Start() // empty: the server keeps no data
	setPassword()
	if err := w.Write(ctx, testRecords(4, 5)); err != nil {
		// The writer's first write may meet a connection the restart
		// closed: the next one gets through.
		if err := w.Write(ctx, testRecords(4, 5)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the dashboard to answer again", func() bool { code, _ := get(""); return code == 200 })
	var st struct {
		Requests int64 `json:"requests"`
	}
	getJSON(t, base+"api/stats", &st)
	if st.Requests != 5 {
		t.Errorf("api/stats once Redis is back = %d requests; want the 5 written since", st.Requests)
	}
	waitFor(t, "api/health to say ok", func() bool { return health() == "ok" })
	if code := stop(); code != 0 {
		t.Errorf("serve exit status %d", code)
	}
	if strings.Contains(stdout.String()+stderr.String(), pw) {
		t.Errorf("serve printed the password: %q %q", stdout.String(), stderr.String())
	}
}
