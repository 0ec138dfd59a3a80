package httpstats

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestHeaderEntryKeepsTraceparent checks that a call whose request had no
// header of its own gives its header entry back holding the traceparent
// alone, in the entry's own slice and bytes (entryTraceparent), rather
// than emptied: the next such call rewrites the bytes and writes no map.
func TestHeaderEntryKeepsTraceparent(t *testing.T) {
	srv, base := echoServer(t)
	client := &http.Client{Transport: NewTransport(base)}
	var entries []*headerEntry
	got, err := callEach(inRecord(t), client.Do, srv.URL+"/x", gets(3), func(_ *http.Request, resp *http.Response) error {
		st, ok := resp.Body.(*callState)
		if !ok {
			return fmt.Errorf("the body is a %T, not the call's state", resp.Body)
		}
		entries = append(entries, st.out)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range entries {
		if e == nil {
			t.Fatalf("call %d had no header entry", i)
		}
		if slices.Contains(entries[i+1:], e) {
			continue // a later call took it: checked at that call
		}
		v := e.h["Traceparent"]
		if e.used != entryTraceparent || len(e.h) != 1 || len(v) != 1 || unsafe.SliceData(v) != &e.vals[0] ||
			unsafe.StringData(v[0]) != &e.tp[0] || v[0] != got[i] {
			t.Errorf("call %d's entry after its end: used %#x, map %v, want used %#x and the map holding only the traceparent sent (%q) in the entry's own slice and bytes",
				i, e.used, e.h, entryTraceparent, got[i])
		}
	}
}

// TestHeaderEntryKeptServesOnlyItsKind checks that calls made one after
// another through one transport, each taking the header entry the call
// before gave back, send exactly their own header and their own trace
// context: a request with no header of its own after one with a header,
// one with a header (a traceparent of the caller's among them) after one
// without, a request whose trace context goes with a tracestate, and one
// whose recorder's propagator is not the W3C one (no traceparent of ours);
// and calls of two records in turn, each sending its own trace ID.
func TestHeaderEntryKeptServesOnlyItsKind(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var lines []string
		for k, vv := range r.Header {
			if k == "Accept-Encoding" || k == "User-Agent" {
				continue
			}
			lines = append(lines, k+": "+strings.Join(vv, ","))
		}
		slices.Sort(lines)
		io.WriteString(w, strings.Join(lines, "\n"))
	}))
	t.Cleanup(srv.Close)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	client := &http.Client{Transport: NewTransport(base)}

	w3c := recording.New(recording.WithSinks(recordingtest.NewSink()))
	t.Cleanup(func() { w3c.Close(context.Background()) })
	other := recording.New(recording.WithSinks(recordingtest.NewSink()), recording.WithPropagator(keyPropagator{}))
	t.Cleanup(func() { other.Close(context.Background()) })
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	records := map[string]context.Context{}
	for name, r := range map[string]struct {
		rec  *recording.Recorder
		info recording.RequestInfo
	}{
		"w3c":        {w3c, recording.RequestInfo{Method: "GET", Path: "/"}},
		"w3c2":       {w3c, recording.RequestInfo{Method: "GET", Path: "/"}},
		"tracestate": {w3c, recording.RequestInfo{Method: "GET", Path: "/", TraceState: "k=v"}},
		"other":      {other, recording.RequestInfo{Method: "GET", Path: "/"}},
	} {
		ctx, ar := r.rec.StartRecord(context.Background(), r.info)
		t.Cleanup(ar.Finish)
		records[name] = ctx
	}

	sent := map[string]bool{}
	steps := []struct {
		record string
		header http.Header
	}{
		{"w3c", nil},
		{"w3c", nil},
		{"w3c", http.Header{"X-A": {"1"}}},
		{"w3c", nil},
		{"w3c", http.Header{"Traceparent": {tp}, "X-B": {"2", "3"}}},
		{"w3c", nil},
		{"w3c", http.Header{}},
		{"tracestate", nil},
		{"w3c", nil},
		{"other", nil},
		{"w3c", nil},
		{"other", http.Header{"X-C": {"4"}}},
		{"w3c", nil},
		{"w3c", http.Header{"Traceparent": {tp}}},
		{"w3c", nil},
		{"w3c2", nil},
		{"w3c2", nil},
		{"w3c", nil},
		{"tracestate", nil},
		{"w3c2", nil},
		{"w3c", nil},
	}
	for i, s := range steps {
		req, err := http.NewRequestWithContext(records[s.record], "GET", srv.URL+"/x", nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.header != nil {
			req.Header = s.header.Clone()
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for k, vv := range s.header {
			if k != "Traceparent" {
				want = append(want, k+": "+strings.Join(vv, ","))
			}
		}
		lines := strings.Split(string(b), "\n")
		if s.record == "other" {
			want = append(want, "X-Other-Trace: set")
		} else {
			tpLine := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "Traceparent: ") })
			if tpLine < 0 {
				t.Errorf("call %d: the server got no traceparent: %q", i, lines)
				continue
			}
			got := strings.TrimPrefix(lines[tpLine], "Traceparent: ")
			tid := recording.FromContext(records[s.record]).TraceContext().TraceID
			if len(got) != recording.TraceparentLen || got == tp || sent[got] || got[3:35] != tid.String() {
				t.Errorf("call %d: the server got traceparent %q, want the call's own, of trace %s (sent before: %v)", i, got, tid, sent[got])
			}
			sent[got] = true
			want = append(want, lines[tpLine])
			if s.record == "tracestate" {
				want = append(want, "Tracestate: k=v")
			}
		}
		slices.Sort(want)
		if !slices.Equal(lines, want) {
			t.Errorf("call %d (%s, header %v): the server got\n%s\nwant\n%s", i, s.record, s.header, b, strings.Join(want, "\n"))
		}
		if s.header != nil && !equalHeader(req.Header, s.header) {
			t.Errorf("call %d: the caller's header became %v, was %v", i, req.Header, s.header)
		}
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// keyPropagator writes a field of its own for any valid trace context.
type keyPropagator struct{}

func (keyPropagator) Extract(ctx context.Context, _ recording.Carrier) (context.Context, recording.TraceContext) {
	return ctx, recording.TraceContext{}
}

func (keyPropagator) Inject(_ context.Context, tc recording.TraceContext, c recording.Carrier) {
	if tc.IsValid() {
		c.Set("X-Other-Trace", "set")
	}
}

// TestSpanIntoAsAppendTraceparent checks that spanInto, over a traceparent
// of the same trace ID, writes what AppendTraceparent writes: the span
// ID's digits and each combination of the flags.
func TestSpanIntoAsAppendTraceparent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		var a, b recording.TraceContext
		for j := range a.TraceID {
			a.TraceID[j] = byte(r.Uint32())
		}
		for j := range a.SpanID {
			a.SpanID[j], b.SpanID[j] = byte(r.Uint32()), byte(r.Uint32())
		}
		if i%7 == 0 {
			b.SpanID = recording.SpanID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		}
		b.TraceID = a.TraceID
		a.Sampled, a.Random = i&1 != 0, i&2 != 0
		b.Sampled, b.Random = i&4 != 0, i&8 != 0
		var got [recording.TraceparentLen]byte
		recording.AppendTraceparent(got[:0], a)
		spanInto(&got, b)
		if want := recording.AppendTraceparent(nil, b); string(got[:]) != string(want) {
			t.Fatalf("spanInto of %+v over %+v: %s, want %s", b, a, got[:], want)
		}
	}
}

// TestTraceIntoKeptInvalidContext checks that an entry kept with its
// traceparent (entryTraceparent), taken by a request whose trace context
// is not valid, is emptied and sends no traceparent, as the W3C
// propagator writes none for such a context, rather than having an
// all-zero one rewritten in place. (A recorded call's context is always
// valid today: the check keeps traceInto's fast path to the contexts
// inject would format.)
func TestTraceIntoKeptInvalidContext(t *testing.T) {
	var pool sync.Pool
	e := &headerEntry{h: make(http.Header, 1), pool: &pool}
	req, err := http.NewRequest("GET", "http://example.com/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	valid := recording.TraceContext{TraceID: recording.NewTraceID(), SpanID: recording.NewSpanID(), Sampled: true}
	o := traceInto(req, context.Background(), valid, recording.W3CPropagator{}, e)
	if e.used&entryTraceparent == 0 || len(o.req.Header) != 1 {
		t.Fatalf("the first call's entry: used %#x, header %v; want the traceparent alone", e.used, o.req.Header)
	}
	e.used = entryTraceparent // given back as giveBack gives it
	for _, tc := range []recording.TraceContext{
		{},
		{TraceID: valid.TraceID},
		{SpanID: valid.SpanID, Sampled: true},
	} {
		o := traceInto(req, context.Background(), tc, recording.W3CPropagator{}, e)
		if len(o.req.Header) != 0 {
			t.Errorf("trace context %+v: header %v, want none", tc, o.req.Header)
		}
		if e.used&entryTraceparent != 0 {
			t.Errorf("trace context %+v: the entry still holds a traceparent (used %#x)", tc, e.used)
		}
		e.used = entryTraceparent
		e.h["Traceparent"] = e.vals[:1]
	}
}
