package recording_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// borrowSink is a recording.Borrower: it reads each record inside Write,
// writing down what it holds, and keeps no record.
type borrowSink struct {
	mu      sync.Mutex
	seen    map[*recording.Record]int // how many times each record came
	digests []string
}

func (s *borrowSink) Write(_ context.Context, recs []*recording.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.seen[r]++
		s.digests = append(s.digests, digest(r))
	}
	return nil
}

func (*borrowSink) BorrowsRecords() bool { return true }

// digest describes what a test request put in r.
func digest(r *recording.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s headers=%v calls=%d:", r.Path, r.Headers["X-Req"], len(r.Calls))
	for _, c := range r.Calls {
		fmt.Fprintf(&b, " %s/%s[i=%s running=%v stack=%v phases=%d]", c.Service, c.Method, c.Attr("i"), c.Running, len(c.Stack) > 0, len(c.Phases))
	}
	b.WriteString(" warnings:")
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, " %s×%d", w.Kind, w.Count)
	}
	return b.String()
}

// varied records request i: an even one with a header, six identical
// calls (one with an attribute and a phase, one discarded, one left
// running), an odd one with nothing but its path. It returns the digest
// its record must have.
func varied(rec *recording.Recorder, i int) string {
	path := fmt.Sprintf("/r%d", i)
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
	if i%2 == 1 {
		ar.Finish()
		return path + " headers=[] calls=0: warnings:"
	}
	ar.SetHeaders(map[string][]string{"X-Req": {fmt.Sprint(i)}})
	var running *recording.ActiveCall
	for j := range 7 {
		c := recording.StartCall(ctx, "svc", "Get")
		switch j {
		case 0:
			c.SetAttr("i", fmt.Sprint(i))
			c.AddPhase("wait", c.StartTime(), c.StartTime())
		case 3:
			c.Discard()
			continue
		case 6:
			running = c
			continue
		}
		c.End(nil)
	}
	ar.Finish()
	running.End(nil) // after the end: ignored
	var b strings.Builder
	fmt.Fprintf(&b, "%s headers=[%d] calls=6:", path, i)
	for j := range 6 {
		attr, phases := "", 0
		if j == 0 {
			attr, phases = fmt.Sprint(i), 1
		}
		fmt.Fprintf(&b, " svc/Get[i=%s running=%v stack=true phases=%d]", attr, j == 5, phases)
	}
	b.WriteString(" warnings: repeated×6 running×1")
	return b.String()
}

// TestBorrowerReuse checks that records handed to sinks that all borrow
// them are reused, and that a reused record carries nothing of the request
// it held before.
func TestBorrowerReuse(t *testing.T) {
	sink := &borrowSink{seen: make(map[*recording.Record]int)}
	rec := recording.New(recording.WithSinks(recording.Sequence(sink, &borrowSink{seen: make(map[*recording.Record]int)})))
	defer closeRec(t, rec)
	const n = 30
	var want []string
	for i := range n {
		want = append(want, varied(rec, i))
		// One record in flight at a time, so that the next request can
		// be given the memory of the last.
		mustFlush(t, rec, uint64(i+1))
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for i := range n {
		if i >= len(sink.digests) {
			t.Fatalf("%d records written, want %d", len(sink.digests), n)
		}
		if sink.digests[i] != want[i] {
			t.Fatalf("record %d:\n got %s\nwant %s", i, sink.digests[i], want[i])
		}
	}
	reused := 0
	for _, k := range sink.seen {
		reused += k - 1
	}
	if reused == 0 {
		t.Fatalf("%d records, none reused", n)
	}
}

// TestKeptRecordsNotReused checks that records given to a sink that keeps
// them (not a Borrower) stay as they were written.
func TestKeptRecordsNotReused(t *testing.T) {
	keep := recordingtest.NewSink()
	borrow := &borrowSink{seen: make(map[*recording.Record]int)}
	rec := recording.New(recording.WithSinks(keep, borrow))
	const n = 12
	var want []string
	for i := range n {
		want = append(want, varied(rec, i))
		mustFlush(t, rec, uint64(i+1))
	}
	closeRec(t, rec)
	got := keep.Records()
	if len(got) != n {
		t.Fatalf("%d records kept, want %d", len(got), n)
	}
	for i, r := range got {
		if d := digest(r); d != want[i] {
			t.Fatalf("kept record %d changed:\n got %s\nwant %s", i, d, want[i])
		}
		if slices.Contains(got[:i], r) {
			t.Fatalf("record %d given twice", i)
		}
	}
}
