package httpstats_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// keepingRoundTripper is an in-process RoundTripper that keeps every
// request's traceparent (a string, which must never change) and sends a
// copy of the request (scheme http) through next, as a RoundTripper
// registered with [http.Transport.RegisterProtocol] for a scheme of its own
// may.
type keepingRoundTripper struct {
	next http.RoundTripper
	kept []string // each request's traceparent, as it was given
	copy []string // the same, copied when it was given
}

func (k *keepingRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	tp := req.Header.Get("traceparent")
	k.kept = append(k.kept, tp)
	k.copy = append(k.copy, strings.Clone(tp))
	r := req.Clone(req.Context())
	r.URL.Scheme = "http"
	return k.next.RoundTrip(r)
}

// TestKeptTraceparentNeverChanges: a RoundTripper handed the call's
// request in-process (one an *http.Transport base hands a scheme
// registered with RegisterProtocol, which then sends the request on
// through an *http.Transport with the call's context, whose hooks report a
// connection and the request written) may keep the request's traceparent
// value past RoundTrip's return; later calls must not change it. The
// transport's header entries, whose bytes a traceparent shares, were
// reused after such a call (the value changed to a later call's). A user's
// base that is not an *http.Transport, which may keep the value too, is
// never given an entry to reuse (transport.entry), so it is not tried
// here: no reuse could change its value.
func TestKeptTraceparentNeverChanges(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(srv.Close)
	inner := &http.Transport{}
	t.Cleanup(inner.CloseIdleConnections)
	for _, tc := range []struct {
		name   string
		scheme string
		base   func(k *keepingRoundTripper) http.RoundTripper
	}{
		{"registered protocol", "inproc", func(k *keepingRoundTripper) http.RoundTripper {
			k.next = inner
			base := &http.Transport{}
			base.RegisterProtocol("inproc", k)
			t.Cleanup(base.CloseIdleConnections)
			return base
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := &keepingRoundTripper{}
			client := &http.Client{Transport: httpstats.NewTransport(tc.base(k))}
			rec, _ := newRecorder(t, recording.WithMaxStack(0))
			u := tc.scheme + strings.TrimPrefix(srv.URL, "http") + "/x"
			const n = 20
			for i := range n {
				ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
				req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ar.Finish()
				for j := range i + 1 {
					if k.kept[j] != k.copy[j] {
						t.Fatalf("after call %d, call %d's kept traceparent is %q; it was %q", i, j, k.kept[j], k.copy[j])
					}
				}
			}
			if len(k.kept) != n || len(k.kept[0]) != recording.TraceparentLen {
				t.Fatalf("%d traceparents kept, the first %q", len(k.kept), k.kept[0])
			}
		})
	}
}
