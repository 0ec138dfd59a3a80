package httpstats_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestTransportReusedHasNoDialPhases: net/http may start a dial for a
// request, firing its DNS, connect and TLS hooks, and then give the
// request a connection that came free meanwhile (GotConn says reused). The
// call then dialed nothing of its own, and its record has no dns, connect
// or tls phase; a call on the connection its dial made has them.
func TestTransportReusedHasNoDialPhases(t *testing.T) {
	for _, reused := range []bool{true, false} {
		base := roundTripFunc(func(req *http.Request) (*http.Response, error) {
			tr := httptrace.ContextClientTrace(req.Context())
			tr.DNSStart(httptrace.DNSStartInfo{Host: "example.test"})
			tr.DNSDone(httptrace.DNSDoneInfo{})
			tr.ConnectStart("tcp", "192.0.2.1:80")
			tr.ConnectDone("tcp", "192.0.2.1:80", nil)
			tr.GotConn(httptrace.GotConnInfo{Reused: reused})
			tr.WroteRequest(httptrace.WroteRequestInfo{})
			tr.GotFirstResponseByte()
			return &http.Response{StatusCode: 200, Status: "200 OK", Body: io.NopCloser(strings.NewReader("ok")), Request: req}, nil
		})
		client := &http.Client{Transport: httpstats.NewTransport(base)}
		rec, sink := newRecorder(t, recording.WithMaxStack(0))
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://example.test/x", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ar.Finish()
		recs := flush(t, rec, sink)
		if len(recs) != 1 || len(recs[0].Calls) != 1 {
			t.Fatalf("reused %v: got %d records, want 1 of 1 call", reused, len(recs))
		}
		var names []string
		for _, ph := range recs[0].Calls[0].Phases {
			names = append(names, ph.Name)
		}
		dialed := slices.Contains(names, "dns") && slices.Contains(names, "connect")
		if reused && (slices.Contains(names, "dns") || slices.Contains(names, "connect")) {
			t.Errorf("a call on a reused connection has phases %v", names)
		}
		if !reused && !dialed {
			t.Errorf("a call on the connection it dialed has phases %v, want dns and connect among them", names)
		}
	}
}
