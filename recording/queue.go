package recording

import (
	"math/bits"
	"sync/atomic"
)

// A recordQueue is the bounded queue between the requests that finish
// records and the preparer: any number of goroutines push, and pop may
// also run in several (the preparer, and Close once the preparer has run
// out of time). Neither ever blocks. It is the bounded queue of Dmitry
// Vyukov's design, one atomic compare-and-swap a push and a pop: a
// buffered channel takes its lock twice a record, and a non-blocking
// send or receive through the runtime costs several times as much.
//
// Each slot carries a sequence number that says whose turn it is: slot
// i's is i while it waits for the push of turn i, i+1 once that push has
// written it, and i+len(slots) once the pop of turn i has taken it, for
// the push of the next lap. The slots are a power of two, and two at
// least: with one, a slot's turn once popped (i+1) was its turn once
// pushed, so a push of turn i+1 could write its record over the one of
// turn i being popped (the one popped was lost, neither written nor
// counted dropped, and the queue refused every push thereafter). The
// queue holds at most size records.
type recordQueue struct {
	slots []queueSlot
	mask  uint64
	size  uint64

	// tail and head on cache lines of their own. tail is at offset 112,
	// a multiple of 16, as the allocator aligns an object of the queue's
	// size: tail and bytes, 16 bytes, never straddle two lines.
	_    [72]byte
	tail atomic.Uint64
	// bytes is the Recorder's estimate of the bytes of the records in
	// the queue (see enqueue): beside tail, whose line a request takes
	// for its push anyway, so that a recorded request's two writes to
	// the queue's state take one cache line from the other core, not two.
	bytes atomic.Int64
	_     [48]byte
	head  atomic.Uint64
	_     [56]byte
}

type queueSlot struct {
	seq atomic.Uint64
	rec *Record
}

func newRecordQueue(size int) *recordQueue {
	n := uint64(1) << bits.Len(uint(max(size, 2)-1))
	q := &recordQueue{slots: make([]queueSlot, n), mask: n - 1, size: uint64(max(size, 1))}
	for i := range q.slots {
		q.slots[i].seq.Store(uint64(i))
	}
	return q
}

// push adds rec at the tail; it reports false, having added nothing, when
// the queue holds size records.
func (q *recordQueue) push(rec *Record) bool {
	pos := q.tail.Load()
	for {
		// Signed: pos may be stale, behind the head.
		if int64(pos-q.head.Load()) >= int64(q.size) {
			return false
		}
		s := &q.slots[pos&q.mask]
		switch seq := s.seq.Load(); {
		case seq == pos:
			if q.tail.CompareAndSwap(pos, pos+1) {
				s.rec = rec
				s.seq.Store(pos + 1)
				return true
			}
		case int64(seq-pos) < 0:
			// The slot's record of the last lap is not yet taken.
			return false
		}
		pos = q.tail.Load()
	}
}

// pop takes the record at the head, or returns nil when there is none
// (or the push of the head's turn has not finished writing it).
func (q *recordQueue) pop() *Record {
	pos := q.head.Load()
	for {
		s := &q.slots[pos&q.mask]
		switch seq := s.seq.Load(); {
		case seq == pos+1:
			if q.head.CompareAndSwap(pos, pos+1) {
				rec := s.rec
				s.rec = nil
				s.seq.Store(pos + q.mask + 1)
				return rec
			}
		case int64(seq-(pos+1)) < 0:
			return nil
		}
		pos = q.head.Load()
	}
}

// pushed returns how many records push has added since the queue was
// made: tail moves on once for each.
func (q *recordQueue) pushed() uint64 { return q.tail.Load() }

// len returns how many records the queue holds, or is being given.
func (q *recordQueue) len() int {
	head := q.head.Load()
	return int(min(q.tail.Load()-head, q.size))
}
