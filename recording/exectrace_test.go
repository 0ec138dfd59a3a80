package recording_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// Only one flight recorder can run in a process: these tests do not run
// in parallel, and each closes its recorder before it returns.

// finishTook records a request on route that took d (its start is set d
// in the past) and returns after it is finished.
func finishTook(rec *recording.Recorder, route string, d time.Duration) {
	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET",
		Path: "/x", Start: time.Now().Add(-d)})
	ar.Record().Route = route
	ar.Record().Status = 200
	ar.Finish()
}

// newFlightRecorder returns a recorder that hands each record to sink in
// a batch of its own, with the flight recorder configured by f.
func newFlightRecorder(t *testing.T, f recording.FlightRecording, opts ...recording.Option) (*recording.Recorder, *recordingtest.Sink) {
	t.Helper()
	sink := recordingtest.NewSink()
	rec := recording.New(append([]recording.Option{recording.WithSinks(sink), recording.WithBatch(1, 10*time.Millisecond),
		recording.WithFlightRecorder(f)}, opts...)...)
	t.Cleanup(func() { rec.Close(context.Background()) })
	return rec, sink
}

// waitRecords waits for n records in sink.
func waitRecords(t *testing.T, sink *recordingtest.Sink, n int) []*recording.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs := sink.Wait(ctx, n)
	if len(recs) < n {
		t.Fatalf("%d records written, want %d", len(recs), n)
	}
	return recs
}

func TestFlightRecorderThreshold(t *testing.T) {
	rec, sink := newFlightRecorder(t, recording.FlightRecording{Threshold: 50 * time.Millisecond})
	if !rec.Stats().FlightRecorder {
		t.Fatal("the flight recorder is not running")
	}
	finishTook(rec, "GET /fast", 2*time.Millisecond)
	finishTook(rec, "GET /slow", 120*time.Millisecond)
	recs := waitRecords(t, sink, 2)
	if recs[0].ExecTrace != nil {
		t.Errorf("a fast request got a trace: %s", recs[0].ExecTrace.Reason)
	}
	et := recs[1].ExecTrace
	if et == nil {
		t.Fatal("the slow request got no trace")
	}
	if et.Size != int64(len(et.Data)) || et.Size < 1000 || !bytes.HasPrefix(et.Data, []byte("go 1.")) {
		t.Errorf("trace: size %d, %d bytes, header %q", et.Size, len(et.Data), et.Data[:min(16, len(et.Data))])
	}
	if !strings.Contains(et.Reason, "over the threshold of 50ms") || time.Since(et.Taken) > time.Minute {
		t.Errorf("reason %q, taken %v", et.Reason, et.Taken)
	}
	if st := rec.Stats(); st.ExecTraces != 1 || st.ExecTracesLimited != 0 {
		t.Errorf("stats: %d traced, %d limited; want 1, 0", st.ExecTraces, st.ExecTracesLimited)
	}
	checkTraceParses(t, et.Data)
}

// checkTraceParses has the Go toolchain that built the test parse data
// as an execution trace, as `go tool trace` would.
func checkTraceParses(t *testing.T, data []byte) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Log("no go command: the trace is not parsed")
		return
	}
	p := filepath.Join(t.TempDir(), "slow.trace")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(goBin, "tool", "trace", "-d=parsed", p).CombinedOutput()
	if err != nil {
		t.Fatalf("go tool trace -d=parsed: %v\n%.2000s", err, out)
	}
	if !bytes.Contains(out, []byte("GoStart")) && !bytes.Contains(out, []byte("StateTransition")) {
		t.Errorf("the parsed trace shows no goroutine events:\n%.2000s", out)
	}
}

func TestFlightRecorderRoutesAndCap(t *testing.T) {
	rec, sink := newFlightRecorder(t, recording.FlightRecording{
		Threshold: time.Second,
		Routes:    map[string]time.Duration{"GET /report": 5 * time.Second, "GET /api": 10 * time.Millisecond},
		PerMinute: 2,
	})
	finishTook(rec, "GET /report", 2*time.Second)        // under its route's threshold, over the default
	finishTook(rec, "GET /api", 30*time.Millisecond)     // over its route's threshold
	finishTook(rec, "GET /other", 1500*time.Millisecond) // over the default
	finishTook(rec, "GET /api", 40*time.Millisecond)     // over, but the minute's two snapshots are taken
	recs := waitRecords(t, sink, 4)
	var got []string
	for _, r := range recs {
		if r.ExecTrace != nil {
			got = append(got, r.Route+": "+r.ExecTrace.Reason)
		} else {
			got = append(got, r.Route+": -")
		}
	}
	want := []string{
		"GET /report: -",
		"GET /api: 30ms, over the route's threshold of 10ms",
		"GET /other: 1.5s, over the threshold of 1s",
		"GET /api: -",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("traces:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st := rec.Stats(); st.ExecTraces != 2 || st.ExecTracesLimited != 1 {
		t.Errorf("stats: %d traced, %d limited; want 2, 1", st.ExecTraces, st.ExecTracesLimited)
	}
}

func TestFlightRecorderRouteP99(t *testing.T) {
	rec, sink := newFlightRecorder(t, recording.FlightRecording{RouteP99: true, MinRequests: 100, PerMinute: 10},
		recording.WithQueueSize(4096))
	// Until the route has had 100 requests, none is slow. The requests
	// take about ten seconds (set in the past: the scheduler's delays on a
	// busy machine, tens of milliseconds, are far inside the p99's bucket;
	// with requests of a second, a delay of 40 ms once made one of them
	// slower than the p99 of 1.038 s).
	finishTook(rec, "GET /users/{id}", 500*time.Second)
	for i := range 199 { // 10 s to 10.09 s
		finishTook(rec, "GET /users/{id}", 10*time.Second+time.Duration(i%10)*10*time.Millisecond)
	}
	finishTook(rec, "GET /users/{id}", 100*time.Second) // far over the p99 of ~10 s
	finishTook(rec, "GET /users/{id}", 5*time.Second)   // under it
	finishTook(rec, "GET /new", 100*time.Second)        // a route with no history
	recs := waitRecords(t, sink, 203)
	for i, r := range recs {
		traced := r.ExecTrace != nil
		if want := i == 200; traced != want {
			reason := ""
			if traced {
				reason = r.ExecTrace.Reason
			}
			t.Errorf("record %d (%s, %v): traced %v (%s), want %v", i, r.Route, r.Duration, traced, reason, want)
		}
	}
	if et := recs[200].ExecTrace; et != nil && !strings.Contains(et.Reason, "over the route's p99 of ") {
		t.Errorf("reason %q", et.Reason)
	}
}

// TestFlightRecorderOne: a second recorder cannot start a flight recorder
// while the first runs; it logs why and records as usual. Once the first
// is closed, the runtime's flight recorder is free again.
func TestFlightRecorderOne(t *testing.T) {
	f := recording.FlightRecording{Threshold: time.Millisecond}
	first, _ := newFlightRecorder(t, f)
	var logs bytes.Buffer
	second, sink := newFlightRecorder(t, f, recording.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if second.Stats().FlightRecorder {
		t.Fatal("two flight recorders run at once")
	}
	if !strings.Contains(logs.String(), "flight recorder not started") {
		t.Errorf("nothing logged: %q", logs.String())
	}
	finishTook(second, "GET /", 10*time.Millisecond)
	if r := waitRecords(t, sink, 1)[0]; r.ExecTrace != nil {
		t.Error("a trace without a flight recorder")
	}
	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	third, _ := newFlightRecorder(t, f)
	if !third.Stats().FlightRecorder {
		t.Error("the flight recorder was not released by Close")
	}
}

// TestFlightRecorderOff: the zero FlightRecording starts nothing.
func TestFlightRecorderOff(t *testing.T) {
	rec, sink := newFlightRecorder(t, recording.FlightRecording{PerMinute: 5, MinAge: time.Second})
	if rec.Stats().FlightRecorder {
		t.Fatal("a flight recorder runs with no threshold set")
	}
	finishTook(rec, "GET /", time.Hour)
	if r := waitRecords(t, sink, 1)[0]; r.ExecTrace != nil {
		t.Error("a trace with the flight recorder off")
	}
}

// TestFlightRecorderQueueBytes: a trace that does not fit in a sink's
// queue is taken off its records, which are delivered without it.
func TestFlightRecorderQueueBytes(t *testing.T) {
	rec, sink := newFlightRecorder(t, recording.FlightRecording{Threshold: time.Millisecond},
		recording.WithQueueBytes(16<<10))
	// Scheduling events fill the flight recorder's window well past the
	// queue's 16 KiB.
	ch := make(chan int)
	for i := range 3000 {
		go func() { ch <- i }()
		<-ch
	}
	finishTook(rec, "GET /slow", time.Second)
	r := waitRecords(t, sink, 1)[0]
	if r.ExecTrace != nil {
		t.Errorf("a %d-byte trace went through a 16 KiB queue", len(r.ExecTrace.Data))
	}
	if st := rec.Stats(); st.ExecTraces != 0 || st.ExecTracesLimited != 1 || st.Sinks[0].Dropped != 0 {
		t.Errorf("stats: %d traced, %d limited, %d dropped; want 0, 1, 0", st.ExecTraces, st.ExecTracesLimited, st.Sinks[0].Dropped)
	}
}

// TestFlightRecorderSharedSnapshot: the slow requests of one batch share
// one snapshot, and say so with the same Snapshot ID — the first one's
// record ID — so that a store keeps it once.
func TestFlightRecorderSharedSnapshot(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(3, time.Minute),
		recording.WithFlightRecorder(recording.FlightRecording{Threshold: 10 * time.Millisecond}))
	t.Cleanup(func() { rec.Close(context.Background()) })
	finishTook(rec, "GET /a", 30*time.Millisecond)
	finishTook(rec, "GET /b", 2*time.Millisecond)
	finishTook(rec, "GET /c", 40*time.Millisecond)
	recs := waitRecords(t, sink, 3)
	a, b, c := recs[0].ExecTrace, recs[1].ExecTrace, recs[2].ExecTrace
	if a == nil || b != nil || c == nil {
		t.Fatalf("traces: %v %v %v; want the first and the last", a != nil, b != nil, c != nil)
	}
	if &a.Data[0] != &c.Data[0] {
		t.Error("the two slow requests of the batch do not share one snapshot")
	}
	if a.Snapshot != recs[0].ID || c.Snapshot != recs[0].ID {
		t.Errorf("Snapshot %s and %s; want both the first slow record's ID %s", a.Snapshot, c.Snapshot, recs[0].ID)
	}
	if got := c.SnapshotOf(recs[2].ID); got != recs[0].ID {
		t.Errorf("SnapshotOf = %s, want %s", got, recs[0].ID)
	}
	if got := (&recording.ExecTrace{}).SnapshotOf(recs[2].ID); got != recs[2].ID {
		t.Errorf("SnapshotOf without a Snapshot = %s, want the record's own ID", got)
	}
}
