package recording_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

func TestActiveListsRecordsInTheMaking(t *testing.T) {
	rec := recording.New(recording.WithSinks(recordingtest.NewSink()), recording.WithInstance("web-1"))
	defer closeRec(t, rec)

	if got, unlisted := rec.Active(0, 0); len(got) != 0 || unlisted != 0 {
		t.Fatalf("Active before any request = %d records, %d unlisted", len(got), unlisted)
	}
	ctx1, a1 := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/slow"})
	done := recording.StartCall(ctx1, "sql", "SELECT users")
	done.SetRequest("https://db.example/login?password=hunter2")
	done.End(nil)
	running := recording.StartCall(ctx1, "http", "GET backend/report")
	running.SetError("token=s3cr3tvalue1234 rejected")
	ctx2, a2 := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "POST", Path: "/b", Instance: "hub"})
	recording.Event(ctx2, "cache", "miss")

	got, unlisted := rec.Active(0, 0)
	if len(got) != 2 || unlisted != 0 {
		t.Fatalf("Active = %d records, %d unlisted; want 2, 0", len(got), unlisted)
	}
	if got[0].ID != a1.Record().ID || got[1].ID != a2.Record().ID {
		t.Errorf("Active is not longest-running first: %s %s", got[0].Path, got[1].Path)
	}
	r1 := got[0]
	if r1.Method != "GET" || r1.Path != "/slow" || r1.Instance != "web-1" || r1.TraceID != a1.Record().TraceID || r1.Duration <= 0 {
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

	one, ok := rec.ActiveRecord(a1.Record().ID)
	if !ok || one.Path != "/slow" || len(one.Calls) != 2 {
		t.Errorf("ActiveRecord(a1) = %+v, %v", one, ok)
	}
	// Bounded: one record, its first call; the other counted.
	if got, unlisted := rec.Active(1, 1); len(got) != 1 || unlisted != 1 || got[0].ID != a1.Record().ID ||
		len(got[0].Calls) != 1 || got[0].DroppedCalls != 1 {
		t.Errorf("Active(1, 1) = %d records, %d unlisted, %+v", len(got), unlisted, got)
	}

	// The snapshot is the caller's: changing it changes nothing recorded.
	r1.Calls[0].Service = "changed"
	running.End(errors.New("boom"))
	a1.Finish()
	if _, ok := rec.ActiveRecord(a1.Record().ID); ok {
		t.Error("a finished record is still active")
	}
	if got, _ := rec.Active(0, 0); len(got) != 1 || got[0].ID != a2.Record().ID {
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

// Requests start and finish on many goroutines while Active is read: the
// race detector checks the snapshot reads only what it may.
func TestActiveConcurrent(t *testing.T) {
	rec := recording.New(recording.WithSinks(recordingtest.NewSink()))
	defer closeRec(t, rec)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, a := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/x"})
				c := recording.StartCall(ctx, "svc", "M")
				c.SetAttr("k", "v")
				s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket"})
				_, m := s.StartMessage(ctx, recording.Receive, "ping", 4)
				m.End(nil)
				a.Record().Status = 200
				a.Record().Route = "GET /x"
				c.End(nil)
				a.Finish()
			}
		}()
	}
	for range 200 {
		got, _ := rec.Active(0, 0)
		for _, r := range got {
			if r.Path != "/x" {
				t.Errorf("snapshot path %q", r.Path)
			}
		}
	}
	close(stop)
	wg.Wait()
	if got, n := rec.Active(0, 0); len(got) != 0 || n != 0 {
		t.Errorf("%d records active, %d unlisted, after every request finished", len(got), n)
	}
}

// More records in the making than the table holds: the others are counted,
// and the count goes back down as they finish.
func TestActiveOverflow(t *testing.T) {
	rec := recording.New(recording.WithSinks(recordingtest.NewSink()))
	defer closeRec(t, rec)
	const n = 1100
	ars := make([]*recording.ActiveRecord, n)
	for i := range ars {
		_, ars[i] = rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	}
	got, unlisted := rec.Active(0, 1)
	if len(got)+unlisted != n || len(got) < 1000 {
		t.Errorf("%d listed + %d unlisted, want %d in all, most of them listed", len(got), unlisted, n)
	}
	for _, ar := range ars {
		ar.Finish()
	}
	if got, unlisted := rec.Active(0, 0); len(got) != 0 || unlisted != 0 {
		t.Errorf("after all finished: %d listed, %d unlisted", len(got), unlisted)
	}
}
