package httpstats_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestTransportTraceparentMixedProtocols sends, from several goroutines at
// once, calls with no header of their own through one recording transport
// to two servers over TLS, one that speaks HTTP/1.1 only and one that
// speaks HTTP/2, in random turns: the header entries that HTTP/1 calls give
// back, kept with their traceparent, are rewritten in place by the next
// calls, to either server (an entry sent over HTTP/2, whose HPACK table
// keeps the traceparent's bytes, must never come back). Every request a
// server read carried its own call's traceparent (the span ID of the call
// whose URL names it, and its record's trace ID), and each server spoke
// the protocol it should.
func TestTransportTraceparentMixedProtocols(t *testing.T) {
	type seen struct {
		id, tp string
		proto  int
	}
	var mu sync.Mutex
	var got []seen
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, seen{strings.Trim(r.URL.Path, "/"), r.Header.Get("Traceparent"), r.ProtoMajor})
		mu.Unlock()
		io.WriteString(w, "ok")
	})
	servers := [2]*httptest.Server{}
	for i, h2 := range []bool{false, true} {
		srv := httptest.NewUnstartedServer(h)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		srv.EnableHTTP2 = h2
		srv.StartTLS()
		defer srv.Close()
		servers[i] = srv
	}
	base := servers[1].Client().Transport.(*http.Transport).Clone()
	base.TLSClientConfig.InsecureSkipVerify = true // both servers' certificates
	base.MaxIdleConnsPerHost = 2
	defer base.CloseIdleConnections()
	rec, sink := newRecorder(t)
	client := &http.Client{Transport: httpstats.NewTransport(base)}
	const goroutines, calls = 4, 40
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 35))
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
			defer ar.Finish()
			for i := range calls {
				s := r.IntN(2)
				req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/s%dg%dc%d/", servers[s].URL, s, g, i), nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("call %d of goroutine %d: %v", i, g, err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if len(req.Header) != 0 {
					t.Errorf("the caller's header became %v", req.Header)
				}
			}
		})
	}
	wg.Wait()
	recs := flush(t, rec, sink)
	type call struct {
		span  recording.SpanID
		trace recording.TraceID
	}
	own := map[string]call{}
	for _, r := range recs {
		for _, c := range r.Calls {
			parts := strings.Split(c.Request, "/")
			if c.Service != "http" || len(parts) < 4 {
				t.Errorf("a call %s %q", c.Service, c.Request)
				continue
			}
			own[parts[3]] = call{c.SpanID, r.TraceID}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != goroutines*calls {
		t.Errorf("the servers read %d requests, want %d", len(got), goroutines*calls)
	}
	for _, s := range got {
		if want := map[byte]int{'0': 1, '1': 2}[s.id[1]]; s.proto != want {
			t.Errorf("request %s: HTTP/%d, want HTTP/%d", s.id, s.proto, want)
		}
		tc, ok := recording.ParseTraceparent(s.tp)
		if c, found := own[s.id]; !ok || !found || tc.SpanID != c.span || tc.TraceID != c.trace {
			t.Errorf("request %s: traceparent %q, want its call's (span %s, trace %s)", s.id, s.tp, c.span, c.trace)
		}
	}
}
