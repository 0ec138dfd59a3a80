package badgerstore

import (
	"context"
	"slices"
	"sync"

	"github.com/goappstats/appstats/recording"
)

// flights keeps what Write's transactions store until every transaction
// running sees it. Badger runs without conflict detection, and a
// transaction does not see what another commits after it began: two Writes
// given the same record at once would each find it not stored (see
// replaced) and each store it, so that it would be in two index blocks and
// counted twice in Len and Size. A batch that meets a record that a batch
// it cannot see stores ends before that record; its Write waits for that
// batch to end and takes the record up in its next transaction, which
// finds it stored and replaces it.
//
// The list, the generations and done are guarded by mu; a flight's ids
// (and set) by the budget's lock, which Write holds while it fills a batch
// (one batch is filled at a time; their commits overlap).
type flights struct {
	mu   sync.Mutex
	gen  uint64    // batches ended
	list []*flight // the batches running, and those ended that one running may not see
}

// A flight is one batch of Write: one transaction.
type flight struct {
	start uint64        // flights.gen before its transaction began: it sees the batches ended by then
	end   uint64        // flights.gen once it ended (committed or not); 0 while it runs
	done  chan struct{} // made by a Write waiting for it; closed when it ends

	ids  []recording.ID // the records it stores
	set  map[recording.ID]struct{}
	nset int // ids[:nset] are in set
}

// begin starts a batch; its transaction is made after.
func (fl *flights) begin() *flight {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	f := &flight{start: fl.gen}
	fl.list = append(fl.list, f)
	return f
}

// end ends f, once its transaction committed or was discarded: a
// transaction begun after sees what it committed. It forgets the batches
// every batch running sees.
func (fl *flights) end(f *flight) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	fl.gen++
	f.end = fl.gen
	if f.done != nil {
		close(f.done)
	}
	oldest := fl.gen // the oldest start of a batch running
	for _, g := range fl.list {
		if g.end == 0 {
			oldest = min(oldest, g.start)
		}
	}
	fl.list = slices.DeleteFunc(fl.list, func(g *flight) bool { return g.end != 0 && g.end <= oldest })
}

// storing returns a batch other than f that stores the record id and whose
// commit f's transaction does not see, or nil. The caller holds the
// budget's lock.
func (fl *flights) storing(f *flight, id recording.ID) *flight {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if len(fl.list) == 1 {
		return nil // f alone
	}
	for _, g := range fl.list {
		if g != f && (g.end == 0 || g.end > f.start) && g.has(id) {
			return g
		}
	}
	return nil
}

// has reports whether f stores the record id. Its set is made the first
// time it is asked, and filled with the IDs added since.
func (f *flight) has(id recording.ID) bool {
	if len(f.ids) <= 16 {
		return slices.Contains(f.ids, id)
	}
	if f.set == nil {
		f.set = make(map[recording.ID]struct{}, len(f.ids))
	}
	for _, x := range f.ids[f.nset:] {
		f.set[x] = struct{}{}
	}
	f.nset = len(f.ids)
	_, ok := f.set[id]
	return ok
}

// wait waits until g ends, or ctx is done.
func (fl *flights) wait(ctx context.Context, g *flight) error {
	fl.mu.Lock()
	if g.end != 0 {
		fl.mu.Unlock()
		return nil
	}
	if g.done == nil {
		g.done = make(chan struct{})
	}
	done := g.done
	fl.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
