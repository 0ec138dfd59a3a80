package httpstats

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// hookLog is the hooks a caller's ClientTraces saw, in order, each
// named by its trace and hook.
type hookLog struct {
	mu  sync.Mutex
	got []string
}

func (l *hookLog) add(s string) {
	l.mu.Lock()
	l.got = append(l.got, s)
	l.mu.Unlock()
}

func (l *hookLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	got := l.got
	l.got = nil
	return got
}

// loggingTrace returns a ClientTrace named name whose hooks, those a
// plain HTTP/1 call over loopback fires, note themselves in l. The
// traceparent's header field is left out: only a recorded call sends one.
func loggingTrace(l *hookLog, name string) *httptrace.ClientTrace {
	note := func(hook string) { l.add(name + "." + hook) }
	return &httptrace.ClientTrace{
		GetConn:      func(string) { note("GetConn") },
		GotConn:      func(httptrace.GotConnInfo) { note("GotConn") },
		PutIdleConn:  func(error) { note("PutIdleConn") },
		ConnectStart: func(string, string) { note("ConnectStart") },
		ConnectDone:  func(string, string, error) { note("ConnectDone") },
		WroteHeaderField: func(key string, _ []string) {
			if key != "Traceparent" {
				note("WroteHeaderField:" + key)
			}
		},
		WroteHeaders:         func() { note("WroteHeaders") },
		WroteRequest:         func(httptrace.WroteRequestInfo) { note("WroteRequest") },
		GotFirstResponseByte: func() { note("GotFirstResponseByte") },
	}
}

// TestCallerTraceWhereverItLies checks a caller's own ClientTrace on a
// recorded call, wherever it lies in the request's context: in the context
// the record started in (the request's), on a child made after the record
// started, under a value layered on top of either, two composed, and under
// recording.ContextWithParent. For each, three calls in one record: every
// hook of the caller's fires, in the order it fires on the same calls
// through the bare transport (one made afresh, so that the first call
// dials in both), the call's own hooks fire too (the calls after the first
// are recorded as on a connection reused), and no call's header entry is
// one of the transport's pool (a reused entry would rewrite the values the
// caller's WroteHeaderField hook was given). A call with no trace of the
// caller's, in the same record, still takes a pooled entry.
func TestCallerTraceWhereverItLies(t *testing.T) {
	srv, _ := echoServer(t)
	type key struct{}
	cases := []struct {
		name  string
		below func(l *hookLog) context.Context                    // the context the record starts in
		above func(l *hookLog, r context.Context) context.Context // the calls' context, over the record's
	}{
		{"request", func(l *hookLog) context.Context {
			return httptrace.WithClientTrace(context.Background(), loggingTrace(l, "u"))
		}, nil},
		{"request under a value", func(l *hookLog) context.Context {
			return context.WithValue(httptrace.WithClientTrace(context.Background(), loggingTrace(l, "u")), key{}, 1)
		}, nil},
		{"child", nil, func(l *hookLog, r context.Context) context.Context {
			return httptrace.WithClientTrace(r, loggingTrace(l, "u"))
		}},
		{"value over child", nil, func(l *hookLog, r context.Context) context.Context {
			return context.WithValue(httptrace.WithClientTrace(r, loggingTrace(l, "u")), key{}, 1)
		}},
		{"value over request", func(l *hookLog) context.Context {
			return httptrace.WithClientTrace(context.Background(), loggingTrace(l, "u"))
		}, func(_ *hookLog, r context.Context) context.Context {
			return context.WithValue(r, key{}, 1)
		}},
		{"composed", func(l *hookLog) context.Context {
			return httptrace.WithClientTrace(context.Background(), loggingTrace(l, "first"))
		}, func(l *hookLog, r context.Context) context.Context {
			return httptrace.WithClientTrace(httptrace.WithClientTrace(r, loggingTrace(l, "second")), loggingTrace(l, "third"))
		}},
		{"parent over request", func(l *hookLog) context.Context {
			return httptrace.WithClientTrace(context.Background(), loggingTrace(l, "u"))
		}, func(_ *hookLog, r context.Context) context.Context {
			return recording.ContextWithParent(r, recording.StartCall(r, "svc", "parent"))
		}},
		{"parent over child", nil, func(l *hookLog, r context.Context) context.Context {
			return recording.ContextWithParent(httptrace.WithClientTrace(r, loggingTrace(l, "u")), recording.StartCall(r, "svc", "parent"))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The bare transport's hooks, on the same shape of context.
			var bareLog hookLog
			bareCtx := context.Background()
			if tc.below != nil {
				bareCtx = tc.below(&bareLog)
			}
			if tc.above != nil {
				bareCtx = tc.above(&bareLog, bareCtx)
			}
			bare := &http.Transport{}
			defer bare.CloseIdleConnections()
			if _, err := callEach(bareCtx, (&http.Client{Transport: bare}).Do, srv.URL+"/x", gets(3), nil); err != nil {
				t.Fatal(err)
			}
			want := bareLog.take()
			if err := firedAll(want, 3); err != nil {
				t.Fatalf("through the bare transport: %v", err)
			}

			var l hookLog
			sink := recordingtest.NewSink()
			rec := recording.New(recording.WithSinks(sink))
			defer rec.Close(context.Background())
			below := context.Background()
			if tc.below != nil {
				below = tc.below(&l)
			}
			rctx, ar := rec.StartRecord(below, recording.RequestInfo{Method: "GET", Path: "/"})
			ctx := rctx
			if tc.above != nil {
				ctx = tc.above(&l, rctx)
			}
			base := &http.Transport{}
			defer base.CloseIdleConnections()
			client := &http.Client{Transport: NewTransport(base)}
			var pooled []bool
			notePooled := func(_ *http.Request, resp *http.Response) error {
				st, ok := resp.Body.(*callState)
				if !ok {
					return fmt.Errorf("the body is a %T, not the call's state", resp.Body)
				}
				pooled = append(pooled, st.out != nil && st.out.pool != nil)
				return nil
			}
			if _, err := callEach(ctx, client.Do, srv.URL+"/x", gets(3), notePooled); err != nil {
				t.Fatal(err)
			}
			if got := l.take(); !slices.Equal(got, want) {
				t.Errorf("the caller's hooks fired\n%q\nthrough the recording transport, and\n%q\nthrough the bare one", got, want)
			}
			if slices.Contains(pooled, true) {
				t.Errorf("calls with a trace of the caller's took pooled header entries: %v", pooled)
			}
			// The record's own context, where the caller's trace lies
			// below it or nowhere: a pooled entry only when nowhere.
			pooled = nil
			if _, err := callEach(rctx, client.Do, srv.URL+"/x", gets(1), notePooled); err != nil {
				t.Fatal(err)
			}
			l.take()
			if onRequest := tc.below != nil; pooled[0] == onRequest {
				t.Errorf("a call with the record's own context took a pooled entry: %v, with a trace of the caller's under it: %v", pooled[0], onRequest)
			}
			ar.Finish()
			if err := rec.ForceFlush(context.Background()); err != nil {
				t.Fatal(err)
			}
			var reused []string
			for _, c := range sink.Records()[0].Calls {
				if c.Service != convention.ServiceHTTP {
					continue
				}
				for _, a := range c.Attrs {
					if a.Key == convention.KeyHTTPConnectionReused {
						reused = append(reused, a.Value)
					}
				}
			}
			if want := []string{"false", "true", "true", "true"}; !slices.Equal(reused, want) {
				t.Errorf("the calls' own GotConn hooks recorded connections reused %v, want %v", reused, want)
			}
		})
	}
}

// firedAll returns an error unless each trace named in log saw each hook
// loggingTrace sets, and GotConn once in each of calls calls.
func firedAll(log []string, calls int) error {
	hooks := []string{"GetConn", "GotConn", "PutIdleConn", "ConnectStart", "ConnectDone", "WroteHeaderField:User-Agent", "WroteHeaders", "WroteRequest", "GotFirstResponseByte"}
	seen := map[string]map[string]int{}
	for _, e := range log {
		name, hook, _ := strings.Cut(e, ".")
		if seen[name] == nil {
			seen[name] = map[string]int{}
		}
		seen[name][hook]++
	}
	if len(seen) == 0 {
		return fmt.Errorf("no hook fired")
	}
	for name, got := range seen {
		for _, h := range hooks {
			if got[h] == 0 {
				return fmt.Errorf("trace %s: %s did not fire (%v)", name, h, got)
			}
		}
		if got["GotConn"] != calls {
			return fmt.Errorf("trace %s: GotConn fired %d times in %d calls", name, got["GotConn"], calls)
		}
	}
	return nil
}

// TestCallerTraceLookedUpOnceARecord checks that the calls of a record
// made with its own context look the request's context up for a caller's
// ClientTrace once, not once a call: the context the record started in
// is asked httptrace's key once in five calls.
func TestCallerTraceLookedUpOnceARecord(t *testing.T) {
	if !traceKeys.ok {
		t.Skip("the trace keys were not found: every call composes with WithClientTrace")
	}
	srv, base := echoServer(t)
	rec := recording.New(recording.WithSinks(recordingtest.NewSink()))
	defer rec.Close(context.Background())
	var n atomic.Int32
	rctx, ar := rec.StartRecord(&traceKeyCounter{Context: context.Background(), n: &n}, recording.RequestInfo{Method: "GET", Path: "/"})
	defer ar.Finish()
	client := &http.Client{Transport: NewTransport(base)}
	if _, err := callEach(rctx, client.Do, srv.URL+"/x", gets(5), nil); err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("the request's context was asked for a ClientTrace %d times in five calls, want once", got)
	}
}

// traceKeyCounter counts the look-ups of httptrace's key that reach it.
type traceKeyCounter struct {
	context.Context
	n *atomic.Int32
}

func (c *traceKeyCounter) Value(key any) any {
	if (*eface)(unsafe.Pointer(&key)).typ == traceKeys.client {
		c.n.Add(1)
	}
	return c.Context.Value(key)
}
