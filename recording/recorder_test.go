package recording_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

func closeRec(t *testing.T, rec *recording.Recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rec.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func oneRequest(rec *recording.Recorder, path string, calls int) {
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
	for i := range calls {
		recording.StartCall(ctx, "svc", fmt.Sprint(i)).End(nil)
	}
	ar.Finish()
}

// waitStats polls rec's counters until cond holds of them or ten seconds
// have passed, and returns the last ones read.
func waitStats(rec *recording.Recorder, cond func(recording.Stats) bool) recording.Stats {
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := rec.Stats()
		if cond(st) || time.Now().After(deadline) {
			return st
		}
		time.Sleep(time.Millisecond)
	}
}

// goroutinesSettle waits for the goroutine count to settle at or below n,
// for up to 30 seconds (goroutines that were told to end may take a while to
// run on a loaded machine), and returns the last count.
func goroutinesSettle(n int) int {
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := runtime.NumGoroutine()
		if got <= n || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCloseDrainsAndStops(t *testing.T) {
	before := runtime.NumGoroutine()
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(1000, time.Hour))
	for i := range 500 {
		oneRequest(rec, fmt.Sprintf("/%d", i), 2)
	}
	// The batch interval is an hour: nothing is written until Close drains.
	closeRec(t, rec)
	if n := sink.Len(); n != 500 {
		t.Fatalf("close drained %d records, want 500", n)
	}
	if got := goroutinesSettle(before); got > before {
		t.Fatalf("%d goroutines after Close, %d before", got, before)
	}
	if err := rec.Close(context.Background()); !errors.Is(err, recording.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	// Recording after Close is a no-op, not a panic.
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{})
	if ar != nil || recording.FromContext(ctx) != nil {
		t.Fatal("recorded after Close")
	}
	st := rec.Stats()
	if st.Recorded != 500 || st.Written != 500 || st.Dropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestStalledSink: a sink that blocks neither blocks requests nor lets memory
// grow past its queue's bound, nor keeps records from the other sinks; its
// surplus is dropped and counted against it alone, and Close still returns
// once its deadline has passed, having cancelled the sink.
func TestStalledSink(t *testing.T) {
	before := runtime.NumGoroutine()
	release := make(chan struct{})
	var cancelled atomic.Bool // the stalled sink returned on its context's end
	stalled := recording.SinkFunc(func(ctx context.Context, recs []*recording.Record) error {
		select {
		case <-release:
		case <-ctx.Done():
			cancelled.Store(true)
		}
		return ctx.Err()
	})
	good := recordingtest.NewSink()
	const queue, n = 64, 5000
	// No Write times out before Close cancels it, however slow the run.
	rec := recording.New(recording.WithSinks(stalled, good), recording.WithQueueSize(queue), recording.WithBatch(4, time.Millisecond),
		recording.WithSinkTimeout(time.Hour))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			oneRequest(rec, fmt.Sprint(i), 3)
			if i%8 == 0 {
				// Let the pipeline run: records are dropped because the
				// stalled sink holds them, not because requests outran
				// the good sink.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				good.Wait(ctx, i+1-int(rec.Stats().Dropped))
				cancel()
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute): // blocked requests would never finish
		t.Fatalf("requests blocked behind a stalled sink: %+v, good %d", rec.Stats(), good.Len())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := rec.Stats()
	if got := good.Wait(ctx, int(st.Recorded)); len(got) != int(st.Recorded) {
		t.Fatalf("the good sink got %d of %d records recorded", len(got), st.Recorded)
	}
	// The counters follow Write's return.
	st = waitStats(rec, func(st recording.Stats) bool { return st.Sinks[1].Written == st.Recorded })
	if st.Recorded < n/2 {
		t.Fatalf("recorded %d of %d: the stalled sink held the queue up (%+v)", st.Recorded, n, st)
	}
	stuck := st.Sinks[0]
	// At most a batch being written plus a full queue can be held.
	if stuck.QueueDepth > queue+4 || stuck.Written != 0 || stuck.Dropped < st.Recorded-queue-4 {
		t.Fatalf("stalled sink %+v: memory not bounded by its queue, or its drops not counted (recorded %d)", stuck, st.Recorded)
	}
	if g := st.Sinks[1]; g.Written != st.Recorded || g.Dropped != 0 || g.Errors != 0 {
		t.Fatalf("good sink %+v, want all %d written", g, st.Recorded)
	}
	if st.Written != 0 {
		t.Fatalf("written %d: no record was accepted by every sink", st.Written)
	}
	// Close's context ends while the sink still holds a batch (release
	// is closed only after Close returned): Close returns its error and
	// cancels the sink, which has returned by then (Close waits for it
	// briefly; were it not cancelled, Close would return without it, most
	// likely before it saw a cancel: TestCloseCancelsStalledSink shows
	// that by its own clock, which no race blurs).
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- rec.Close(ctx) }()
	select {
	case err := <-closed:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("close with a stalled sink: %v", err)
		}
	case <-time.After(time.Minute): // a guard against a hang, not a timing
		t.Fatal("Close still waiting on the stalled sink a minute after its deadline")
	}
	if !cancelled.Load() {
		t.Fatal("Close returned with the stalled sink still in its Write: its context not cancelled")
	}
	close(release)
	if got := goroutinesSettle(before); got > before {
		t.Fatalf("%d goroutines after Close, %d before", got, before)
	}
	st = rec.Stats()
	if st.SinkErrors == 0 || st.Sinks[0].Errors == 0 {
		t.Fatalf("sink errors not counted: %+v", st)
	}
	if s := st.Sinks[0]; s.Written+s.Dropped != st.Recorded || s.QueueDepth != 0 || s.QueueBytes != 0 {
		t.Fatalf("stalled sink after Close %+v: written and dropped should add up to the %d recorded, the queue be empty", s, st.Recorded)
	}
}

func TestFailingAndPanickingSinks(t *testing.T) {
	good := recordingtest.NewSink()
	failing := recording.SinkFunc(func(context.Context, []*recording.Record) error { return errors.New("disk full") })
	panicking := recording.SinkFunc(func(context.Context, []*recording.Record) error { panic("sink bug") })
	rec := recording.New(recording.WithSinks(failing, panicking, good))
	oneRequest(rec, "/", 1)
	closeRec(t, rec)
	if good.Len() != 1 {
		t.Fatal("a failing sink kept records from the others")
	}
	st := rec.Stats()
	if st.SinkErrors != 2 || st.Written != 0 {
		t.Fatalf("sink errors %d, written %d; want 2 errors and nothing written by every sink", st.SinkErrors, st.Written)
	}
	for i, want := range []recording.SinkStats{
		{Name: "recording.SinkFunc", Dropped: 1, Errors: 1},
		{Name: "recording.SinkFunc", Dropped: 1, Errors: 1},
		{Name: "*recordingtest.Sink", Written: 1},
	} {
		if st.Sinks[i] != want {
			t.Errorf("sink %d: %+v, want %+v", i, st.Sinks[i], want)
		}
	}
}

func TestLateAndRunningCalls(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	slow := recording.StartCall(ctx, "svc", "slow")
	recording.StartCall(ctx, "svc", "fast").End(nil)
	ar.Finish()
	slow.End(nil)                                       // after the end: ignored
	late := recording.StartCall(ctx, "svc", "too late") // after the end: counted
	late.End(nil)
	closeRec(t, rec)
	r := sink.Records()[0]
	if len(r.Calls) != 2 || !r.Calls[0].Running || r.Calls[1].Running {
		t.Fatalf("calls %+v", r.Calls)
	}
	if r.Calls[0].End() != r.Duration {
		t.Fatalf("running call should end with the request: %v vs %v", r.Calls[0].End(), r.Duration)
	}
	if st := rec.Stats(); st.LateCalls != 1 {
		t.Fatalf("late calls %d", st.LateCalls)
	}
	if len(r.Warnings) != 1 || r.Warnings[0].Kind != recording.WarnRunning || r.Warnings[0].Count != 1 {
		t.Fatalf("warnings %+v", r.Warnings)
	}
}

func TestCallDetails(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithMaxSummary(10))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	c := recording.StartCall(ctx, "memcache", "Get")
	c.SetRequest("a very long key indeed")
	c.SetResponse("short")
	c.SetRequestSize(3)
	c.AddSizes(0, 7)
	c.SetAttr("k", "v1")
	c.SetAttr("k", "v2")
	start := c.StartTime()
	c.AddPhase("lookup", start, start.Add(time.Millisecond))
	c.End(errors.New("miss"))
	c.End(errors.New("second end ignored"))
	recording.Event(ctx, "checkpoint", "after")
	err := recording.Do(ctx, "work", "Compute", func(ctx context.Context) error { return errors.New("failed") })
	if err == nil || err.Error() != "failed" {
		t.Fatalf("Do returned %v", err)
	}
	ar.Finish()
	closeRec(t, rec)
	r := sink.Records()[0]
	if len(r.Calls) != 3 {
		t.Fatalf("%d calls", len(r.Calls))
	}
	got := r.Calls[0]
	if got.Request != "a very lon…[truncated 12 bytes]" || got.Response != "short" || got.RequestSize != 3 || got.ResponseSize != 7 ||
		got.Attr("k") != "v2" || got.Attr("error.type") != "*errors.errorString" || len(got.Attrs) != 2 || got.Error != "miss" || len(got.Phases) != 1 ||
		got.Phases[0].Duration != time.Millisecond || !got.SpanID.IsValid() {
		t.Fatalf("call %+v", got)
	}
	if ev := r.Calls[1]; !ev.Event || ev.Method != "checkpoint" || ev.Request != "after" || ev.Duration != 0 {
		t.Fatalf("event %+v", ev)
	}
	if r.Calls[2].Error != "failed" || r.Calls[2].Service != "work" {
		t.Fatalf("Do call %+v", r.Calls[2])
	}
	s := r.Summary()
	if s.CallCount != 2 || s.ErrorCalls != 2 || len(s.RPCs) != 2 {
		t.Fatalf("summary %+v", s)
	}
}

func TestNilSafety(t *testing.T) {
	ctx := context.Background()
	c := recording.StartCall(ctx, "svc", "m") // no record: nil
	c.SetRequest("x")
	c.SetAttr("a", "b")
	c.AddPhase("p", time.Now(), time.Now())
	c.End(nil)
	recording.Event(ctx, "e", "d")
	if err := recording.Do(ctx, "s", "m", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var ar *recording.ActiveRecord
	ar.Finish()
	ar.AddOverhead(time.Second)
	if ar.Record() != nil || ar.StartCall("a", "b") != nil {
		t.Fatal("nil ActiveRecord produced something")
	}
	var rec *recording.Recorder
	if _, a := rec.StartRecord(ctx, recording.RequestInfo{}); a != nil {
		t.Fatal("nil Recorder recorded")
	}
}

func TestPause(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	rec.SetPaused(true)
	oneRequest(rec, "/paused", 1)
	rec.SetPaused(false)
	oneRequest(rec, "/resumed", 1)
	closeRec(t, rec)
	if recs := sink.Records(); len(recs) != 1 || recs[0].Path != "/resumed" {
		t.Fatalf("records %v", recs)
	}
}

// TestFilters checks each field of a Filter, for inclusion and exclusion, on
// requests shaped as the HTTP and gRPC wrappers describe them.
func TestFilters(t *testing.T) {
	type req struct {
		method, path, route string
		header              map[string][]string
	}
	grpcCheck := req{"POST", "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Check", nil}
	grpcWatch := req{"POST", "/grpc.health.v1.Health/Watch", "/grpc.health.v1.Health/Watch", nil}
	grpcCheckX := req{"POST", "/grpc.health.v1.Health/CheckX", "/grpc.health.v1.Health/CheckX", nil}
	get := req{"GET", "/api/users/7", "GET /api/users/{id}", map[string][]string{"X-Debug": {"1"}}}
	del := req{"DELETE", "/api/users/7", "DELETE /api/users/{id}", nil}
	stats := req{"GET", "/stats/part/history", "/stats/", nil}
	all := []req{grpcCheck, grpcWatch, grpcCheckX, get, del, stats}
	for _, tt := range []struct {
		name    string
		include []recording.Filter
		exclude []recording.Filter
		want    []req
	}{
		{"none", nil, nil, all},
		{"exclude exact path", nil, []recording.Filter{{Path: "/grpc.health.v1.Health/Check"}}, []req{grpcWatch, grpcCheckX, get, del, stats}},
		{"exclude path prefix", nil, []recording.Filter{{PathPrefix: "/grpc.health.v1.Health/"}, {PathPrefix: "/stats/"}}, []req{get, del}},
		{"exclude method", nil, []recording.Filter{{Method: "delete"}}, []req{grpcCheck, grpcWatch, grpcCheckX, get, stats}},
		{"exclude route", nil, []recording.Filter{{Route: "GET /api/users/{id}"}}, []req{grpcCheck, grpcWatch, grpcCheckX, del, stats}},
		{"include header value", []recording.Filter{{Header: "x-debug", Value: "1"}}, nil, []req{get}},
		{"include header, wrong value", []recording.Filter{{Header: "X-Debug", Value: "2"}}, nil, nil},
		{"include route", []recording.Filter{{Route: "DELETE /api/users/{id}"}}, nil, []req{del}},
		{"include path and method", []recording.Filter{{Method: "POST", Path: "/grpc.health.v1.Health/Watch"}}, nil, []req{grpcWatch}},
		{"exclusion wins", []recording.Filter{{PathPrefix: "/api/"}}, []recording.Filter{{Method: "DELETE"}}, []req{get}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sink := recordingtest.NewSink()
			rec := recording.New(recording.WithSinks(sink), recording.WithInclude(tt.include...), recording.WithExclude(tt.exclude...))
			for _, r := range all {
				_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: r.method, Path: r.path, Header: r.header})
				if ar != nil { // nil: filtered at the start
					ar.Record().Route = r.route
					ar.Finish()
				}
			}
			closeRec(t, rec)
			var got, want []string
			for _, r := range sink.Records() {
				got = append(got, r.Method+" "+r.Path)
			}
			for _, r := range tt.want {
				want = append(want, r.method+" "+r.path)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("recorded %q, want %q", got, want)
			}
			if st := rec.Stats(); int(st.Filtered) != len(all)-len(tt.want) {
				t.Errorf("Filtered = %d, want %d", st.Filtered, len(all)-len(tt.want))
			}
		})
	}
}

func TestRepeatedCallsWarning(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithRepeatThreshold(3))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	for range 4 {
		c := recording.StartCall(ctx, "sql", "SELECT users")
		c.SetRequest("SELECT * FROM users WHERE id = ?")
		c.End(nil)
	}
	for i := range 4 { // same method, different requests: not repeated
		c := recording.StartCall(ctx, "http", "GET api")
		c.SetRequest(fmt.Sprint("GET /", i))
		c.End(nil)
	}
	ar.Finish()
	closeRec(t, rec)
	w := sink.Records()[0].Warnings
	if len(w) != 1 || w[0].Kind != recording.WarnRepeated || w[0].Count != 4 || w[0].Method != "SELECT users" {
		t.Fatalf("warnings %+v", w)
	}
}

func TestIDs(t *testing.T) {
	rec := recording.New()
	defer rec.Close(context.Background())
	var ids []string
	seen := map[recording.ID]bool{}
	for range 1000 {
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{})
		id := ar.Record().ID
		if seen[id] {
			t.Fatal("duplicate id")
		}
		seen[id] = true
		ids = append(ids, id.String())
		back, err := recording.ParseID(id.String())
		if err != nil || back != id {
			t.Fatalf("round trip %s: %v", id, err)
		}
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatal("ids made in sequence do not sort in sequence")
	}
	for _, bad := range []string{"", "xyz", strings.Repeat("g", 32), strings.Repeat("A", 32), strings.Repeat("0", 31), strings.Repeat("0", 33)} {
		if _, err := recording.ParseID(bad); !errors.Is(err, recording.ErrInvalidID) {
			t.Errorf("ParseID(%q) = %v", bad, err)
		}
	}
}

func TestTraceparent(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", true},
		{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", true},
		{"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra", true},
		{"00-00000000000000000000000000000000-b7ad6b7169203331-01", false},
		{"00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01", false},
		{"ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", false},
		{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra", false},
		{"00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", false},
		{"garbage", false},
		{"", false},
	} {
		tc2, ok := recording.ParseTraceparent(tc.in)
		if ok != tc.ok {
			t.Errorf("%q: ok %v", tc.in, ok)
			continue
		}
		if ok && tc.in[:2] == "00" && recording.FormatTraceparent(tc2) != tc.in {
			t.Errorf("%q formats back as %q", tc.in, recording.FormatTraceparent(tc2))
		}
	}
	h := recording.HeaderCarrier{}
	tc := recording.TraceContext{TraceID: recording.NewTraceID(), SpanID: recording.NewSpanID(), Sampled: true, State: "k=v"}
	recording.W3CPropagator{}.Inject(context.Background(), tc, h)
	_, got := recording.W3CPropagator{}.Extract(context.Background(), h)
	if got != tc {
		t.Fatalf("extract(inject(%+v)) = %+v", tc, got)
	}
}

// AppendTraceparent appends what FormatTraceparent returns, into a buffer
// with room for it without an allocation.
func TestAppendTraceparent(t *testing.T) {
	for _, sampled := range []bool{true, false} {
		tc := recording.TraceContext{TraceID: recording.NewTraceID(), SpanID: recording.NewSpanID(), Sampled: sampled}
		want := recording.FormatTraceparent(tc)
		if got := string(recording.AppendTraceparent([]byte("x="), tc)); got != "x="+want {
			t.Errorf("AppendTraceparent after x= = %q, want %q", got, "x="+want)
		}
		if got, ok := recording.ParseTraceparent(want); !ok || got != tc {
			t.Errorf("%q parses as %+v, %v; want %+v", want, got, ok, tc)
		}
		var buf [recording.TraceparentLen]byte
		if n := testing.AllocsPerRun(100, func() { recording.AppendTraceparent(buf[:0], tc) }); n != 0 {
			t.Errorf("AppendTraceparent into a buffer of TraceparentLen: %v allocations, want 0", n)
		}
	}
}

func TestRedaction(t *testing.T) {
	r := recording.DefaultRedaction()
	for in, want := range map[string]string{
		"":                          "",
		"page=2":                    "page=2",
		"token=abc&page=2":          "token=[REDACTED]&page=2",
		"a=1&API_KEY=zz&b":          "a=1&API_KEY=[REDACTED]&b",
		"&password=x&":              "&password=[REDACTED]&",
		"user%5Fsecret=1":           "user%5Fsecret=[REDACTED]",
		"%zz=1":                     "%zz=1",
		"session_id=1&sessions=all": "session_id=[REDACTED]&sessions=[REDACTED]",
		"a=1;token=x;b=2":           "a=1;token=[REDACTED];b=2",
		"a%zz=1&token=y":            "a%zz=1&token=[REDACTED]",
	} {
		if got := r.Query(in); got != want {
			t.Errorf("Query(%q) = %q, want %q", in, got, want)
		}
	}
	h := map[string][]string{"Authorization": {"Bearer x"}, "cookie": {"a", "b"}, "Accept": {"*/*"},
		"X-Access-Token": {"t"}, "Private-Token": {"p"}, "Referer": {"https://app/reset?token=SECRET&step=2"}}
	got := r.Header(h)
	if got["Authorization"][0] != recording.Redacted || got["cookie"][1] != recording.Redacted || got["Accept"][0] != "*/*" ||
		got["X-Access-Token"][0] != recording.Redacted || got["Private-Token"][0] != recording.Redacted ||
		got["Referer"][0] != "https://app/reset?token=[REDACTED]&step=2" {
		t.Fatalf("headers %v", got)
	}
	if h["Authorization"][0] != "Bearer x" {
		t.Fatal("Header modified its input")
	}
	if len(got) != len(h) || len(got["cookie"]) != 2 {
		t.Fatalf("headers %v", got)
	}
	// The copies share one backing array; appending to one must not
	// overwrite another.
	for k := range got {
		_ = append(got[k], "appended")
	}
	if got["Authorization"][0] != recording.Redacted || got["cookie"][0] != recording.Redacted ||
		got["cookie"][1] != recording.Redacted || got["Accept"][0] != "*/*" {
		t.Fatalf("headers after append %v", got)
	}
	var none recording.Redaction
	if none.Query("token=1") != "token=1" {
		t.Fatal("zero Redaction redacted")
	}
}

// TestRecordRandomTraceID: a record whose trace ID the recorder made is
// flagged random (W3C Trace Context Level 2), in the record and in the
// trace context its calls send on; a caller's trace ID keeps the caller's
// flag, set or not. On main a generated trace ID was not flagged.
func TestRecordRandomTraceID(t *testing.T) {
	caller := recording.NewTraceID()
	for _, tc := range []struct {
		name         string
		trace        recording.TraceID
		callerRandom bool
		want         bool
	}{
		{"generated", recording.TraceID{}, false, true},
		{"caller, not random", caller, false, false},
		{"caller, random", caller, true, true},
	} {
		sink := recordingtest.NewSink()
		rec := recording.New(recording.WithSinks(sink))
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{
			Kind: recording.KindHTTP, Method: "GET", Path: "/", TraceID: tc.trace,
			ParentSpanID: recording.NewSpanID(), RandomTraceID: tc.callerRandom,
		})
		c := recording.StartCall(ctx, "svc", "M")
		if got := c.TraceContext(); got.Random != tc.want || !got.TraceID.IsValid() {
			t.Errorf("%s: call's trace context %+v, want Random %v", tc.name, got, tc.want)
		}
		c.End(nil)
		ar.Finish()
		if err := rec.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		recs := sink.Records()
		if len(recs) != 1 || recs[0].RandomTraceID != tc.want {
			t.Errorf("%s: records %v, want one with RandomTraceID %v", tc.name, recs, tc.want)
		}
	}
}
