package ui_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/ui"
)

// flakyStore answers as its store does until it is taken down; then its
// reads fail and its health says it is unavailable, as redisstore's does
// while Redis is down.
type flakyStore struct {
	store.Store
	down *atomic.Bool
}

var errFlakyDown = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (s flakyStore) Stats(ctx context.Context, w store.Window) (*store.Stats, error) {
	if s.down.Load() {
		return nil, errFlakyDown
	}
	return s.Store.Stats(ctx, w)
}

func (s flakyStore) List(ctx context.Context, q store.Query) (store.Page, error) {
	if s.down.Load() {
		return store.Page{}, errFlakyDown
	}
	return s.Store.List(ctx, q)
}

func (s flakyStore) Series(ctx context.Context, w store.Window, step time.Duration) ([]store.Bucket, error) {
	if s.down.Load() {
		return nil, errFlakyDown
	}
	return s.Store.Series(ctx, w, step)
}

func (s flakyStore) Health() store.Health {
	if s.down.Load() {
		return store.Health{State: store.StateUnavailable, Detail: "Redis does not answer", Dropped: 3}
	}
	return store.Health{State: store.StateOK}
}

// TestBrowserStoreGoesDown: a dashboard left open while its store goes
// down says so in its store card at the next refresh, which fails, rather
// than keep showing the store as ok until a reload; and says it is ok
// again once a refresh succeeds.
func TestBrowserStoreGoesDown(t *testing.T) {
	mem, _ := demoStore(t)
	var down atomic.Bool
	live := ui.NewLive()
	defer live.Close()
	b := newBrowser(t, ui.NewHandler(flakyStore{Store: mem, down: &down}, ui.WithLive(live)))
	b.Navigate(t, "/stats/")
	b.WaitPainted(t, "chartRequests")
	b.WaitFor(t, "live connection", `document.body.dataset.liveState === "live"`, browsertest.Patience)
	state := `document.querySelector("#kpi-store .store-state").textContent`
	if s := b.Eval(t, state); s != "ok" {
		t.Fatalf("store card before: %v, want ok", s)
	}
	down.Store(true)
	b.Eval(t, `AppStats.live.refresh(), true`)
	b.WaitFor(t, "the store card to say the store is unavailable",
		state+` === "unavailable" && document.querySelector("#kpi-store").classList.contains("warn")`+
			` && document.querySelector("#kpi-store").textContent.includes("Redis does not answer")`, browsertest.Patience)
	down.Store(false)
	b.WaitFor(t, "the refresh in progress to end", `!AppStats.live.inflight`, browsertest.Patience)
	b.Eval(t, `AppStats.live.refresh(), true`)
	b.WaitFor(t, "the store card to say ok again",
		state+` === "ok" && !document.querySelector("#kpi-store").classList.contains("warn")`, browsertest.Patience)
}
