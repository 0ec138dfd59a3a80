package appstats_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
)

// An app whose Redis is paused (SIGSTOP: its connections open, nothing
// answered, past every timeout) serves every request as it does with
// Redis answering; the records it cannot store are counted as the
// recorder's sink errors; and once Redis resumes, its records reach Redis
// again without a restart.
func TestRequestsWhileRedisPaused(t *testing.T) {
	r := testservers.StartRedis(t)
	as, err := appstats.Open(appstats.Config{
		StoreURL: "redis://" + r.Addr, NoOTLP: true,
		RecorderOptions: []recording.Option{recording.WithBatch(0, 10*time.Millisecond)},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
	srv := httptest.NewServer(as.Middleware(mux))
	defer srv.Close()
	client := &http.Client{Timeout: time.Minute} // a hang guard
	get := func(q string) {
		t.Helper()
		resp, err := client.Get(srv.URL + "/hello?" + q)
		if err != nil {
			t.Fatalf("GET /hello?%s: %v", q, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "hi" {
			t.Fatalf("GET /hello?%s = %s %q; want 200 hi", q, resp.Status, b)
		}
	}
	// stored waits until a record of the request with query q is listed.
	stored := func(q string) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			p, err := as.Store().List(context.Background(), store.Query{Limit: 50})
			if err == nil {
				for _, s := range p.Records {
					if strings.Contains(s.Query, q) {
						return
					}
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no record of /hello?%s stored after a minute (%v)", q, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	get("before=1")
	stored("before=1")

	r.Pause()
	for i := range 300 {
		get(fmt.Sprintf("paused=%d", i))
	}
	waitSinkErrors := time.Now().Add(time.Minute)
	for as.Recorder().Stats().SinkErrors == 0 {
		if time.Now().After(waitSinkErrors) {
			t.Fatalf("no sink error counted a minute after Redis was paused: %+v", as.Recorder().Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.Resume()
	for i := 0; ; i++ {
		q := fmt.Sprintf("resumed=%d", i)
		get(q)
		p, err := as.Store().List(context.Background(), store.Query{Limit: 50})
		if err == nil && len(p.Records) > 0 && strings.HasPrefix(p.Records[0].Query, "resumed=") {
			break
		}
		if i > 3000 {
			t.Fatalf("no record reached Redis after it resumed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := as.Close(); err != nil && !errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Close after the pause: %v", err)
	}
}
