package recording

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"
)

// The pipeline: a request hands its finished record to enqueue, which puts
// it in r.q (a recordQueue) without ever blocking; prepareLoop takes records off r.q in
// batches, prepares them (stacks, headers, analysis) and offers each batch
// to every sink's own queue; one goroutine per sink writes its queue. Every
// queue is bounded in records and in estimated bytes, and a record that does
// not fit is dropped and counted where it did not fit.

// enqueue hands a finished record to the preparer without ever blocking.
// attrBytes is attrsSize(rec.Attrs), which capRecord summed.
func (r *Recorder) enqueue(rec *Record, attrBytes int64) {
	if r.closed.Load() {
		r.dropped.Add(1)
		r.release(rec)
		return
	}
	// recordSizeWith, its common case without its call.
	if rec.size = recordSizeHead(rec) + attrBytes; !recordSizeDone(rec) {
		rec.size += recordSizeRest(rec)
	}
	if r.q.bytes.Add(rec.size) > r.cfg.queueBytes {
		r.q.bytes.Add(-rec.size)
		r.dropped.Add(1)
		r.release(rec)
		return
	}
	if !r.q.push(rec) {
		r.q.bytes.Add(-rec.size)
		r.dropped.Add(1)
		r.release(rec)
		return
	}
	// Counted as recorded by the push itself (Stats reads q.pushed).
	if r.drained.Load() {
		// The preparer has stopped and Close is emptying the queue, and
		// may have passed rec's slot while rec was being pushed: what is
		// queued now is dropped and counted here, so that no record stays
		// in the queue, neither written nor counted. (The push is seen
		// either by Close's own emptying of the queue, or by this check.)
		// While the preparer runs, Close waits for it to write what is
		// queued, rec included.
		r.dropQueued()
		return
	}
	// The preparer does not wait on the queue itself, so a request does
	// not wake it for every record: only once a batch is ready (the
	// ticker collects the rest), or, when it has gone idle with its
	// ticker stopped, for the first record since (which restarts the
	// ticker: the record reaches the sinks within the batch interval).
	// idle is read after the push, and the preparer reads the queue after
	// setting idle (both sequentially consistent): either this request
	// sees idle set, or the preparer sees rec and does not go idle.
	// Or when a ForceFlush waits: it may have counted rec (the queue's
	// tail moves before rec is written to its slot) and kicked the
	// preparer, which found the slot not yet written and stopped there.
	// ForceFlush counts itself among the waiters, and raises want, before
	// its kick, so either this request sees both, or the kick came after
	// rec's slot was written. Once the preparer has handed on what the
	// waiting ForceFlush calls wanted (wanted false), they wait for the
	// sinks alone: a kick then would wake the preparer for nothing (it
	// hands on full batches only), once a request for as long as a sink
	// takes to write.
	if r.q.len() >= r.kickAt || r.idle.Load() && r.idle.CompareAndSwap(true, false) || r.flush.waiters.Load() != 0 && r.flush.wanted() {
		select {
		case r.kick <- struct{}{}:
			r.kicks.Add(1)
		default:
		}
	}
}

// Close stops recording, hands the records still queued to the sinks, waits
// for every sink to write them, and stops the background goroutines. If ctx
// ends first, the sinks' contexts are cancelled, the records not yet written
// are dropped and counted, and Close returns ctx's error once the goroutines
// have stopped (it waits at most one more second for a sink that ignores its
// context, and logs which one did). Calling Close again returns [ErrClosed].
//
// Close does not close the sinks.
func (r *Recorder) Close(ctx context.Context) error {
	err := ErrClosed
	r.closeOnce.Do(func() {
		err = nil
		r.closed.Store(true)
		close(r.stop)
		if !r.wait(ctx) {
			err = ctx.Err()
			r.sinkCancel()
			grace, cancel := context.WithTimeout(context.Background(), time.Second)
			if !r.wait(grace) {
				r.log.Warn("recorder: a sink ignored its context; its goroutine is still running", "sinks", r.running())
			}
			cancel()
		}
		r.sinkCancel()
		r.flight.stop()
		// A record that raced past the closed flag is counted, not lost
		// silently: here, or by its own enqueue once drained is set.
		r.drained.Store(true)
		r.dropQueued()
	})
	return err
}

// dropQueued empties the queue once Close has begun, counting its records
// as dropped.
func (r *Recorder) dropQueued() {
	for rec := r.q.pop(); rec != nil; rec = r.q.pop() {
		r.q.bytes.Add(-rec.size)
		r.dropped.Add(1)
		r.release(rec)
	}
}

// wait waits until the preparer and every sink's goroutine have stopped,
// or ctx is done; it reports whether they all stopped.
func (r *Recorder) wait(ctx context.Context) bool {
	select {
	case <-r.done:
	case <-ctx.Done():
		return false
	}
	for _, q := range r.sinks {
		select {
		case <-q.done:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// running names the sinks whose goroutine has not stopped.
func (r *Recorder) running() string {
	var names []string
	for _, q := range r.sinks {
		select {
		case <-q.done:
		default:
			names = append(names, q.name)
		}
	}
	return strings.Join(names, ", ")
}

// prepareLoop is the preparer: it takes records off r.q a batch at a time,
// prepares them and offers them to the sinks' queues. When it stops, it
// closes the sinks' queues, so that their goroutines write what they hold
// and stop.
func (r *Recorder) prepareLoop() {
	defer close(r.done)
	defer func() {
		for _, q := range r.sinks {
			close(q.in)
		}
	}()
	t := time.NewTicker(r.cfg.batchInterval)
	defer t.Stop()
	size := r.cfg.batchSize
	batch := make([]*Record, 0, size)
	// drain prepares the queued records a batch at a time; unless all is
	// set, it keeps a partial batch for later.
	drain := func(all bool) {
		for {
			for len(batch) < size {
				rec := r.q.pop()
				if rec == nil {
					break
				}
				batch = append(batch, rec)
			}
			if len(batch) == 0 || len(batch) < size && !all {
				return
			}
			n := r.flush.prepared.Load() + uint64(len(batch))
			r.deliver(batch, n)
			r.handed(n)
			clear(batch)
			batch = batch[:0]
		}
	}
	var reported uint64 // r.dropped when last logged
	// An idle recorder does not wake the process every batch interval:
	// once a whole interval has passed with no record queued (pushed
	// unchanged from one tick to the next) and none waiting, the ticker
	// stops and the preparer waits for the next record's kick (see
	// enqueue), or for Close.
	ticking, pushed := true, r.q.pushed()
	for {
		select {
		case <-r.kick:
			if !ticking {
				t.Reset(r.cfg.batchInterval)
				ticking = true
			}
			drain(r.flush.wanted()) // a ForceFlush takes a partial batch too
		case <-t.C:
			r.ticks.Add(1)
			drain(true)
			if d := r.dropped.Load(); d > reported {
				r.log.Warn("recorder: queue full; records dropped", "dropped", d-reported)
				reported = d
			}
			if p := r.q.pushed(); p != pushed {
				pushed = p
				break
			}
			r.idle.Store(true)
			if r.q.len() == 0 {
				t.Stop()
				ticking = false
				break
			}
			// A record came in meanwhile: tick on, unless its request
			// has already taken idle back and kicked.
			r.idle.CompareAndSwap(true, false)
		case <-r.stop:
			drain(true)
			return
		}
	}
}

// deliver prepares a batch off the request path (stack symbolization,
// header redaction, analysis) and offers it to every sink's queue. Its
// records are those numbered below end (see flushState).
func (r *Recorder) deliver(batch []*Record, end uint64) {
	var size int64
	for _, rec := range batch {
		size += rec.size
	}
	r.q.bytes.Add(-size)
	if r.sinkCtx.Err() != nil {
		r.dropped.Add(uint64(len(batch)))
		for _, rec := range batch {
			r.release(rec)
		}
		return
	}
	for _, rec := range batch {
		rec.size += r.prepare(rec)
	}
	if r.pool == nil {
		// Before the sinks see the records: they may keep them.
		r.spares.takeAll(batch)
	}
	var traced int
	if r.flight != nil {
		var limited int
		var err error
		traced, limited, err = r.flight.attach(batch, time.Now())
		r.traceLimited.Add(uint64(limited))
		if err != nil {
			r.log.Warn(err.Error())
		}
	}
	var total int64
	for _, rec := range batch {
		if t := rec.ExecTrace; t != nil {
			rec.size += sizeExecTrace + int64(len(t.Data)+len(t.Reason))
		}
		total += rec.size
		rec.pending = int32(len(r.sinks))
	}
	if traced > 0 {
		traced = r.fitTraces(batch, total)
		r.traced.Add(uint64(traced))
	}
	if len(r.sinks) == 0 {
		r.written.Add(uint64(len(batch)))
		for _, rec := range batch {
			r.release(rec)
		}
		return
	}
	// Each sink's queue copies the records into its ring (batch is
	// reused).
	for _, q := range r.sinks {
		q.offer(r, batch, end)
	}
}

// fitTraces makes room for the batch's execution trace, whose records
// weigh total bytes. The snapshot they share is counted once, with the
// first of them; if a sink's queue has no room for it, the trace is taken
// off every record of the batch (counted in ExecTracesLimited) rather
// than records dropped. It returns how many records keep a trace.
func (r *Recorder) fitTraces(batch []*Record, total int64) int {
	var first []byte
	n := 0
	for _, rec := range batch {
		t := rec.ExecTrace
		if t == nil {
			continue
		}
		n++
		if len(t.Data) == 0 {
			continue
		}
		if first != nil && &t.Data[0] == &first[0] {
			rec.size -= int64(len(t.Data))
			total -= int64(len(t.Data))
		} else {
			first = t.Data
		}
	}
	for _, q := range r.sinks {
		if q.bytes.Load()+total > r.cfg.queueBytes {
			for _, rec := range batch {
				if rec.ExecTrace != nil {
					rec.ExecTrace = nil
					rec.size = recordSize(rec)
				}
			}
			r.traceLimited.Add(uint64(n))
			return 0
		}
	}
	return n
}

// prepare symbolizes stacks, redacts the record and analyses it. It
// returns by how much that changed recordSize's estimate of the record,
// which enqueue made: its stacks symbolized, its header pairs made a map,
// its warnings. (Redaction and the caps change a few strings' lengths,
// which the estimate leaves out: computing it afresh would walk the whole
// record a second time.)
func (r *Recorder) prepare(rec *Record) (grown int64) {
	rec.ownSpare()
	calls := len(rec.Calls) > 0 // without calls, no stack to symbolize, no warning to find
	if calls {
		grown = r.symbolize(rec)
	}
	switch {
	case len(rec.hdrFlat) > 0:
		grown -= rec.hdrFlatBytes
		switch out := rec.spare.hdr; {
		case rec.hdrSame && len(out) > 0 && len(rec.hdrFlat) == 2*len(rec.spare.hdrOrder):
			// headerMap's first way, here without its call: the pairs
			// of the last request, which the map holds as redaction
			// left them (see knownHeaders); or, for a record a sink
			// may keep, the pairs of the map the writer published,
			// which records share (see setKeptHeaders).
			rec.hdrBytes = rec.spare.hdrBytes
			noteSameUserAgent(r.scrubber(), rec.hdrFlat, rec.spare.hdrOrder)
			rec.Headers = out
		case r.pool == nil:
			rec.Headers = r.keptHeaderMap(rec)
		default:
			rec.Headers = r.headerMap(rec)
		}
		grown += rec.hdrBytes
		if r.pool == nil {
			// The pairs, unredacted, lie in the spare's buffer, which
			// the next records borrow (see setKeptHeaders): cleared,
			// they keep no request's values alive, unredacted.
			clear(rec.hdrFlat)
		}
		rec.hdrFlat, rec.hdrFlatBytes = rec.hdrFlat[:0], 0
	case rec.Headers != nil:
		rec.Headers = r.cfg.redaction.Header(rec.Headers)
	}
	if r.cfg.cost != nil {
		r.price(rec) // before redaction: a secret-looking name ("tokens") may hold a count
	}
	r.scrub(rec)
	r.scrubber().forgetUserAgent()
	if max(len(rec.Path), len(rec.Query)) > r.cfg.maxText {
		r.cfg.capRedacted(rec)
	}
	// A wrapper's warnings, which enqueue counted, are appended to.
	counted := len(rec.Warnings)
	switch {
	case !calls:
	case rec.Warnings != nil:
		rec.Warnings = r.analysis.analyze(rec.Warnings, rec, r.cfg.repeatThreshold)
	default:
		w := r.analysis.analyze(rec.spare.warnings[:0], rec, r.cfg.repeatThreshold)
		rec.spare.warnings = w
		if len(w) > 0 {
			rec.Warnings = w
		}
	}
	for i := counted; i < len(rec.Warnings); i++ {
		w := &rec.Warnings[i]
		grown += sizeWarning + int64(len(w.Service)+len(w.Method)+len(w.Request)+len(w.Message))
	}
	if r.pool == nil {
		// The record may be kept by a sink, and is never reused: it
		// keeps no memory for a next use (the raw stacks' buffer above
		// all). Its buffer of header pairs, cleared above, stays with
		// the spare, which the next records borrow (see
		// setKeptHeaders), unless it grew large.
		if inRoom(rec.Attrs, &rec.spare.attrs) {
			// The attributes lie in the spare's room, which the next
			// records borrow: they are copied out, or given the last
			// copy made when they are the same (see keptAttrs), before
			// the spare is emptied. Decided here, from the slice as
			// every append left it (a wrapper's, a stream's fold, a
			// message's attributes, capAttrs): an empty slice of the
			// room that finish's appends filled lies in it too.
			rec.Attrs = r.keptAttrs(rec.Attrs)
		}
		flat := rec.spare.flat
		if cap(flat) > maxSpareHeaders {
			flat = nil
		}
		*rec.spare = spare{flat: flat[:0]}
		rec.hdrFlat, rec.hdrFlatBytes, rec.hdrOrderUA, rec.hdrShared = nil, 0, 0, false
	}
	return grown
}

// keptAttrs returns attrs, redacted attributes that lie in a borrowed
// spare's room, as a record a sink may keep holds them: the last
// copy keptAttrs made, when attrs has the same keys and values in the
// same order, else a copy of its own, which the next records may share
// in turn. Sinks never modify a record (see Sink), so records may share
// it, as they share a header map (keptHeaderMap): a server's requests
// mostly carry the same few attributes (url.scheme,
// network.protocol.version, user_agent.original), and a copy each cost an
// allocation and ~450 instructions a request (callgrind), where comparing
// them costs ~170, the User-Agent compared by its bytes (see "The hello
// scenario's whole process, twenty-first round" in
// docs/BENCHMARKS-history.md). It runs in the writer goroutine, which alone uses
// r.lastAttrs.
func (r *Recorder) keptAttrs(attrs []Attr) []Attr {
	if last := r.lastAttrs; len(last) == len(attrs) && sameAttrs(last, attrs) {
		return last
	}
	c := slices.Clone(attrs)
	r.lastAttrs = c[:len(c):len(c)]
	return r.lastAttrs
}

// inRoom reports whether attrs has its data in room, the room of a
// record's spare for its first four attributes, at any index: appending
// to it, or reading it, reaches the room.
func inRoom(attrs []Attr, room *[4]Attr) bool {
	return cap(attrs) > 0 &&
		uintptr(unsafe.Pointer(unsafe.SliceData(attrs)))-uintptr(unsafe.Pointer(room)) < unsafe.Sizeof(*room)
}

// sameAttrs reports whether a and b, as long as each other, hold the
// same keys and values in the same order. Keys and values are mostly the
// same strings (constants): sameString tells them by their addresses.
func sameAttrs(a, b []Attr) bool {
	b = b[:len(a)]
	for i := range a {
		x, y := &a[i], &b[i]
		if !sameString(x.Key, y.Key) || !sameString(x.Value, y.Value) {
			return false
		}
	}
	return true
}

// symbolize turns the raw stacks of rec's calls into frames, through the
// recorder's caches, and returns by how much that changed recordSize's
// estimate. It may run in any goroutine.
func (r *Recorder) symbolize(rec *Record) (grown int64) {
	var prev *uintptr // the last call's raw stack, which the next may share
	var np uint8
	var prevStack []Frame
	calls := rec.Calls
	for i := 0; i < len(calls); i++ {
		c := &calls[i]
		if c.npcs == 0 {
			continue
		}
		if c.pcs == prev && c.npcs == np {
			c.Stack = prevStack // the same stack (see startCallAt): the same frames
		} else {
			prev, np, prevStack = c.pcs, c.npcs, r.stacks.frames(r.sym, c.rawStack(), r.cfg.maxStack)
			c.Stack = prevStack
		}
		c.pcs, c.npcs = nil, 0
		// The calls right after c that share its stack (a loop) get its
		// frames in a loop that calls nothing, whose variables stay in
		// registers (the stack's address and length among them).
		n := 1
		for i+1 < len(calls) {
			d := &calls[i+1]
			if d.pcs != prev || d.npcs != np {
				break
			}
			d.Stack, d.pcs, d.npcs = prevStack, nil, 0
			n++
			i++
		}
		grown += int64(n) * (int64(len(prevStack))*sizeFrame - int64(np)*int64(unsafe.Sizeof(uintptr(0))))
	}
	return grown
}

// sinkDone notes that one sink is done with rec, having accepted it or
// not; the last one counts rec as written if every sink accepted it.
func (r *Recorder) sinkDone(rec *Record, accepted bool) {
	if last, written := lastSink(rec, accepted); last {
		if written {
			r.written.Add(1)
		}
		r.release(rec)
	}
}

// lastSink notes that one sink is done with rec, having accepted it or
// not. It reports whether that sink was the last one, and then whether
// every sink accepted rec; the caller then counts and releases rec.
func lastSink(rec *Record, accepted bool) (last, written bool) {
	if !accepted {
		atomic.StoreInt32(&rec.missed, 1)
	}
	if atomic.AddInt32(&rec.pending, -1) != 0 {
		return false, false
	}
	return true, atomic.LoadInt32(&rec.missed) == 0
}

// A sinkQueue is one sink's bounded queue and the goroutine that writes it.
type sinkQueue struct {
	sink Sink
	name string
	// in holds batches; it never blocks the preparer, which sends only
	// what depth and bytes admit: each batch holds a record at least, and
	// in has room for queueSize batches. A batch names its records by
	// their place in ring, so that in holds no pointer: a collection
	// scans ring, 8 bytes a slot, not in's room of queueSize batches.
	in   chan sinkBatch
	done chan struct{} // closed when the goroutine has stopped
	// ring holds the records of the batches in in, queueSize slots, in
	// the order they were sent, from the slot after the last one's
	// (tail, the preparer's alone) on, wrapping. The preparer writes a
	// batch's records before it sends the batch; run takes them out when
	// it receives it, and clears their slots, before it lowers depth. As
	// depth counts the records in in and being written, and the preparer
	// writes only what depth admits, the slots it writes hold no record
	// that run has yet to take out.
	ring []*Record
	tail int

	depth   atomic.Int64 // records in in and being written
	bytes   atomic.Int64 // their estimated bytes
	written atomic.Uint64
	dropped atomic.Uint64
	errors  atomic.Uint64
	// sent is the end of the last batch sent to in, wrote of the last
	// written (see sinkBatch.end): for ForceFlush.
	sent, wrote atomic.Uint64

	released []*Record // write's buffer of the records it releases

	// ctx is the context the sink's batches are written under, until
	// its deadline and cancel its end (see writeCtx). Only the queue's
	// goroutine uses them.
	ctx    context.Context
	until  time.Time
	cancel context.CancelFunc
}

// sinkSlack is the part of the sink timeout by which a Write's context
// may outlast it (see writeCtx): an eighth.
const sinkSlack = 8

// writeCtx returns the context for a Write beginning now: it ends at the
// latest when the sink timeout and an eighth more have passed, and not
// before the sink timeout has. One context serves the batches that begin
// within the first eighth of the timeout after it was made: a context of
// its own for each batch (context.WithTimeout: a timer, a context, its
// entry in the parent's children, and its cancel) cost ~2,900–4,000
// instructions a batch (callgrind; the more with timers in the heap), and a fanout request under
// callgrind's load test came in batches of eight. A Sink
// that keeps a batch's context after its Write has returned sees it
// done at the same latest time (or sooner: the context before is
// cancelled when the next is made, and Close cancels them all).
func (q *sinkQueue) writeCtx(r *Recorder) context.Context {
	now := time.Now()
	if q.ctx == nil || q.until.Sub(now) < r.cfg.sinkTimeout {
		if q.cancel != nil {
			q.cancel()
		}
		q.until = now.Add(r.cfg.sinkTimeout + r.cfg.sinkTimeout/sinkSlack)
		q.ctx, q.cancel = context.WithDeadline(r.sinkCtx, q.until)
	}
	return q.ctx
}

// A sinkBatch is a batch sent to a sinkQueue's goroutine: n records from
// the slot at of the queue's ring on (wrapping), bytes their estimated
// bytes. It holds no pointer.
type sinkBatch struct {
	at, n int
	bytes int64
	end   uint64 // the records the writer had handed on with this batch's (see flushState)
}

func newSinkQueue(s Sink, queueSize int) *sinkQueue {
	return &sinkQueue{sink: s, name: sinkName(s), in: make(chan sinkBatch, queueSize), done: make(chan struct{}),
		ring: make([]*Record, queueSize)}
}

// put writes recs into q's ring from its tail on, and returns the batch
// that names them. Only the preparer calls it, for records depth admits.
func (q *sinkQueue) put(recs []*Record, bytes int64, end uint64) sinkBatch {
	b := sinkBatch{at: q.tail, n: len(recs), bytes: bytes, end: end}
	k := copy(q.ring[q.tail:], recs)
	copy(q.ring, recs[k:])
	if q.tail += len(recs); q.tail >= len(q.ring) {
		q.tail -= len(q.ring)
	}
	return b
}

// take appends the records of b to buf, taking them out of q's ring, and
// returns buf. Only q's goroutine calls it.
func (q *sinkQueue) take(buf []*Record, b sinkBatch) []*Record {
	first, rest := q.slots(b)
	buf = append(append(buf, first...), rest...)
	clear(first)
	clear(rest)
	return buf
}

// slots returns the ring's slots that hold b's records: first from b.at
// towards the ring's end, then rest from its start where b wraps.
func (q *sinkQueue) slots(b sinkBatch) (first, rest []*Record) {
	first = q.ring[b.at:min(b.at+b.n, len(q.ring))]
	return first, q.ring[:b.n-len(first)]
}

func (q *sinkQueue) stats() SinkStats {
	return SinkStats{
		Name:       q.name,
		Written:    q.written.Load(),
		Dropped:    q.dropped.Load(),
		Errors:     q.errors.Load(),
		QueueDepth: int(q.depth.Load()),
		QueueBytes: q.bytes.Load(),
	}
}

// offer queues the records of batch, numbered below end, that fit in q
// and drops the others, counting them. Only the preparer calls it, so
// depth and bytes can only shrink between the check and the send.
func (q *sinkQueue) offer(r *Recorder, batch []*Record, end uint64) {
	depth, used := int(q.depth.Load()), q.bytes.Load()
	var total int64
	for _, rec := range batch {
		total += rec.size
	}
	if depth+len(batch) > r.cfg.queueSize || used+total > r.cfg.queueBytes {
		// Some do not fit: keep, in order, those that do. batch is
		// the caller's, which other sinks' queues are offered next.
		kept := make([]*Record, 0, len(batch))
		total = 0
		for _, rec := range batch {
			if depth+len(kept) < r.cfg.queueSize && used+total+rec.size <= r.cfg.queueBytes {
				kept = append(kept, rec)
				total += rec.size
				continue
			}
			q.dropped.Add(1)
			r.sinkDone(rec, false)
		}
		r.log.Warn("recorder: a sink is behind; its records are dropped", "sink", q.name, "dropped", len(batch)-len(kept))
		batch = kept
	}
	if len(batch) == 0 {
		return
	}
	q.depth.Add(int64(len(batch)))
	q.bytes.Add(total)
	// Written into the ring before the send: depth admits them (see
	// sinkQueue.ring), so in has room for the batch, and the send
	// does not block.
	b := q.put(batch, total, end)
	select {
	case q.in <- b:
		q.sent.Store(end)
	default: // not reached: depth bounds the batches in q.in
		q.tail = b.at // the slots are free again
		first, rest := q.slots(b)
		clear(first)
		clear(rest)
		q.depth.Add(-int64(len(batch)))
		q.bytes.Add(-total)
		q.dropped.Add(uint64(len(batch)))
		for _, rec := range batch {
			r.sinkDone(rec, false)
		}
	}
}

// run writes q's batches to its sink until the preparer closes q.in,
// merging batches that wait into one Write of up to the batch size.
func (q *sinkQueue) run(r *Recorder) {
	defer close(q.done)
	defer func() {
		if q.cancel != nil {
			q.cancel()
		}
	}()
	buf := make([]*Record, 0, r.cfg.batchSize)
	for b := range q.in {
		buf = q.take(buf, b)
		bytes, end := b.bytes, b.end
	more:
		for len(buf) < r.cfg.batchSize {
			select {
			case b, ok := <-q.in:
				if !ok {
					break more
				}
				buf = q.take(buf, b)
				bytes, end = bytes+b.bytes, b.end
			default:
				break more
			}
		}
		q.write(r, buf)
		q.depth.Add(-int64(len(buf)))
		q.bytes.Add(-bytes)
		q.wrote.Store(end)
		r.flush.progressed()
		clear(buf)
		buf = buf[:0]
	}
}

// write hands batch to the sink, within the sink timeout, and counts the
// outcome; once Close has run out of time it drops the batch unwritten.
func (q *sinkQueue) write(r *Recorder, batch []*Record) {
	var err error
	if err = r.sinkCtx.Err(); err == nil {
		err = safeWrite(q.writeCtx(r), q.sink, batch)
		if err != nil {
			q.errors.Add(1)
			r.log.Warn("recorder: sink write failed", "sink", q.name, "records", len(batch), "err", err)
		}
	}
	// A sink that took part of the batch says which records it did not.
	var refused map[*Record]bool
	partial := false
	if err != nil {
		refused, partial = rejected(err)
	}
	switch {
	case err == nil:
		q.written.Add(uint64(len(batch)))
	case partial:
		n := 0
		for _, rec := range batch {
			if refused[rec] {
				n++
			}
		}
		q.dropped.Add(uint64(n))
		q.written.Add(uint64(len(batch) - n))
	default:
		q.dropped.Add(uint64(len(batch)))
	}
	// The records this sink was the last to be done with are counted
	// and handed back to the pool together: one atomic add and one lock
	// of the pool a batch, rather than a record.
	done, written := q.released[:0], 0
	for _, rec := range batch {
		if last, ok := lastSink(rec, err == nil || partial && !refused[rec]); last {
			done = append(done, rec)
			if ok {
				written++
			}
		}
	}
	if written > 0 {
		r.written.Add(uint64(written))
	}
	r.releaseAll(done)
	clear(done)
	q.released = done[:0]
}

func safeWrite(ctx context.Context, s Sink, batch []*Record) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicError{v}
		}
	}()
	return s.Write(ctx, batch)
}

type panicError struct{ v any }

func (p panicError) Error() string { return "sink panicked: " + panicString(p.v) }

// Sequence returns a [Sink] that writes each batch to sinks in turn, in one
// delivery: a sink sees a batch only once the sinks before it have returned
// from Write. That is how package ui's Live follows a store, so that a
// dashboard told of new records finds them stored:
//
//	recording.WithSinks(recording.Sequence(st, live), exporter)
//
// The sinks of a sequence share its queue, so a slow one delays the ones
// after it; an error or a panic of one does not keep the batch from the
// others, and Write returns the errors joined (with each sink's name; a
// [*PartialWriteError] of every sink that failed still names the records
// rejected). Nil sinks are ignored, and
// so are nil pointers in a Sink (see [WithSinks]).
func Sequence(sinks ...Sink) Sink {
	return sequence(slices.DeleteFunc(slices.Clone(sinks), nilSink))
}

type sequence []Sink

func (s sequence) Write(ctx context.Context, records []*Record) error {
	var errs []error
	for _, k := range s {
		if err := safeWrite(ctx, k, records); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", sinkName(k), err))
		}
	}
	return errors.Join(errs...)
}

// BorrowsRecords reports whether every sink of the sequence is a
// [Borrower] that borrows records.
func (s sequence) BorrowsRecords() bool {
	for _, k := range s {
		if !borrows(k) {
			return false
		}
	}
	return true
}

func (s sequence) sinkName() string {
	names := make([]string, len(s))
	for i, k := range s {
		names[i] = sinkName(k)
	}
	return strings.Join(names, "+")
}

// sinkName names a sink in Stats and logs: its type, or a sequence's parts.
func sinkName(s Sink) string {
	if n, ok := s.(interface{ sinkName() string }); ok {
		return n.sinkName()
	}
	return fmt.Sprintf("%T", s)
}
