package httpstats_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestNoConnectionNoReuseAttr: a call that was never given a connection
// (GotConn never came: its proxy could not be chosen, its dial failed, or
// its base RoundTripper is not one that reports connections) has no
// appstats.http.connection.reused attribute, rather than "false", which
// says a connection was dialed for it; a call given one says whether it
// was reused, whether it failed after (a server that closes the
// connection unanswered) or got its response. Before, all three without a
// connection said "false".
func TestNoConnectionNoReuseAttr(t *testing.T) {
	ok := func(req *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Status: "200 OK", ProtoMajor: 1, Body: io.NopCloser(strings.NewReader("ok")), Request: req}, nil
	}
	// Given a connection: a server that closes it unanswered (the call
	// fails after GotConn), and one that answers twice on one connection.
	closing, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closing.Close() })
	go func() {
		for {
			c, err := closing.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	answering := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(answering.Close)
	const none = "(none)"
	nowhere := []string{"http://example.test/x"}
	for _, tc := range []struct {
		name string
		base http.RoundTripper
		urls []string
		want []string // each call's attribute, none when it has none
	}{
		{"proxy error", &http.Transport{Proxy: func(*http.Request) (*url.URL, error) { return nil, errors.New("no proxy") }}, nowhere, []string{none}},
		{"dial error", &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("no dial")
		}}, nowhere, []string{none}},
		{"no hooks", roundTripFunc(ok), nowhere, []string{none}},
		{"closed unanswered", &http.Transport{}, []string{"http://" + closing.Addr().String() + "/x"}, []string{"false"}},
		{"answered twice", &http.Transport{}, []string{answering.URL + "/a", answering.URL + "/b"}, []string{"false", "true"}},
	} {
		rec, sink := newRecorder(t, recording.WithMaxStack(0))
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		client := &http.Client{Transport: httpstats.NewTransport(tc.base)}
		for _, u := range tc.urls {
			req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		client.CloseIdleConnections()
		ar.Finish()
		recs := flush(t, rec, sink)
		if len(recs) != 1 || len(recs[0].Calls) != len(tc.urls) {
			t.Fatalf("%s: %d records; want 1 of %d calls", tc.name, len(recs), len(tc.urls))
		}
		for i, c := range recs[0].Calls {
			got := none
			for _, a := range c.Attrs {
				if a.Key == "appstats.http.connection.reused" {
					got = a.Value
				}
			}
			if got != tc.want[i] {
				t.Errorf("%s, call %d: appstats.http.connection.reused=%s, want %s", tc.name, i+1, got, tc.want[i])
			}
		}
	}
}
