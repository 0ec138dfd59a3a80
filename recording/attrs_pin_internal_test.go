package recording

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// pinBorrower is a Borrower whose Write hands its batch to got and holds
// it until release is closed.
type pinBorrower struct {
	got     chan []*Record
	release chan struct{}
}

func (s *pinBorrower) Write(_ context.Context, recs []*Record) error {
	s.got <- recs
	<-s.release
	return nil
}

func (*pinBorrower) BorrowsRecords() bool { return true }

// TestSinkRecordDoesNotPinActiveRecord checks that a finished record a
// sink holds (here, during its Write) does not keep its ActiveRecord alive
// through its first attributes: the ActiveRecord — with the wrapper's
// state beside it and the request's context it carries — is collected
// while the record is still the sink's, and the record still has its
// attributes. Before the thirty-second round the first four attributes
// lay in the ActiveRecord, and every queued record kept it alive.
func TestSinkRecordDoesNotPinActiveRecord(t *testing.T) {
	sink := &pinBorrower{got: make(chan []*Record, 1), release: make(chan struct{})}
	rec := New(WithSinks(sink), WithBatch(1, time.Hour))
	if rec.pool == nil {
		t.Fatal("a borrowing sink: want a pool of records")
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
	recs := <-sink.got
	deadline := time.After(time.Minute)
	for done := false; !done; {
		runtime.GC()
		select {
		case <-collected:
			done = true
		case <-deadline:
			close(sink.release)
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
	close(sink.release)
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
