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
// (one batch is filled at a time; their commits overlap). A retention pass
// is a flight too (see claims).
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

// claims are a retention pass's flight: the records it deletes, or whose
// execution traces it deletes (trimTraces), read in its transaction. A Write given one of them again, in a transaction that
// does not see the pass's deletions, would have them delete its version
// or hide it (a gone marker), and count it out twice. So a pass takes the
// records it read before deleting them: if a batch it cannot see stores
// one, it deletes nothing, waits for that batch and reads again; a Write
// that meets a record a pass took waits for the pass as for a batch.
type claims struct {
	s    *Store
	f    *flight
	ids  []recording.ID // the records read, to take
	met  *flight        // the batch take met, if any
	done bool
}

// beginClaims begins a pass's flight; its transaction is made after.
func (s *Store) beginClaims() *claims { return &claims{s: s, f: s.flights.begin()} }

// add adds the record id to those the pass deletes.
func (c *claims) add(id recording.ID) { c.ids = append(c.ids, id) }

// take takes the records added, or, if a batch c does not see stores one
// of them, returns false (see wait).
func (c *claims) take() bool {
	c.s.budget.mu.Lock()
	defer c.s.budget.mu.Unlock()
	for _, id := range c.ids {
		if c.met = c.s.flights.storing(c.f, id); c.met != nil {
			return false
		}
	}
	c.f.ids = c.ids
	return true
}

// wait ends the pass's flight and waits for the batch take met.
func (c *claims) wait(ctx context.Context) error {
	c.drop()
	return c.s.flights.wait(ctx, c.met)
}

// drop ends the pass's flight, once its deletions are written (or not).
func (c *claims) drop() {
	if !c.done {
		c.done = true
		c.s.flights.end(c.f)
	}
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
