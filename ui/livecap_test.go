package ui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/goappstats/appstats/ui"
)

// getEvents asks for a live stream and returns the answer, whose body the
// test closes at its end.
func getEvents(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url + "/stats/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestLiveStreamsCapped opens as many live streams as a Live serves by
// default, and one more: that one is answered 503, with Retry-After and a
// message, and once a stream has ended a new one is served again.
func TestLiveStreamsCapped(t *testing.T) {
	l := ui.NewLive()
	defer l.Close()
	srv := liveServer(t, l)
	const max = 256 // ui.DefaultMaxStreams
	var first *http.Response
	for i := range max {
		resp := getEvents(t, srv.URL)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("stream %d: %d", i, resp.StatusCode)
		}
		if i == 0 {
			first = resp
		}
	}
	waitSubscribers(t, l, max)
	resp := getEvents(t, srv.URL)
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("stream %d: 200, want 503: no cap", max+1)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), "too many live streams") {
		t.Fatalf("stream %d: %d, Retry-After %q, %.200q; want 503, Retry-After and a message", max+1,
			resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if n := l.Subscribers(); n != max {
		t.Errorf("%d subscribers, want %d", n, max)
	}
	first.Body.Close()
	waitSubscribers(t, l, max-1)
	if resp := getEvents(t, srv.URL); resp.StatusCode != http.StatusOK {
		t.Errorf("a stream after one ended: %d, want 200", resp.StatusCode)
	}
}

// TestLiveMaxStreamsOption: ui.WithLiveMaxStreams sets the cap, and
// api/health counts the streams refused over it.
func TestLiveMaxStreamsOption(t *testing.T) {
	l := ui.NewLive(ui.WithLiveMaxStreams(2))
	defer l.Close()
	srv := liveServer(t, l)
	for range 2 {
		if resp := getEvents(t, srv.URL); resp.StatusCode != http.StatusOK {
			t.Fatalf("events: %d", resp.StatusCode)
		}
	}
	waitSubscribers(t, l, 2)
	for range 3 {
		if resp := getEvents(t, srv.URL); resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("a third stream: %d, want 503", resp.StatusCode)
		}
	}
	resp, err := http.Get(srv.URL + "/stats/api/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Live struct {
			Subscribers int    `json:"subscribers"`
			Refused     uint64 `json:"refused"`
		} `json:"live"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if h.Live.Subscribers != 2 || h.Live.Refused != 3 {
		t.Errorf("health live %+v, want 2 subscribers, 3 refused", h.Live)
	}
}
