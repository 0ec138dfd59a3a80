package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestCrawlReportsSoonErrorsOfTrackedWork: errors a page throws 150-300 ms
// after load from a setInterval tick, an event stream's message and a
// setTimeout given code as a string are reported: the crawl waits for that
// work (an interval's next tick, a short timer of either kind, a stream's
// first message) before it leaves the page. Settle did not track it when
// this test was written; it does now, and TestCrawlWaitsForTrackedLateWork
// checks the same work later than the crawl's old 500 ms dwell.
func TestCrawlReportsSoonErrorsOfTrackedWork(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/s/":
			fmt.Fprint(w, `<!doctype html><title>start</title><a href="/s/interval">i</a> <a href="/s/sse">s</a> <a href="/s/strtimer">t</a> <a href="/s/other">o</a>`)
		case "/s/interval":
			fmt.Fprint(w, `<!doctype html><title>interval</title><script>setInterval(function () { throw new Error('interval boom'); }, 200)</script>`)
		case "/s/sse":
			fmt.Fprint(w, `<!doctype html><title>sse</title><script>new EventSource('/s/events').onmessage = function (e) { throw new Error('sse boom ' + e.data); }</script>`)
		case "/s/strtimer":
			fmt.Fprint(w, `<!doctype html><title>strtimer</title><script>setTimeout("throw new Error('string timer boom')", 200)</script>`)
		case "/s/events":
			w.Header().Set("Content-Type", "text/event-stream")
			w.(http.Flusher).Flush()
			select {
			case <-time.After(150 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
			fmt.Fprint(w, "data: hi\n\n")
			w.(http.Flusher).Flush()
		default:
			fmt.Fprint(w, `<!doctype html><title>other</title><p>ok</p>`)
		}
	}))
	defer srv.Close()
	crawlWantReported(t, New(t, srv.URL, Options{}), "/s/", "interval boom", "sse boom hi", "string timer boom")
}
