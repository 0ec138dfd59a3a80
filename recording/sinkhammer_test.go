package recording_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// hammerSink is a Borrower (so the recorder reuses records once every
// sink is done with them) of a given behaviour: it notes each record's
// ID and path as Write begins, pauses, and checks them again as it ends,
// so that a record reused while this sink still holds it shows (as a
// race under -race, or as another ID or path).
type hammerSink struct {
	name  string
	pause time.Duration
	// every n-th Write (n > 0): panic, reject every other record, or
	// block until the context ends.
	panicEvery, partialEvery, blockEvery int

	mu     sync.Mutex
	writes int
	paths  map[string]int // path → times handed in
	taken  uint64         // records this sink said it took
	bad    []string
}

func (s *hammerSink) BorrowsRecords() bool { return true }

func (s *hammerSink) Write(ctx context.Context, recs []*recording.Record) error {
	type seen struct {
		id   recording.ID
		path string
	}
	before := make([]seen, len(recs))
	for i, r := range recs {
		before[i] = seen{r.ID, r.Path}
	}
	s.mu.Lock()
	s.writes++
	w := s.writes
	for _, r := range recs {
		s.paths[r.Path]++
	}
	s.mu.Unlock()
	if s.pause > 0 {
		time.Sleep(s.pause)
	}
	check := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, r := range recs {
			if r.ID != before[i].id || r.Path != before[i].path {
				s.bad = append(s.bad, fmt.Sprintf("%s: record %v %s became %v %s during Write", s.name, before[i].id, before[i].path, r.ID, r.Path))
			}
		}
	}
	switch {
	case s.blockEvery > 0 && w%s.blockEvery == 0:
		<-ctx.Done()
		check()
		return ctx.Err()
	case s.panicEvery > 0 && w%s.panicEvery == 0:
		check()
		panic("hammerSink: " + s.name)
	case s.partialEvery > 0 && w%s.partialEvery == 0:
		check()
		var rej []*recording.Record
		for i, r := range recs {
			if i%2 == 0 {
				rej = append(rej, r)
			}
		}
		s.mu.Lock()
		s.taken += uint64(len(recs) - len(rej))
		s.mu.Unlock()
		return &recording.PartialWriteError{Rejected: rej, Err: errors.New("half")}
	}
	check()
	s.mu.Lock()
	s.taken += uint64(len(recs))
	s.mu.Unlock()
	return nil
}

// TestSinkQueuesHammer drives five borrowing sinks (records reused once
// every sink is done with them) of different behaviours — fast, slow,
// panicking every fifth Write, rejecting half of every third Write's
// records, blocking past the sink timeout every ninth — from four
// producers, at queue sizes at the caps (1, the batch size, a size the
// batches wrap around, 65,536): no sink is handed a record twice, or a
// record that changes (is reused) while its Write runs; each sink's
// Written is what it took; each sink's Written + Dropped + the
// recorder's Dropped is every record finished; the recorder's Written
// is at most the least a sink wrote; the queues are empty after Close.
// (TestSinkQueueRingAcrossGoroutines drives sinks that keep records,
// which the recorder never reuses, and that all accept them.)
func TestSinkQueuesHammer(t *testing.T) {
	for _, tc := range []struct{ queue, batch int }{{1, 1}, {4, 4}, {7, 3}, {1 << 16, 64}} {
		t.Run(fmt.Sprintf("queue%d_batch%d", tc.queue, tc.batch), func(t *testing.T) {
			hammerSinks(t, tc.queue, tc.batch)
		})
	}
}

func hammerSinks(t *testing.T, queue, batch int) {
	const producers, each = 4, 600
	sinks := []*hammerSink{
		{name: "fast"},
		{name: "slow", pause: 300 * time.Microsecond},
		{name: "panicky", panicEvery: 5},
		{name: "partial", partialEvery: 3},
		{name: "blocking", blockEvery: 9},
	}
	var ss []recording.Sink
	for _, s := range sinks {
		s.paths = map[string]int{}
		ss = append(ss, s)
	}
	rec := recording.New(recording.WithSinks(ss...), recording.WithQueueSize(queue),
		recording.WithBatch(batch, time.Millisecond), recording.WithSinkTimeout(2*time.Millisecond))
	total := produceRecords(t, rec, producers, each, 4, 50*time.Microsecond, func(ctx context.Context) {
		recording.StartCall(ctx, "sql", "SELECT").End(nil)
	})
	st := rec.Stats()
	least := total
	for k, s := range sinks {
		s.mu.Lock()
		for _, b := range s.bad {
			t.Error(b)
		}
		for path, n := range s.paths {
			if n > 1 {
				t.Errorf("%s: %s handed in %d times", s.name, path, n)
			}
		}
		taken := s.taken
		s.mu.Unlock()
		k := st.Sinks[k]
		if k.Written != taken {
			t.Errorf("%s took %d records; its Written = %d", s.name, taken, k.Written)
		}
		if k.Written+k.Dropped+st.Dropped != total {
			t.Errorf("%s: %d records finished; its Written %d + its Dropped %d + the recorder's Dropped %d = %d",
				s.name, total, k.Written, k.Dropped, st.Dropped, k.Written+k.Dropped+st.Dropped)
		}
		if k.QueueDepth != 0 || k.QueueBytes != 0 {
			t.Errorf("%s: after Close its queue holds %d records, %d bytes", s.name, k.QueueDepth, k.QueueBytes)
		}
		least = min(least, k.Written)
	}
	if st.Written > least {
		t.Errorf("the recorder counts %d records written by every sink; a sink wrote %d", st.Written, least)
	}
	t.Logf("finished %d; recorder dropped %d, written %d", total, st.Dropped, st.Written)
}
