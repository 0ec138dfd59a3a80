package httpstats_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

func phaseNames(c recording.Call) []string {
	var out []string
	for _, p := range c.Phases {
		out = append(out, p.Name)
	}
	return out
}

// recordRequest runs fn as a recorded request, giving it the request's
// context and a client whose transport is NewTransport(base), and returns
// the record.
func recordRequest(t *testing.T, base http.RoundTripper, fn func(ctx context.Context, client *http.Client)) *recording.Record {
	t.Helper()
	rec, sink := newRecorder(t)
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	fn(ctx, &http.Client{Transport: httpstats.NewTransport(base)})
	ar.Finish()
	recs := flush(t, rec, sink)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1", len(recs))
	}
	return recs[0]
}

// fetch makes a request with client and reads the response to the end.
func fetch(t *testing.T, ctx context.Context, client *http.Client, method, url string, body io.Reader) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, method, url, body)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// TestTransportPhasesTLSReuse makes two calls to a TLS loopback server within
// one request: the first dials (connect, tls), the second reuses the
// connection.
func TestTransportPhasesTLSReuse(t *testing.T) {
	backend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello from backend")
	}))
	defer backend.Close()
	r := recordRequest(t, backend.Client().Transport, func(ctx context.Context, client *http.Client) {
		for range 2 {
			fetch(t, ctx, client, "GET", backend.URL+"/items/12?api_key=k", nil)
		}
	})
	calls := r.Calls
	if len(calls) != 2 {
		t.Fatalf("%d calls", len(calls))
	}
	host := strings.TrimPrefix(backend.URL, "https://")
	for i, c := range calls {
		if c.Service != "http" || c.Method != "GET "+host+"/items/{id}" {
			t.Errorf("call %d: %s %s", i, c.Service, c.Method)
		}
		if c.Attr("http.response.status_code") != "200" || c.ResponseSize != int64(len("hello from backend")) {
			t.Errorf("call %d: status %q size %d", i, c.Attr("http.response.status_code"), c.ResponseSize)
		}
		full := backend.URL + "/items/12?api_key=[REDACTED]"
		if c.Request != "GET "+full || c.Attr("url.full") != full {
			t.Errorf("call %d: request summary %q, url.full %q; want them redacted: %q", i, c.Request, c.Attr("url.full"), full)
		}
		if _, port, _ := net.SplitHostPort(host); c.Attr("server.address") != "127.0.0.1" || c.Attr("server.port") != port ||
			c.Attr("http.request.method") != "GET" {
			t.Errorf("call %d: attrs %v", i, c.Attrs)
		}
		if c.Running || c.Error != "" {
			t.Errorf("call %d: running %v error %q", i, c.Running, c.Error)
		}
		var sum time.Duration
		for _, p := range c.Phases {
			if p.Start < c.Start || p.Start+p.Duration > c.End()+time.Millisecond {
				t.Errorf("call %d: phase %s [%v,+%v] outside call [%v,%v]", i, p.Name, p.Start, p.Duration, c.Start, c.End())
			}
			sum += p.Duration
		}
	}
	if got := fmt.Sprint(phaseNames(calls[0])); got != "[connect tls send wait receive]" {
		t.Errorf("first call phases %s", got)
	}
	if calls[0].Attr("appstats.http.connection.reused") != "false" || calls[1].Attr("appstats.http.connection.reused") != "true" {
		t.Errorf("reuse attrs: %q %q", calls[0].Attr("appstats.http.connection.reused"), calls[1].Attr("appstats.http.connection.reused"))
	}
	if got := fmt.Sprint(phaseNames(calls[1])); got != "[send wait receive]" {
		t.Errorf("second call phases %s", got)
	}
}

func TestTransportRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now

	r := recordRequest(t, nil, func(ctx context.Context, client *http.Client) {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/x", nil)
		if _, err := client.Do(req); err == nil {
			t.Fatal("request to a closed port succeeded")
		}
	})
	c := r.Calls
	if len(c) != 1 || !strings.Contains(c[0].Error, "refused") || c[0].Running {
		t.Fatalf("calls %+v", c)
	}
}

// TestTransportBodyReadCounted checks that reading a slow body is part of
// the call: the call lasts until EOF, and the receive phase covers it.
func TestTransportBodyReadCounted(t *testing.T) {
	const pause = 150 * time.Millisecond
	// The server sends the tail a pause after Do has returned, so that the
	// read waits for it however the machine schedules the two sides.
	returned := make(chan struct{})
	tailSent := make(chan time.Time, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "head;")
		http.NewResponseController(w).Flush()
		select {
		case <-returned:
		case <-r.Context().Done():
			return
		}
		time.Sleep(pause)
		tailSent <- time.Now()
		fmt.Fprint(w, "tail")
	}))
	defer backend.Close()
	var b []byte
	var doReturned time.Time
	r := recordRequest(t, nil, func(ctx context.Context, client *http.Client) {
		req, _ := http.NewRequestWithContext(ctx, "GET", backend.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		doReturned = time.Now()
		close(returned)
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	})
	c := r.Calls[0]
	if string(b) != "head;tail" || c.ResponseSize != 9 {
		t.Fatalf("body %q size %d", b, c.ResponseSize)
	}
	// The body read ran from Do's return until after the tail was sent:
	// the call must include it, and its receive phase cover it.
	sent := <-tailSent
	at := func(offset time.Duration) time.Time { return r.Start.Add(offset) }
	if end := at(c.End()); end.Before(sent) {
		t.Fatalf("call ends %v before the tail was sent: reading is not inside the call", sent.Sub(end))
	}
	recv := c.Phases[len(c.Phases)-1]
	if recv.Name != "receive" || at(recv.Start).After(doReturned) || at(recv.Start+recv.Duration).Before(sent) {
		t.Fatalf("receive phase %+v does not cover the body read (Do returned at %v, the tail sent at %v, from the request's start)",
			recv, doReturned.Sub(r.Start), sent.Sub(r.Start))
	}
}

// TestTransportUnclosedBodyIsRunning: a body never read nor closed leaves the
// call running when the request ends, and the record says so.
func TestTransportUnclosedBodyIsRunning(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "x") }))
	defer backend.Close()
	rec, sink := newRecorder(t)
	client := &http.Client{Transport: httpstats.NewTransport(nil)}
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	req, _ := http.NewRequestWithContext(ctx, "GET", backend.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ar.Finish()
	resp.Body.Close() // after the request ended: no effect on the record
	recs := flush(t, rec, sink)
	c := recs[0].Calls[0]
	if !c.Running || len(recs[0].Warnings) != 1 || recs[0].Warnings[0].Kind != recording.WarnRunning {
		t.Fatalf("call running=%v warnings %+v", c.Running, recs[0].Warnings)
	}
}

// TestTransportPropagates checks that a recorded service calling a recorded
// service makes one trace: the callee's record takes the caller's trace ID
// and has the caller's call span as parent.
func TestTransportPropagates(t *testing.T) {
	rec, sink := newRecorder(t)
	b := httptest.NewServer(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "b")
	})))
	defer b.Close()
	client := &http.Client{Transport: httpstats.NewTransport(nil)}
	a := httptest.NewServer(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", b.URL+"/b", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(w, resp.Body)
		resp.Body.Close()
	})))
	defer a.Close()
	get(t, a.Client(), a.URL+"/a")
	recs := flush(t, rec, sink)
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	recB, recA := recs[0], recs[1]
	if recA.Path != "/a" {
		recA, recB = recB, recA
	}
	call := recA.Calls[0]
	if recB.TraceID != recA.TraceID || recB.ParentSpanID != call.SpanID {
		t.Fatalf("B trace %s parent %s; A trace %s call span %s", recB.TraceID, recB.ParentSpanID, recA.TraceID, call.SpanID)
	}
}

func TestTransportPassThrough(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("traceparent") != "" {
			t.Errorf("traceparent injected without a recorded request")
		}
	}))
	defer backend.Close()
	client := &http.Client{Transport: httpstats.NewTransport(nil)}
	resp, err := client.Get(backend.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// TestTransportUnknownBodySize checks that a request body of unknown length
// (a non-nil Body with ContentLength 0, as a client builds for a pipe) is
// counted as it is sent.
func TestTransportUnknownBodySize(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer backend.Close()
	r := recordRequest(t, nil, func(ctx context.Context, client *http.Client) {
		pr, pw := io.Pipe()
		go func() { pw.Write([]byte(strings.Repeat("x", 1000))); pw.Close() }()
		fetch(t, ctx, client, "POST", backend.URL, pr)
	})
	if got := r.Calls[0].RequestSize; got != 1000 {
		t.Errorf("RequestSize = %d, want 1000", got)
	}
}

// TestTransportRewoundBodyCounted checks that a request body of unknown
// length that the base transport rewinds through GetBody, as net/http does
// to retry a request, is counted as its last attempt sent it, and that the
// first attempt's bytes are not added to it.
func TestTransportRewoundBodyCounted(t *testing.T) {
	const body = "0123456789abcdef"
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		first := make([]byte, 3)
		if _, err := io.ReadFull(r.Body, first); err != nil {
			return nil, err
		}
		rc, err := r.GetBody()
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(io.Discard, rc); err != nil {
			return nil, err
		}
		return &http.Response{StatusCode: 200, Status: "200 OK", Body: io.NopCloser(strings.NewReader("ok")), ContentLength: 2, Request: r}, nil
	})
	r := recordRequest(t, base, func(ctx context.Context, client *http.Client) {
		req, _ := http.NewRequestWithContext(ctx, "POST", "http://example.test/up", io.NopCloser(strings.NewReader(body)))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
		if req.ContentLength != 0 {
			t.Fatalf("ContentLength %d, want 0 (unknown)", req.ContentLength)
		}
		resp, err := client.Transport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	if len(r.Calls) != 1 {
		t.Fatalf("calls %+v, want one", r.Calls)
	}
	if got := r.Calls[0].RequestSize; got != int64(len(body)) {
		t.Errorf("RequestSize = %d, want %d, the rewound body's", got, len(body))
	}
	if got := r.Calls[0].ResponseSize; got != 2 {
		t.Errorf("ResponseSize = %d, want 2", got)
	}
}

// TestTransportTraceContext checks what the transport sends downstream for a
// request that came in with a traceparent and a tracestate: the caller's
// trace, with the call's span when the request is recorded and the caller's
// span when it is sampled out, and the tracestate unchanged either way.
func TestTransportTraceContext(t *testing.T) {
	const (
		sampled   = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
		unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
		state     = "vendor=abc"
	)
	for _, tt := range []struct {
		name     string
		incoming string
		opts     []recording.Option
		recorded bool
	}{
		{"recorded", sampled, nil, true},
		{"sampled out", sampled, []recording.Option{recording.WithSampleRate(0)}, false},
		// The caller's "not sampled" is kept: the call sends flags 00.
		{"unsampled, recorded", unsampled, nil, true},
		{"unsampled, sampled out", unsampled, []recording.Option{recording.WithSampleRate(0)}, false},
		{"unsampled, skipped", unsampled, []recording.Option{recording.WithCallerSampling(recording.SkipUnsampled)}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			incoming := tt.incoming
			rec, sink := newRecorder(t, tt.opts...)
			var gotParent, gotState string
			backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotParent, gotState = r.Header.Get("traceparent"), r.Header.Get("tracestate")
			}))
			defer backend.Close()
			client := &http.Client{Transport: httpstats.NewTransport(nil)}
			h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				req, _ := http.NewRequestWithContext(r.Context(), "GET", backend.URL, nil)
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header.Set("traceparent", incoming)
			req.Header.Set("tracestate", state)
			h.ServeHTTP(httptest.NewRecorder(), req)
			recs := flush(t, rec, sink)

			want := incoming
			if len(recs) == 1 && len(recs[0].Calls) == 1 {
				want = recording.FormatTraceparent(recording.TraceContext{TraceID: recs[0].TraceID,
					SpanID: recs[0].Calls[0].SpanID, Sampled: incoming == sampled})
				if recs[0].Unsampled != (incoming == unsampled) {
					t.Errorf("record Unsampled = %v", recs[0].Unsampled)
				}
			} else if tt.recorded {
				t.Fatalf("records %+v, want one with one call", recs)
			}
			if gotParent != want || !strings.Contains(want, "4bf92f3577b34da6a3ce929d0e0e4736") {
				t.Errorf("traceparent sent %q, want %q", gotParent, want)
			}
			if gotState != state {
				t.Errorf("tracestate sent %q, want %q", gotState, state)
			}
		})
	}
}

// TestTransportCloseDuringRead closes a response body while another
// goroutine reads it (the documented way to abort a read): the call ends
// once, without a race.
func TestTransportCloseDuringRead(t *testing.T) {
	block := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("hello"))
		w.(http.Flusher).Flush()
		<-block
	}))
	defer backend.Close()
	defer close(block)
	r := recordRequest(t, nil, func(ctx context.Context, client *http.Client) {
		req, _ := http.NewRequestWithContext(ctx, "GET", backend.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { io.Copy(io.Discard, resp.Body); close(done) }()
		resp.Body.Close()
		<-done
	})
	if c := r.Calls; len(c) != 1 || c[0].Running {
		t.Fatalf("calls %+v, want one that ended", c)
	}
}

// TestTransportNilHeader calls RoundTrip directly with a request whose Header
// is nil (which http.Client would have filled in): the trace context is still
// sent, and nothing panics.
func TestTransportNilHeader(t *testing.T) {
	var got string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = r.Header.Get("traceparent") }))
	defer backend.Close()
	r := recordRequest(t, nil, func(ctx context.Context, client *http.Client) {
		req, _ := http.NewRequestWithContext(ctx, "GET", backend.URL, nil)
		req.Header = nil
		resp, err := client.Transport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	})
	if len(r.Calls) != 1 || got == "" {
		t.Fatalf("calls %+v, traceparent %q", r.Calls, got)
	}
}

// TestTransportInsideRecordedCall checks that a request made inside a call
// recorded already — by a recording transport around this one, or by hand
// with recording.ContextWithCall — is not recorded again, and carries the
// outer call's trace context downstream.
func TestTransportInsideRecordedCall(t *testing.T) {
	parents := make(chan string, 2)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parents <- r.Header.Get("traceparent")
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	traceparent := func(r *recording.Record, c recording.Call) string {
		return recording.FormatTraceparent(recording.TraceContext{TraceID: r.TraceID, SpanID: c.SpanID, Sampled: true, Random: r.RandomTraceID})
	}

	t.Run("stacked transports", func(t *testing.T) {
		r := recordRequest(t, httpstats.NewTransport(nil), func(ctx context.Context, client *http.Client) {
			fetch(t, ctx, client, "GET", backend.URL+"/x", nil)
		})
		if len(r.Calls) != 1 || r.Calls[0].Attr("http.response.status_code") != "200" || len(r.Calls[0].Phases) == 0 {
			t.Fatalf("calls %+v, want one with its status and phases", r.Calls)
		}
		if got, want := <-parents, traceparent(r, r.Calls[0]); got != want {
			t.Errorf("traceparent %q, want the call's %q", got, want)
		}
	})
	t.Run("hand-made call", func(t *testing.T) {
		r := recordRequest(t, nil, func(ctx context.Context, client *http.Client) {
			c := recording.StartCall(ctx, "payments", "Charge")
			fetch(t, recording.ContextWithCall(ctx, c), client, "GET", backend.URL+"/charge", nil)
			c.End(nil)
		})
		if len(r.Calls) != 1 || r.Calls[0].Service != "payments" {
			t.Fatalf("calls %+v, want the payments call alone", r.Calls)
		}
		if got, want := <-parents, traceparent(r, r.Calls[0]); got != want {
			t.Errorf("traceparent %q, want the call's %q", got, want)
		}
	})
	// Work wrapped in recording.Do is made of calls: the transport records
	// its request as a call of its own, a child of Do's call, and sends its
	// own span downstream.
	t.Run("inside Do", func(t *testing.T) {
		r := recordRequest(t, nil, func(ctx context.Context, client *http.Client) {
			_ = recording.Do(ctx, "report", "Build", func(ctx context.Context) error {
				fetch(t, ctx, client, "GET", backend.URL+"/orders", nil)
				return nil
			})
		})
		if len(r.Calls) != 2 || r.Calls[0].Service != "report" || r.Calls[1].Service != "http" {
			t.Fatalf("calls %+v, want report.Build and its HTTP call", r.Calls)
		}
		if ps := r.Parents(); ps[0] != -1 || ps[1] != 0 {
			t.Errorf("parents %v, want [-1 0]", ps)
		}
		if got, want := <-parents, traceparent(r, r.Calls[1]); got != want {
			t.Errorf("traceparent %q, want the HTTP call's %q", got, want)
		}
	})
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// extraFields is a propagator that writes traceparent and n more fields,
// more than the transport keeps room for in its copy of the header.
type extraFields struct{ n int }

func (extraFields) Extract(ctx context.Context, c recording.Carrier) (context.Context, recording.TraceContext) {
	return recording.W3CPropagator{}.Extract(ctx, c)
}

func (p extraFields) Inject(ctx context.Context, tc recording.TraceContext, c recording.Carrier) {
	recording.W3CPropagator{}.Inject(ctx, tc, c)
	for i := range p.n {
		c.Set(fmt.Sprintf("x-extra-%d", i), fmt.Sprint(i))
	}
}

// TestTransportLeavesRequestAlone checks that the request given to the
// transport is not modified, even by a base transport that changes the
// request it is given, whatever the size of its header, and that what goes
// out has the caller's header and the propagator's fields.
func TestTransportLeavesRequestAlone(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fields int // caller's header fields, each with one value
		extra  int // fields the propagator sets beyond traceparent
	}{
		{"empty header", 0, 0},
		{"small header", 2, 0},
		{"large header", 12, 0},
		{"propagated fields filling the room", 2, 1},
		{"one propagated field past the room", 2, 2},
		{"many propagated fields", 2, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, sink := newRecorder(t, recording.WithPropagator(extraFields{tc.extra}))
			var sent http.Header
			base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				sent = r.Header.Clone()
				// A misbehaving base transport: it writes into the header
				// it was given, appending to a value too.
				for k := range r.Header {
					r.Header[k] = append(r.Header[k], "base")
				}
				r.Header.Set("Traceparent", "base")
				return &http.Response{StatusCode: 200, Status: "200 OK", Body: io.NopCloser(strings.NewReader("ok")), ContentLength: 2, Request: r}, nil
			})
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://example.test/items/7?q=1", nil)
			spare := make([][]string, tc.fields) // each value has room past its length
			for i := range spare {
				spare[i] = make([]string, 1, 4)
				spare[i][0] = fmt.Sprint("v", i)
				req.Header[fmt.Sprintf("X-Field-%d", i)] = spare[i]
			}
			req.Header["X-Nil"] = nil
			before, url := req.Header.Clone(), req.URL.String()

			resp, err := httpstats.NewTransport(base).RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ar.Finish()
			recs := flush(t, rec, sink)

			if !reflect.DeepEqual(req.Header, before) || req.URL.String() != url {
				t.Errorf("caller's request changed: header %v, URL %s; was %v, %s", req.Header, req.URL, before, url)
			}
			for i, vv := range spare {
				if got := vv[:2][1]; got != "" {
					t.Errorf("X-Field-%d: %q written past the caller's value", i, got)
				}
			}
			for k, vv := range before {
				if !reflect.DeepEqual(sent[k], vv) {
					t.Errorf("sent %s: %q, want %q", k, sent[k], vv)
				}
			}
			if _, ok := sent["X-Nil"]; !ok {
				t.Error("sent header lost X-Nil")
			}
			if len(recs) != 1 || len(recs[0].Calls) != 1 {
				t.Fatalf("records %+v, want one with one call", recs)
			}
			r := recs[0]
			want := recording.FormatTraceparent(recording.TraceContext{TraceID: r.TraceID, SpanID: r.Calls[0].SpanID, Sampled: true, Random: r.RandomTraceID})
			if got := sent.Get("traceparent"); got != want {
				t.Errorf("traceparent %q, want %q", got, want)
			}
			for i := range tc.extra {
				if got := sent.Get(fmt.Sprintf("x-extra-%d", i)); got != fmt.Sprint(i) {
					t.Errorf("x-extra-%d: %q", i, got)
				}
			}
			if n := len(sent); n != len(before)+1+tc.extra {
				t.Errorf("sent %d fields, want %d: %v", n, len(before)+1+tc.extra, sent)
			}
		})
	}
}

// trailerBody sets the request's trailer when its body reaches EOF, as a
// client sending a checksum of its body does.
type trailerBody struct {
	r   io.Reader
	req *http.Request
}

func (b *trailerBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.req.Trailer.Set("X-Sum", "42")
	}
	return n, err
}

// TestTransportRequestTrailer checks that a trailer the caller fills in
// while its body is read reaches the server: the request that goes out
// shares the caller's Trailer map, as net/http documents for clients.
func TestTransportRequestTrailer(t *testing.T) {
	got := make(chan string, 1)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		got <- r.Trailer.Get("X-Sum")
	}))
	defer backend.Close()
	r := recordRequest(t, nil, func(ctx context.Context, client *http.Client) {
		req, _ := http.NewRequestWithContext(ctx, "POST", backend.URL+"/upload", nil)
		req.Body = io.NopCloser(&trailerBody{r: strings.NewReader("payload"), req: req})
		req.ContentLength = -1
		req.Trailer = http.Header{"X-Sum": nil}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	if sum := <-got; sum != "42" {
		t.Errorf("server got trailer X-Sum %q, want 42", sum)
	}
	if len(r.Calls) != 1 || r.Calls[0].RequestSize != int64(len("payload")) {
		t.Fatalf("calls %+v, want one that sent the body", r.Calls)
	}
}

// TestTransportRepeatedURLs calls the same URLs many times through one
// transport, from the requests of two recorders whose redaction rules
// differ: every call is named and described as the first was, by its own
// recorder's rules, whether the transport remembered the URL or not.
func TestTransportRepeatedURLs(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	defer backend.Close()
	tr := httpstats.NewTransport(backend.Client().Transport)
	client := &http.Client{Transport: tr}
	host := strings.TrimPrefix(backend.URL, "http://")
	urls := []string{"/items/1?x=1", "/items/2?session=abc", "/items/3?x=1"}
	for _, tc := range []struct {
		params []string
		full   []string // url.full of each URL
	}{
		{nil, []string{"/items/1?x=1", "/items/2?session=[REDACTED]", "/items/3?x=1"}},
		{[]string{"x"}, []string{"/items/1?x=[REDACTED]", "/items/2?session=abc", "/items/3?x=[REDACTED]"}},
	} {
		var opts []recording.Option
		if tc.params != nil {
			opts = append(opts, recording.WithRedaction(recording.Redaction{Params: tc.params}))
		}
		rec, sink := newRecorder(t, opts...)
		for range 4 {
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
			for _, u := range urls {
				fetch(t, ctx, client, "GET", backend.URL+u, nil)
			}
			ar.Finish()
		}
		recs := flush(t, rec, sink)
		if len(recs) != 4 {
			t.Fatalf("params %q: %d records, want 4", tc.params, len(recs))
		}
		for i, r := range recs {
			if len(r.Calls) != len(urls) {
				t.Fatalf("params %q, record %d: %d calls", tc.params, i, len(r.Calls))
			}
			for j, c := range r.Calls {
				full := backend.URL + tc.full[j]
				if want := "GET " + host + "/items/{id}"; c.Method != want {
					t.Errorf("params %q, record %d, call %d: method %q, want %q", tc.params, i, j, c.Method, want)
				}
				if c.Request != "GET "+full || c.Attr("url.full") != full {
					t.Errorf("params %q, record %d, call %d: request %q, url.full %q, want %q", tc.params, i, j, c.Request, c.Attr("url.full"), full)
				}
				if c.Attr("server.address") != "127.0.0.1" || c.Attr("http.request.method") != "GET" || c.Attr("http.response.status_code") != "200" {
					t.Errorf("params %q, record %d, call %d: attributes %v", tc.params, i, j, c.Attrs)
				}
			}
		}
	}
}

// TestTransportDNSPhase calls a server by name: the call that dials has a
// dns phase and a connect phase, timed through the net package's hooks
// that the call's context carries, and the call that reuses the
// connection has neither.
func TestTransportDNSPhase(t *testing.T) {
	srv, client := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), false, false)
	client.Transport = httpstats.NewTransport(client.Transport)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	url := "http://" + net.JoinHostPort("localhost", port) + "/x"
	rec, sink := newRecorder(t, recording.WithMaxStack(0))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	fetch(t, ctx, client, "GET", url, nil)
	fetch(t, ctx, client, "GET", url, nil)
	ar.Finish()
	recs := flush(t, rec, sink)
	if len(recs) != 1 || len(recs[0].Calls) != 2 {
		t.Fatalf("got %d records, want 1 of 2 calls", len(recs))
	}
	for i, want := range [][]string{{"dns", "connect", "send", "wait", "receive"}, {"send", "wait", "receive"}} {
		c := recs[0].Calls[i]
		var names []string
		for _, ph := range c.Phases {
			names = append(names, ph.Name)
		}
		if !slices.Equal(names, want) {
			t.Errorf("call %d: phases %v, want %v", i, names, want)
		}
	}
}

// TestTransportSwitchingProtocols upgrades a connection through the
// transport: the 101 response's body stays writable (net/http's body of a
// switched connection is an io.Writer), bytes go both ways through it,
// uncounted (no HTTP body), and the call ends when the body is closed. A body of any other status
// is not writable.
func TestTransportSwitchingProtocols(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			io.WriteString(w, "plain")
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo " + line)
		brw.Flush()
	}))
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: httpstats.NewTransport(srv.Client().Transport)}
	rec, sink := newRecorder(t, recording.WithMaxStack(0))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})

	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/up", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	rw, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		t.Fatalf("the 101 response's body is a %T, not writable", resp.Body)
	}
	if _, err := io.WriteString(rw, "hi\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len("echo hi\n"))
	if _, err := io.ReadFull(rw, buf); err != nil || string(buf) != "echo hi\n" {
		t.Fatalf("read %q, %v; want %q", buf, err, "echo hi\n")
	}
	rw.Close()

	req, _ = http.NewRequestWithContext(ctx, "GET", srv.URL+"/plain", nil)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := resp.Body.(io.Writer); ok {
		t.Errorf("a 200 response's body is writable (%T)", resp.Body)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	ar.Finish()
	recs := flush(t, rec, sink)
	if len(recs) != 1 || len(recs[0].Calls) != 2 {
		t.Fatalf("got %d records, want 1 of 2 calls", len(recs))
	}
	if c := recs[0].Calls[0]; c.Attr("http.response.status_code") != "101" || c.Duration <= 0 {
		t.Errorf("the upgraded call: status %q, duration %v", c.Attr("http.response.status_code"), c.Duration)
	}
	// The bytes after the upgrade are no HTTP body, as the middleware
	// does not count them on the server's side: the call counts none
	// either way.
	if c := recs[0].Calls[0]; c.RequestSize != 0 || c.ResponseSize != 0 {
		t.Errorf("the upgraded call: %d bytes sent, %d got, want 0 and 0 (no HTTP body)", c.RequestSize, c.ResponseSize)
	}
}
