package httpstats_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestTransportPhasesMeasuredOrUnknown makes many calls over each protocol —
// GETs of a response with trailers, and POSTs with a body — and checks that
// every call's send and wait phases are either measured, in order and inside
// the call, or marked unknown (appstats.phases.unknown); never silently
// missing. Over HTTP/2 the request is written on a goroutine of its own,
// whose WroteRequest event often comes after the response was read.
func TestTransportPhasesMeasuredOrUnknown(t *testing.T) {
	const calls = 200
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t, recording.WithMaxStack(0), recording.WithMaxCalls(2*calls))
			mux := http.NewServeMux()
			mux.HandleFunc("GET /trailers", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Trailer", "X-Sum")
				io.WriteString(w, "body")
				w.Header().Set("X-Sum", "42")
			})
			mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) { io.Copy(w, r.Body) })
			srv, client := startServer(t, mux, p.tls, p.http2)
			client.Transport = httpstats.NewTransport(client.Transport)
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
			for i := range calls {
				if i%2 == 0 {
					fetch(t, ctx, client, "GET", srv.URL+"/trailers", nil)
				} else {
					fetch(t, ctx, client, "POST", srv.URL+"/echo", strings.NewReader(strings.Repeat("x", 3000)))
				}
			}
			ar.Finish()
			recs := flush(t, rec, sink)
			var measured, unknown int
			for i, c := range recs[0].Calls {
				ph := make(map[string]recording.Phase)
				for _, x := range c.Phases {
					if _, dup := ph[x.Name]; dup {
						t.Fatalf("call %d: phase %s twice: %v", i, x.Name, c.Phases)
					}
					ph[x.Name] = x
					if x.Start < c.Start || x.Start+x.Duration > c.End() || x.Duration < 0 {
						t.Errorf("call %d: phase %s [%v,+%v] outside the call [%v,%v]", i, x.Name, x.Start, x.Duration, c.Start, c.End())
					}
				}
				recv, ok := ph["receive"]
				if !ok {
					t.Fatalf("call %d: no receive phase: %v", i, phaseNames(c))
				}
				send, hasSend := ph["send"]
				wait, hasWait := ph["wait"]
				switch u := c.Attr("appstats.phases.unknown"); {
				case hasSend && hasWait && u == "":
					end := func(x recording.Phase) time.Duration { return x.Start + x.Duration }
					if end(send) != wait.Start || end(wait) != recv.Start {
						t.Errorf("call %d: send %v+%v, wait %v+%v, receive at %v: not one after the other",
							i, send.Start, send.Duration, wait.Start, wait.Duration, recv.Start)
					}
					measured++
				case !hasSend && !hasWait && u == "send,wait":
					unknown++
				default:
					t.Errorf("call %d: phases %v, unknown %q: send and wait are neither measured nor marked unknown", i, phaseNames(c), u)
				}
			}
			t.Logf("%s: %d calls, send and wait measured in %d, unknown in %d", p.name, len(recs[0].Calls), measured, unknown)
			if measured+unknown != calls {
				t.Fatalf("%d calls, want %d", measured+unknown, calls)
			}
			if measured == 0 {
				t.Errorf("no call had its send and wait phases measured")
			}
			first := fmt.Sprint(phaseNames(recs[0].Calls[0]))
			if wantTLS := p.tls; strings.Contains(first, "tls") != wantTLS || !strings.Contains(first, "connect") {
				t.Errorf("first call's phases %s", first)
			}
		})
	}
}
