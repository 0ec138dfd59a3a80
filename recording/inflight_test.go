package recording_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

func TestActive(t *testing.T) {
	rec := recording.New(recording.WithSinks(discard))
	defer closeRec(t, rec)
	start := time.Now().Add(-2 * time.Second)
	var ars []*recording.ActiveRecord
	var ctxs []context.Context
	for i := range 3 {
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{
			Kind: recording.KindHTTP, Method: "GET", Path: fmt.Sprintf("/r%d", i), Start: start.Add(time.Duration(i) * time.Millisecond),
		})
		ars, ctxs = append(ars, ar), append(ctxs, ctx)
	}
	recording.StartCall(ctxs[1], "sql", "SELECT done").End(nil)
	running := recording.StartCall(ctxs[1], "http", "GET slow")
	_ = recording.Do(ctxs[1], "report", "Build", func(ctx context.Context) error {
		recording.StartCall(ctx, "cache", "Get").End(nil)
		return nil
	})

	recs, unlisted := rec.Active(0, 0)
	if unlisted != 0 || len(recs) != 3 {
		t.Fatalf("Active: %d records, %d unlisted; want 3, 0", len(recs), unlisted)
	}
	for i, r := range recs {
		if want := fmt.Sprintf("/r%d", i); r.Path != want || r.Method != "GET" || r.ID.IsZero() || r.Duration < time.Second {
			t.Errorf("record %d: path %q method %q id %s duration %v", i, r.Path, r.Method, r.ID, r.Duration)
		}
	}
	r1 := recs[1]
	if len(r1.Calls) != 4 || r1.Calls[0].Running || !r1.Calls[1].Running || r1.Calls[1].Duration <= 0 {
		t.Fatalf("calls so far %+v", r1.Calls)
	}
	if ps := r1.Parents(); ps[3] != 2 {
		t.Errorf("parents of the calls so far %v, want cache.Get under report.Build", ps)
	}
	// Bounded: two records, one call each; the calls not copied are kept,
	// not dropped.
	recs, unlisted = rec.Active(2, 1)
	if len(recs) != 2 || unlisted != 1 || len(recs[1].Calls) != 1 || recs[1].KeptCalls() != 4 || recs[1].DroppedCalls != 0 {
		t.Errorf("Active(2, 1): %d records, %d unlisted, calls %d, kept %d, dropped %d", len(recs), unlisted, len(recs[1].Calls), recs[1].KeptCalls(), recs[1].DroppedCalls)
	}

	running.End(nil)
	ars[1].Finish()
	recs, _ = rec.Active(0, 0)
	if len(recs) != 2 || recs[0].Path != "/r0" || recs[1].Path != "/r2" {
		t.Errorf("after one finished: %+v", recs)
	}
	ars[0].Finish()
	ars[2].Finish()
	if recs, n := rec.Active(0, 0); len(recs) != 0 || n != 0 {
		t.Errorf("after all finished: %d records, %d unlisted", len(recs), n)
	}
}

// More requests than the table holds: the others are counted, and the
// count goes back down as they finish.
func TestActiveOverflow(t *testing.T) {
	rec := recording.New(recording.WithSinks(discard))
	defer closeRec(t, rec)
	const n = 1100
	ars := make([]*recording.ActiveRecord, n)
	for i := range ars {
		_, ars[i] = rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	}
	recs, unlisted := rec.Active(0, 0)
	if len(recs)+unlisted != n || len(recs) < 1000 {
		t.Errorf("%d listed + %d unlisted, want %d in all, most of them listed", len(recs), unlisted, n)
	}
	for _, ar := range ars {
		ar.Finish()
	}
	if recs, unlisted := rec.Active(0, 0); len(recs) != 0 || unlisted != 0 {
		t.Errorf("after all finished: %d listed, %d unlisted", len(recs), unlisted)
	}
}

func TestActiveListsRecordsInTheMaking(t *testing.T) {
	rec := recording.New(recording.WithSinks(recordingtest.NewSink()), recording.WithInstance("web-1"))
	defer closeRec(t, rec)

	if got, unlisted := rec.Active(0, 0); len(got) != 0 || unlisted != 0 {
		t.Fatalf("Active before any request = %d records, %d unlisted", len(got), unlisted)
	}
	ctx1, a1 := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/slow"})
	id1, trace1 := a1.Record().ID, a1.Record().TraceID
	done := recording.StartCall(ctx1, "sql", "SELECT users")
	done.SetRequest("https://db.example/login?password=hunter2")
	done.End(nil)
	running := recording.StartCall(ctx1, "http", "GET backend/report")
	running.SetError("token=s3cr3tvalue1234 rejected")
	ctx2, a2 := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "POST", Path: "/b", Instance: "hub"})
	id2 := a2.Record().ID
	recording.Event(ctx2, "cache", "miss")

	got, unlisted := rec.Active(0, 0)
	if len(got) != 2 || unlisted != 0 {
		t.Fatalf("Active = %d records, %d unlisted; want 2, 0", len(got), unlisted)
	}
	if got[0].ID != id1 || got[1].ID != id2 {
		t.Errorf("Active is not longest-running first: %s %s", got[0].Path, got[1].Path)
	}
	r1 := got[0]
	if r1.Method != "GET" || r1.Path != "/slow" || r1.Instance != "web-1" || r1.TraceID != trace1 || r1.Duration <= 0 {
		t.Errorf("snapshot = %+v", r1)
	}
	if got[1].Instance != "hub" {
		t.Errorf("instance of a request started with RequestInfo.Instance = %q, want hub", got[1].Instance)
	}
	if len(r1.Calls) != 2 {
		t.Fatalf("snapshot has %d calls, want 2", len(r1.Calls))
	}
	if c := r1.Calls[0]; c.Running || c.Service != "sql" || strings.Contains(c.Request, "hunter2") {
		t.Errorf("ended call = %+v (running, or not redacted)", c)
	}
	if c := r1.Calls[1]; !c.Running || c.Duration <= 0 || strings.Contains(c.Error, "s3cr3t") {
		t.Errorf("running call = %+v (not running, no duration, or not redacted)", c)
	}
	if len(r1.Calls[0].Stack) == 0 || r1.Calls[0].Stack[0].Function == "" {
		t.Errorf("snapshot's stack is not symbolized: %+v", r1.Calls[0].Stack)
	}

	one, ok := rec.ActiveRecord(id1)
	if !ok || one.Path != "/slow" || len(one.Calls) != 2 {
		t.Errorf("ActiveRecord(a1) = %+v, %v", one, ok)
	}
	// Bounded: one record, its first call; the other counted as kept.
	if got, unlisted := rec.Active(1, 1); len(got) != 1 || unlisted != 1 || got[0].ID != id1 ||
		len(got[0].Calls) != 1 || got[0].KeptCalls() != 2 || got[0].DroppedCalls != 0 {
		t.Errorf("Active(1, 1) = %d records, %d unlisted, %+v", len(got), unlisted, got)
	}

	// The snapshot is the caller's: changing it changes nothing recorded.
	r1.Calls[0].Service = "changed"
	running.End(errors.New("boom"))
	a1.Finish()
	if _, ok := rec.ActiveRecord(id1); ok {
		t.Error("a finished record is still active")
	}
	if got, _ := rec.Active(0, 0); len(got) != 1 || got[0].ID != id2 {
		t.Errorf("after one finished, Active = %v", got)
	}
	a2.Finish()
	if got, _ := rec.Active(0, 0); len(got) != 0 {
		t.Errorf("after all finished, Active = %d records", len(got))
	}
}

func TestActiveLeavesWhenFilteredAtTheEnd(t *testing.T) {
	rec := recording.New(recording.WithExclude(recording.Filter{Route: "GET /health"}))
	defer closeRec(t, rec)
	_, a := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/health"})
	if got, _ := rec.Active(0, 0); len(got) != 1 {
		t.Fatal("a request whose route is not yet known is not active")
	}
	a.Record().Route = "GET /health"
	a.Finish()
	if got, _ := rec.Active(0, 0); len(got) != 0 {
		t.Errorf("a request excluded by its route stays active: %d", len(got))
	}
	if _, ok := rec.ActiveRecord(recording.ID{}); ok {
		t.Error("ActiveRecord of the zero ID found one")
	}
	var nilRec *recording.Recorder
	if got, n := nilRec.Active(0, 0); got != nil || n != 0 {
		t.Error("a nil recorder has active records")
	}
}

// Listing while requests start, make calls, open streams whose messages
// are recorded, and finish, with records reused as soon as their sink is
// done with them: no race (the race detector checks that the snapshots
// read only what they may), no finished request listed.
func TestActiveConcurrent(t *testing.T) {
	rec := recording.New(recording.WithSinks(&borrowSink{seen: make(map[*recording.Record]int)}))
	defer closeRec(t, rec)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: fmt.Sprintf("/w%d", w)})
				for j := range 5 {
					c := recording.StartCall(ctx, "svc", fmt.Sprint(j))
					c.SetAttr("k", "v")
					c.End(nil)
				}
				if i%2 == 1 {
					// A connection: its message ends after its record.
					s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket"})
					_, m := s.StartMessage(ctx, recording.Receive, "ping", 4)
					ar.Record().Route = "GET /w"
					ar.Finish()
					m.End(nil)
					s.Close("done")
					continue
				}
				ar.Record().Route = "GET /w"
				ar.Finish()
			}
		}()
	}
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) {
		recs, _ := rec.Active(0, 0)
		for _, r := range recs {
			if r.Path == "" || len(r.Calls) > 6 {
				t.Fatalf("snapshot %+v", r)
			}
		}
	}
	close(stop)
	wg.Wait()
	if recs, n := rec.Active(0, 0); len(recs) != 0 || n != 0 {
		t.Errorf("%d records active, %d unlisted, after every request finished", len(recs), n)
	}
}

func TestPausedCounted(t *testing.T) {
	rec := recording.New(recording.WithSinks(discard), recording.WithSampleRate(0))
	defer closeRec(t, rec)
	rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	rec.SetPaused(true)
	rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	if st := rec.Stats(); st.SampledOut != 1 || st.PausedOut != 2 || !st.Paused {
		t.Errorf("sampled out %d, paused out %d, paused %v; want 1, 2, true", st.SampledOut, st.PausedOut, st.Paused)
	}
}

// The requests in flight are redacted as finished records are: a page
// listing them shows no secret the stored record would hide.
func TestActiveRedacted(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
	rec := recording.New(recording.WithSinks(discard))
	defer closeRec(t, rec)
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/reset/" + jwt})
	defer ar.Finish()
	recording.StartCall(ctx, "sql", "SELECT users").End(errors.New(`near "'SECOND_LIT'": syntax error`))
	c := recording.StartCall(ctx, "http", "GET api.example.com/x")
	c.SetRequest("GET https://api.example.com/x?token=URLSECRET&q=go")
	c.SetAttrs(recording.Attr{Key: "db.query.parameter.pin", Value: "1234"})
	defer c.End(nil)

	recs, _ := rec.Active(0, 0)
	if len(recs) != 1 || len(recs[0].Calls) != 2 {
		t.Fatalf("Active: %+v", recs)
	}
	r := recs[0]
	if r.Path != "/reset/[REDACTED]" {
		t.Errorf("path %q", r.Path)
	}
	if got := r.Calls[0].Error; got != `near "[REDACTED]": syntax error` {
		t.Errorf("call error %q", got)
	}
	if got := r.Calls[1].Request; strings.Contains(got, "URLSECRET") || !strings.Contains(got, "q=go") {
		t.Errorf("call request %q", got)
	}
	if got := r.Calls[1].Attrs[0].Value; got != recording.Redacted {
		t.Errorf("secret attribute %q", got)
	}
}

// TestKeptCalls: a snapshot's KeptCalls counts the calls kept so far,
// copied or not, and leaves out those dropped over WithMaxCalls, which
// DroppedCalls counts, as in the finished record, whose KeptCalls is its
// len(Calls) (the sink's record went through the queue, whose bookkeeping
// shares the snapshot's count).
func TestKeptCalls(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithMaxCalls(3))
	ctx, a := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	for range 5 {
		recording.StartCall(ctx, "svc", "M").End(nil)
	}
	for _, copied := range []int{0, 1, 3} {
		snaps, _ := rec.Active(0, copied)
		want := copied
		if copied == 0 {
			want = 3
		}
		if len(snaps) != 1 || len(snaps[0].Calls) != want || snaps[0].KeptCalls() != 3 || snaps[0].DroppedCalls != 2 {
			for _, s := range snaps {
				t.Errorf("Active(0, %d): %d calls copied, %d kept, %d dropped; want %d, 3, 2", copied, len(s.Calls), s.KeptCalls(), s.DroppedCalls, want)
			}
		}
	}
	a.Finish()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := sink.Records()
	if len(recs) != 1 || recs[0].KeptCalls() != 3 || len(recs[0].Calls) != 3 || recs[0].DroppedCalls != 2 {
		t.Errorf("finished: %v; want one record with 3 calls kept, 2 dropped", recs)
	}
	if r := (recording.Record{Calls: make([]recording.Call, 2)}); r.KeptCalls() != 2 {
		t.Errorf("a record made by hand with 2 calls: KeptCalls %d", r.KeptCalls())
	}
}
