package ui_test

import (
	"context"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/ui"
)

// TestBrowserLiveLongKeepAlive: a dashboard whose Live pings once a month
// (WithLiveKeepAlive) keeps its stream. The page's watchdog is a timer of
// three times the keep-alive the stream announces, and a browser fires a
// timer of more than 2³¹−1 ms at once: the page dropped the stream as
// soon as it had it, said "reconnecting", and opened another (and
// refreshed) every second or so. Here the page is live when a new record
// shows, and never said otherwise.
func TestBrowserLiveLongKeepAlive(t *testing.T) {
	st, _ := newStore(t, 0)
	live := ui.NewLive(ui.WithLiveKeepAlive(30 * 24 * time.Hour))
	defer live.Close()
	b := newBrowser(t, ui.NewHandler(st, ui.WithLive(live)))
	b.Navigate(t, "/stats/")
	b.WaitFor(t, "live connection", `document.body.dataset.liveState === "live"`, browsertest.Patience)
	b.Eval(t, `window.__states = [];
		new MutationObserver(() => window.__states.push(document.body.dataset.liveState))
			.observe(document.body, {attributes: true, attributeFilter: ["data-live-state"]}), true`)
	r := makeRecord(time.Now(), 1, "/after-hello", 200, 1)
	if err := st.Write(context.Background(), []*recording.Record{r}); err != nil {
		t.Fatal(err)
	}
	if err := live.Write(context.Background(), []*recording.Record{r}); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(t, "the new record", `document.querySelector('tr[data-id="`+r.ID.String()+`"]') !== null`, browsertest.Patience)
	if v := b.Eval(t, `window.__states.filter(s => s !== "live").join(" ")`); v != "" {
		t.Errorf("the page left the live state: %v", v)
	}
	if v := b.Eval(t, `document.body.dataset.liveState`); v != "live" {
		t.Errorf("live state %v, want live", v)
	}
	b.Check(t)
}
