package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// lateWorkServer serves pages whose work throws later than the crawl's
// old fixed dwell (500 ms after the clicks) and within TrackBound: an
// interval's first tick at 900 ms, a timer given code as a string at
// 900 ms, an event stream's first message when release says (the
// server holds it until then).
func lateWorkServer(t *testing.T, release func(r *http.Request) <-chan struct{}) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/s/":
			fmt.Fprint(w, `<!doctype html><title>start</title><a href="/s/sse">s</a> <a href="/s/interval">i</a> <a href="/s/strtimer">t</a> <a href="/s/plain">p</a>`)
		case "/s/interval":
			fmt.Fprint(w, `<!doctype html><title>interval</title><script>setInterval(function () { throw new Error('slow interval boom'); }, 900)</script>`)
		case "/s/strtimer":
			fmt.Fprint(w, `<!doctype html><title>strtimer</title><script>setTimeout("throw new Error('slow string timer boom')", 900)</script>`)
		case "/s/sse":
			fmt.Fprint(w, `<!doctype html><title>sse</title><script>new EventSource('/s/events').addEventListener('hello', function (e) { throw new Error('slow sse boom ' + e.data); })</script>`)
		case "/s/events":
			w.Header().Set("Content-Type", "text/event-stream")
			w.(http.Flusher).Flush()
			select {
			case <-release(r):
			case <-r.Context().Done():
				return
			}
			fmt.Fprint(w, "event: hello\ndata: hi\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case "/s/plain":
			fmt.Fprint(w, `<!doctype html><title>plain</title><p>ok</p>`)
		default: // the favicon
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestCrawlWaitsForTrackedLateWork: the crawl reports what a page's
// interval, string timer and event stream throw later than the fixed
// 500 ms it used to leave each page, as it waits for that work (an
// interval's next tick, a short timer of either kind, a stream's first
// event) instead of a fixed time.
func TestCrawlWaitsForTrackedLateWork(t *testing.T) {
	srv := lateWorkServer(t, func(*http.Request) <-chan struct{} {
		c := make(chan struct{})
		time.AfterFunc(900*time.Millisecond, func() { close(c) })
		return c
	})
	crawlWantReported(t, New(t, srv.URL, Options{}), "/s/", "slow interval boom", "slow string timer boom", "slow sse boom hi")
}

// TestCrawlUntrackedMissesLateStream: the same crawl, with Settle waiting
// for short timers alone (as before intervals and event streams were
// tracked) and no dwell, leaves the event stream's page before its first
// message, held by the server until the crawl is done: what the tracking
// waits for is late work indeed.
func TestCrawlUntrackedMissesLateStream(t *testing.T) {
	done := make(chan struct{})
	srv := lateWorkServer(t, func(*http.Request) <-chan struct{} { return done })
	b := New(t, srv.URL, Options{})
	b.untracked = true
	var c collectTB
	c.TB = t
	b.Crawl(&c, "/s/", CrawlOptions{Prefix: "/s/"})
	close(done)
	if all := strings.Join(c.errs, "\n"); strings.Contains(all, "slow sse boom") {
		t.Errorf("the stream's message came within the untracked crawl: %q", c.errs)
	}
}
