package recording

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// pinKeeper is a sink, one that may keep its records, whose Write hands
// its batch to got and holds it until release is closed.
type pinKeeper struct {
	got     chan []*Record
	release chan struct{}
}

func (s *pinKeeper) Write(_ context.Context, recs []*Record) error {
	s.got <- recs
	<-s.release
	return nil
}

// pinBorrower is pinKeeper as a Borrower.
type pinBorrower struct{ pinKeeper }

func (*pinBorrower) BorrowsRecords() bool { return true }

// TestSinkRecordDoesNotPinActiveRecord checks that a finished record a
// sink holds (here, during its Write) does not keep its ActiveRecord alive
// through its first attributes: the ActiveRecord — with the wrapper's
// state beside it and the request's context it carries — is collected
// while the record is still the sink's, and the record still has its
// attributes. Before the thirty-second round the first four attributes
// lay in the ActiveRecord, and every queued record kept it alive. Both
// for a sink that borrows records (a pooled record, its room its own)
// and one that may keep them (the record's room, in a borrowed spare,
// copied out before the sink sees it).
func TestSinkRecordDoesNotPinActiveRecord(t *testing.T) {
	for _, borrow := range []bool{true, false} {
		name := "keeping"
		if borrow {
			name = "borrowing"
		}
		t.Run(name, func(t *testing.T) { sinkRecordDoesNotPinActiveRecord(t, borrow) })
	}
}

func sinkRecordDoesNotPinActiveRecord(t *testing.T, borrow bool) {
	got, release := make(chan []*Record, 1), make(chan struct{})
	var sink Sink = &pinKeeper{got: got, release: release}
	if borrow {
		sink = &pinBorrower{pinKeeper{got: got, release: release}}
	}
	rec := New(WithSinks(sink), WithBatch(1, time.Hour))
	// Cleanups run last first: the sink is released, then the recorder
	// closed, whichever way the test ends.
	t.Cleanup(func() {
		if err := rec.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(func() { close(release) })
	if pooled := rec.pool != nil; pooled != borrow {
		t.Fatalf("a pool of records: %v, want %v", pooled, borrow)
	}
	collected := make(chan struct{}, 1)
	func() {
		_, ar, st := StartRecordWith[[8]uintptr](rec, context.Background(), RequestInfo{Kind: KindHTTP, Method: "GET", Path: "/"})
		st[0] = 1
		runtime.AddCleanup(ar, func(ch chan struct{}) { ch <- struct{}{} }, collected)
		ar.AddAttr("url.scheme", "http")
		ar.AddAttr("network.protocol.version", "1.1")
		ar.AddAttrs(Attr{Key: "user_agent.original", Value: "test"})
		ar.Finish()
	}()
	recs := <-got
	deadline := time.After(time.Minute)
	for done := false; !done; {
		runtime.GC()
		select {
		case <-collected:
			done = true
		case <-deadline:
			t.Fatal("the ActiveRecord is kept alive while its record is in a sink's Write")
		default:
			runtime.Gosched()
		}
	}
	if len(recs) != 1 {
		t.Fatalf("Write got %d records, want 1", len(recs))
	}
	want := []Attr{{"url.scheme", "http"}, {"network.protocol.version", "1.1"}, {"user_agent.original", "test"}}
	if got := recs[0].Attrs; len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("the record's attributes are %v, want %v", got, want)
	}
}
