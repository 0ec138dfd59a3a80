package badgerstore

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/y"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
	"github.com/goappstats/appstats/store/internal/sketch"
)

// ErrReadOnly is returned by methods that modify a store opened read-only.
var ErrReadOnly = errors.New("badgerstore: store is read-only")

// Store is a [store.Store] on Badger. Its methods are safe for concurrent
// use; readers run concurrently with writers, each on a consistent snapshot.
type Store struct {
	db   *badger.DB
	dir  string
	opts Options
	log  *slog.Logger
	// overLog and readLog log, rate-limited, records dropped over the size
	// limit and damaged entries skipped by reads.
	overLog, readLog *convention.Logger

	// mu guards db against Close: every operation holds it shared; Close,
	// Clear and the flush that precedes disk reclamation hold it exclusively
	// (Badger's DropAll and DropPrefix must not race with writes or reads).
	mu     sync.RWMutex
	closed bool

	// syncMu keeps DB.Sync apart from writes: in Badger v4.9.6, DB.Sync
	// races with the value-log rotation a write may trigger (found with
	// -race). Writers (commits, batch flushes) hold it shared; sync holds
	// it exclusively, and so does value-log GC, whose rewrite reads
	// DB.MaxVersion racing with memtable writes in the same version.
	syncMu sync.RWMutex
	// wgate lets one call that writes into Badger at a time, and none
	// once one has failed (failed): see gated.
	wgate  sync.Mutex
	failed atomic.Pointer[writeFailure]
	oldDB  *failedDB // the failed database, closing apart (see recoverWrites); diskLoop's
	remade bool      // the directory was deleted, and made again by recoverWrites; diskLoop's
	// standIn: an empty database in memory stands in for the failed one
	// while that closes (see recoverWrites); reads show no records.
	standIn atomic.Bool
	// reopenErr is why recoverWrites could not open the directory again
	// at its last try, nil if it has not failed since the writes stopped
	// (see reopenFailed).
	reopenErr atomic.Pointer[string]
	// reopenSeen holds the causes reopenFailed logged since the store
	// last wrote, the latest last, at most maxReopenCauses; diskLoop's
	// (and Close's, once diskLoop has stopped).
	reopenSeen []string

	// pmu orders rollup deltas against readers' snapshots. pending holds
	// every delta stored under the d prefix (not yet folded), decoded, by
	// minute, so readers never scan that prefix (whose deleted keys Badger
	// keeps walking until compaction). A writer holds pmu while it commits
	// and adds its deltas, a fold while it commits and removes them, and a
	// reader while it opens its transaction and copies pending: each
	// reader sees every delta exactly once, in the d prefix or in a rollup.
	pmu      sync.RWMutex
	pending  map[int64][]pendingDelta
	npending atomic.Int64
	// lost holds the minutes of the damaged index blocks and summaries
	// found (see loseAt) whose rollups are not yet marked to be
	// recounted: readers count them from summaries. trimmed is the
	// minute before which retention deleted the rollups: a minute before
	// it is never noted (its hour's rollup, kept while the hour is partly
	// trimmed, would be counted again from its remaining minutes).
	// Guarded by pmu.
	lost    map[int64]bool
	trimmed int64

	seq   atomic.Uint64 // delta sequence numbers
	count atomic.Int64  // records stored
	bytes atomic.Int64  // their stored size (keys and values), traces included
	// traceBytes is the stored size of the execution traces (see
	// exectrace.go), also counted in bytes.
	traceBytes atomic.Int64
	// traced is set once the store holds an execution trace, or a
	// transaction storing one is about to commit, and stays set: a
	// record written again looks for its old trace's references while it
	// is (see Write), whatever traceBytes says (a batch that ended has
	// not always counted its traces yet, and the count is a little off
	// Badger's sizes).
	traced atomic.Bool

	disk       diskState
	limit      int64        // where Write stops: MaxBytes + DiskSlack/2; 0: none
	slack      int64        // DiskSlack
	mode       atomic.Int32 // modeNormal, or how the store opened on a full disk
	garbage    atomic.Int64 // bytes retention deleted since the last compaction
	dropped    atomic.Uint64
	skipped    atomic.Uint64
	overBudget atomic.Uint64 // records counted but not persisted

	budget     *budget // which records are persisted (Options.RecordBudget)
	flights    flights // Write's batches, until every batch running sees them
	ring       *ring   // recent records not persisted (Options.RingBytes)
	movedAside string  // where a damaged directory went at Open

	damagedMu   sync.Mutex
	damagedKeys map[string]struct{} // damaged entries found by reads (see damaged)
	// miscounted is set when a read finds an index block damaged: Len
	// and Size count its records until a recount (see Store.recount), and
	// a Close does not save them, so that the next Open counts again.
	miscounted atomic.Bool
	// trimHook, if set (by tests), runs in each pass of trimRecords
	// between the read of what it deletes and the deletion: at "read",
	// then at "claimed" (see claims); and of trimTraces, at "traces
	// read", then at "traces claimed".
	trimHook func(at string)
	// writeHook, if set (by tests), runs in Write once a batch has
	// ended ("ended"), before it counts what it stored.
	writeHook func(at string)

	// spareChunk is one chunk kept apart from chunks, which the
	// collector empties and whose per-P slot another P cannot take (see
	// Store.chunk).
	spareChunk atomic.Pointer[[]byte]

	// deltaSpan is the span of sketch buckets of the requests that the
	// last transaction's last rollup delta counted, widened on either
	// side (see codec.ReserveSpan), which the next transaction's deltas
	// reserve, in this Write or the next (see codec.Rollup.Reserve);
	// hasSpan is false while there is none, or it is too wide to
	// reserve. Guarded by budget.mu.
	deltaSpan struct{ lo, hi int }
	hasSpan   bool

	chunks    sync.Pool    // *[]byte of chunkSize, for Write's encoding
	blockPool sync.Pool    // *blockWriter, for Write's blocks
	idxPool   sync.Pool    // *idxState, for Write's index blocks
	sumBufs   sync.Pool    // *[]byte, for reads of summary blocks
	ratio     atomic.Int64 // the last block's stored size per 1000 bytes of records
	sumRatio  atomic.Int64 // the same for the last summary block
	// newest is the latest start of the records written (since Open,
	// and stored at Open) other than those from the future, and future
	// the earliest start of those (see futureSkew): a record that
	// started between them is not stored already (see replaced). Both
	// change under budget.mu (and Open's and Clear's exclusive locks).
	newest atomic.Int64 // emptyNewest when nothing is stored
	future atomic.Int64 // noFuture when no record from the future is stored
	blocks blockCache   // the block Get decoded last

	foldMu    sync.Mutex // one fold (or retention pass) at a time
	foldNow   chan struct{}
	retainNow chan struct{}
	passes    atomic.Int64 // retention passes the background loop ran
	stop      chan struct{}
	wg        sync.WaitGroup
	closeErr  error
	once      sync.Once
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the store in directory dir. The zero
// Options are the defaults. Only one process may open a directory for
// writing at a time.
//
// Open checks the directory before Badger opens it. If it is damaged in a
// way Badger would mishandle (see the package documentation), Open moves
// it aside, logs an error naming where it went, and starts an empty store
// in dir. If the filesystem is too full to write safely, Open opens the
// directory read-only (or, if that fails, an empty store in memory) and
// drops records until space returns; then it reopens the directory for
// writing by itself.
func Open(dir string, opts Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if opts.MaxBytes > maxMaxBytes {
		o.Logger.Warn("badgerstore: MaxBytes over its maximum, taken as the maximum",
			"option", "MaxBytes", "given", opts.MaxBytes, "used", o.MaxBytes)
	}
	if 0 < opts.ValueThreshold && opts.ValueThreshold < minValueThreshold {
		o.Logger.Warn("badgerstore: ValueThreshold below its minimum, taken as the minimum (Badger's crash recovery drops transactions whose end marker went to the value log)",
			"option", "ValueThreshold", "given", opts.ValueThreshold, "used", o.ValueThreshold)
	}
	// A directory another process holds is reported as locked (which
	// tells a second process to read it through Snapshot) before its
	// logs are judged: the advice on too many logs (move them out) is no
	// advice for a live store's. The lock is taken again, and kept,
	// while the directory is checked (a process that takes it between
	// is found then).
	if unlock, err := lockDir(dir, o.ReadOnly); err == nil {
		unlock()
	} else if errors.Is(err, ErrLocked) {
		return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
	}
	if m, err := memTableFor(dir, o.MemTableSize); err != nil {
		return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
	} else if m > o.MemTableSize {
		level := slog.LevelWarn
		if m <= earlierMemTableSize {
			level = slog.LevelInfo
		}
		o.Logger.Log(context.Background(), level, "badgerstore: memtable logs written with larger memtables, opened with their size",
			"option", "MemTableSize", "given", o.MemTableSize, "used", m)
		o.MemTableSize = m
	}
	if logs := memLogs(dir); len(logs) > o.NumMemtables+2 {
		if err := tooManyLogs(logs, o.MemTableSize); err != nil {
			return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
		}
		o.Logger.Warn("badgerstore: more memtable logs than Badger leaves with these options (NumMemtables+2), each replayed into a memtable at Open",
			"logs", len(logs), "option", "NumMemtables", "given", o.NumMemtables, "heap_mib", int64(len(logs))*memtableArena(o.MemTableSize)>>20)
	}
	s := &Store{dir: dir, opts: o, log: o.Logger, foldNow: make(chan struct{}, 1), retainNow: make(chan struct{}, 1),
		stop: make(chan struct{}), pending: make(map[int64][]pendingDelta), trimmed: math.MinInt64,
		overLog: convention.NewLogger(o.Logger, 0), readLog: convention.NewLogger(o.Logger, 0),
		budget: newBudget(o.RecordBudget, o.MaxKeys), ring: newRing(o.RingBytes)}
	s.disk.free.Store(-1)
	if o.MaxBytes > 0 {
		// The other half of the slack is for what Badger writes on its
		// own: garbage collection and compaction write their new files
		// before deleting the old.
		s.slack = o.DiskSlack()
		s.limit = o.MaxBytes + s.slack/2
	}
	if o.ReadOnly {
		// Checked as for writing, but a damaged directory is reported,
		// not moved.
		unlock, err := lockDir(dir, true)
		if err != nil {
			return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
		}
		_, err = checkDir(dir, o.badger(dir))
		if err == nil {
			err = refuseEmptyLogs(dir)
		}
		unlock()
		if err != nil {
			return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
		}
		db, err := badger.Open(o.badger(dir))
		if err != nil {
			return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
		}
		s.measure()
		s.db = db
		if err := s.load(); err != nil {
			db.Close()
			return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
		}
		return s, nil
	}
	if err := s.open(); err != nil {
		return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
	}
	s.wg.Add(3)
	go s.foldLoop()
	go s.retentionLoop()
	go s.diskLoop()
	return s, nil
}

// open opens s.dir for writing: it checks the directory (moving it aside
// if damaged), measures the free space, and opens Badger, or opens
// degraded if the disk is too full.
func (s *Store) open() error {
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	unlock, err := lockDir(s.dir, false)
	if err != nil {
		return err
	}
	bo := s.opts.badger(s.dir)
	clean, err := checkDir(s.dir, bo)
	if errors.Is(err, store.ErrCorrupt) {
		clean, err = true, s.setAside(err)
	}
	if err == nil {
		err = removeEmptyLogs(s.dir)
	}
	unlock()
	if err != nil {
		return err
	}
	s.refresh()
	if s.disk.full.Load() {
		return s.openDegraded(clean)
	}
	db, err := badger.Open(bo)
	if err != nil && s.movedAside == "" && (errors.Is(err, y.ErrChecksumMismatch) || errors.Is(err, badger.ErrTruncateNeeded)) {
		// Damage checkDir does not look for, found by Badger itself.
		if err = s.setAside(corrupt("%v", err)); err == nil {
			db, err = badger.Open(bo)
		}
	}
	if err != nil {
		return err
	}
	s.db = db
	if err := s.load(); err != nil {
		db.Close()
		return err
	}
	return nil
}

// setAside moves the damaged directory aside, logging why and where.
func (s *Store) setAside(damage error) error {
	to, err := moveAside(s.dir)
	if err != nil {
		return fmt.Errorf("%w; moving it aside: %w", damage, err)
	}
	s.movedAside = to
	s.log.Error("badgerstore: store damaged: moved it aside and started an empty one",
		"dir", s.dir, "moved_to", to, "damage", damage.Error())
	return nil
}

// Modes of a store opened for writing.
const (
	modeNormal   = iota
	modeReadOnly // opened read-only on a full disk
	modeMemory   // opened empty, in memory, on a full disk
)

// openDegraded opens the directory read-only if Badger closed it cleanly,
// or else an empty in-memory database, for a store opened on a full disk:
// reads work, writes are dropped, and diskLoop reopens the directory once
// space has returned. (After a crash, Badger would refuse to open the
// directory read-only, its logs needing truncation; and reading their
// sparse tails through its memory maps faults on a full tmpfs.)
func (s *Store) openDegraded(clean bool) error {
	mode := int32(modeMemory)
	var db *badger.DB
	err := errors.New("not closed cleanly")
	if clean {
		db, err = badger.Open(s.opts.badger(s.dir).WithReadOnly(true))
		mode = modeReadOnly
	}
	if err != nil {
		s.log.Debug("badgerstore: not opening read-only on a full disk", "err", err)
		mode = modeMemory
		if db, err = badger.Open(s.opts.badger("").WithInMemory(true)); err != nil {
			return err
		}
	}
	s.db = db
	s.mode.Store(mode)
	if err := s.load(); err != nil {
		db.Close()
		return err
	}
	return nil
}

// reopen opens the directory for writing in place of the database a
// degraded Open opened, once space has returned. It holds s.mu: reads wait.
func (s *Store) reopen() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.mode.Load() == modeNormal {
		return
	}
	if err := s.db.Close(); err != nil {
		s.log.Warn("badgerstore: closing the degraded database", "err", err)
	}
	db, err := badger.Open(s.opts.badger(s.dir))
	if err != nil {
		s.log.Error("badgerstore: reopening for writing", "dir", s.dir, "err", err)
		if err := s.openDegraded(false); err != nil {
			// Nothing to read from: an empty in-memory database keeps
			// the store's methods working.
			s.db, _ = badger.Open(s.opts.badger("").WithInMemory(true))
			s.mode.Store(modeMemory)
		}
		return
	}
	s.db = db
	s.pmu.Lock()
	s.pending = make(map[int64][]pendingDelta)
	s.npending.Store(0)
	s.pmu.Unlock()
	if err := s.load(); err != nil {
		s.log.Warn("badgerstore: reopening for writing", "dir", s.dir, "err", err)
	}
	s.mode.Store(modeNormal)
	d := &s.disk
	d.mu.Lock()
	d.full.Store(false)
	dropped, since := s.dropped.Load()-d.fullDropped, time.Since(d.fullSince)
	d.mu.Unlock()
	s.log.Warn("badgerstore: disk space available again: opened for writing", "dir", s.dir,
		"dropped", dropped, "after", since.Round(time.Second))
}

// OpenReadOnly opens the store in dir for reading only, with default
// options, for a second process such as a CLI. Badger allows it only while
// no process has the directory open for writing: otherwise the error wraps
// [ErrLocked], and [Snapshot] copies the store to read it. A directory that
// holds no store gives an error wrapping [io/fs.ErrNotExist]. Write, Clear and
// EnforceRetention return [ErrReadOnly]; reads see rollup deltas not yet
// folded, so they are as exact as the writer's.
func OpenReadOnly(dir string) (*Store, error) {
	return Open(dir, Options{ReadOnly: true})
}

// load counts the stored records and their size (from the count a clean
// Close saved, or by scanning the keys), and loads the pending deltas.
func (s *Store) load() error {
	var count, size int64
	var seq uint64
	counted := false
	err := s.db.View(func(txn *badger.Txn) error {
		if item, err := txn.Get([]byte{pMeta}); err == nil {
			err := item.Value(func(v []byte) error {
				c, n := binary.Varint(v)
				b, m := binary.Varint(v[max(n, 0):])
				if n <= 0 || m <= 0 || c < 0 || b < 0 {
					return store.ErrCorrupt
				}
				// A count saved before blocks counted sizes as they
				// were then (see lsmCost): counted again.
				if l, k := binary.Uvarint(v[n+m:]); k > 0 && l == metaBlocks {
					count, size, counted = c, b, true
				}
				return nil
			})
			if err != nil {
				s.log.Warn("badgerstore: corrupt record count, recounting", "err", err)
			}
		}
		// The newest start stored up to futureSkew from now, and the
		// earliest after it: records from the future, as trimFuture
		// takes them, so that a clock set back or a record written
		// under a wrong one does not have every record looked up until
		// the clock reaches it. (A malformed key there: any start.)
		horizon := time.Now().UnixNano() + int64(futureSkew)
		newest, future := int64(emptyNewest), int64(noFuture)
		// Past the horizon's keys: the last key before it starts at or
		// before the horizon, the first from it after the horizon.
		edge := timeKey([]byte{pSummary}, horizon+1)
		si := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSummary}, Reverse: true})
		if si.Seek(edge); si.Valid() {
			newest = math.MaxInt64
			if k := si.Item().Key(); len(k) == 25 {
				newest = keyTime(k[1:9])
			}
		}
		si.Close()
		fi := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSummary}})
		if fi.Seek(edge); fi.Valid() {
			if k := fi.Item().Key(); len(k) == 25 {
				future = keyTime(k[1:9])
			} else {
				newest = math.MaxInt64
			}
		}
		fi.Close()
		var traces int64
		if counted {
			traces = countTraces(txn)
		} else {
			count, size, traces = s.countRecords(txn)
		}
		s.traceBytes.Store(traces)
		if traces > 0 {
			s.traced.Store(true)
		}
		ii := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pIndex}, PrefetchValues: false})
		for ii.Rewind(); ii.Valid(); ii.Next() {
			k := ii.Item().Key()
			if len(k) != idxKeyLen {
				continue
			}
			seq = max(seq, binary.BigEndian.Uint64(k[17:]))
			if t := keyTime(k[1:9]); t > horizon {
				future = min(future, t)
			} else if newest < t && newest != math.MaxInt64 {
				newest = t
			}
		}
		ii.Close()
		s.newest.Store(newest)
		s.future.Store(future)
		// Blocks take sequence numbers too.
		for _, p := range []byte{pBlock, pSumBlock} {
			bi := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
			for bi.Rewind(); bi.Valid(); bi.Next() {
				if k := bi.Item().Key(); len(k) == 17 {
					seq = max(seq, binary.BigEndian.Uint64(k[9:]))
				}
			}
			bi.Close()
		}
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pDelta}})
		defer it.Close()
		var scratch sketch.Sketch
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.KeyCopy(nil)
			var m int64
			if len(k) == 17 {
				seq = max(seq, binary.BigEndian.Uint64(k[9:]))
				m = keyTime(k[1:9])
			}
			ru := codec.NewRollup()
			if err := item.Value(func(v []byte) error { return ru.MergeEncoded(v, false, &scratch) }); err != nil || len(k) != 17 {
				s.log.Warn("badgerstore: corrupt rollup delta, ignored", "key", hex.EncodeToString(k), "err", err)
				ru = nil
			}
			s.pending[m] = append(s.pending[m], pendingDelta{key: k, ru: ru})
			s.npending.Add(1)
		}
		return nil
	})
	s.count.Store(count)
	s.bytes.Store(size)
	if !counted {
		// The damaged index blocks found were not counted.
		s.miscounted.Store(false)
	}
	s.seq.Store(max(seq, uint64(time.Now().UnixNano())))
	if err == nil && counted && s.writable() {
		// Until the next clean Close, the count is kept in memory only: a
		// crash makes the next Open count again.
		err = s.update(func(txn *badger.Txn) error { return txn.Delete([]byte{pMeta}) })
	}
	return err
}

// countRecords counts the records stored in txn and their stored size,
// their execution traces' included (traces): the s entries but gone
// markers, the f entries' sizes, and the entries of the index blocks that
// no s entry shadows. The records of a damaged index block are not
// counted: its entries cannot be read (nor listed, nor got).
func (s *Store) countRecords(txn *badger.Txn) (count, size, traces int64) {
	for _, p := range []byte{pSummary, pRecord} {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if p == pSummary {
				size += summarySize(item)
				gone := false
				item.Value(func(v []byte) error { gone = isGone(v); return nil })
				if !gone {
					count++
				}
			} else {
				size += recordSize(item)
			}
		}
		it.Close()
	}
	ii := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pIndex}, PrefetchValues: false})
	defer ii.Close()
	for ii.Rewind(); ii.Valid(); ii.Next() {
		if len(ii.Item().Key()) != idxKeyLen {
			continue
		}
		k := ii.Item().KeyCopy(nil)
		b, err := s.readIndex(txn, k)
		if err != nil {
			// Not counted: unlike a read's (see badIndex), its
			// finding leaves no count stale. Its minute's rollups
			// still count its records.
			if s.damaged("index block", k, err) {
				s.loseIndexed(k)
			}
			continue
		}
		for i, st := range s.liveEntries(txn, b) {
			if st == entryLive {
				count++
				size += b.size(i)
			}
		}
	}
	traces = countTraces(txn)
	return count, size + traces, traces
}

// countTraces returns the stored size of the execution traces in txn,
// with their references.
func countTraces(txn *badger.Txn) int64 {
	var traces int64
	for _, p := range []byte{pTrace, pTraceRef} {
		ti := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}, PrefetchValues: false})
		for ti.Rewind(); ti.Valid(); ti.Next() {
			traces += int64(len(ti.Item().Key())) + ti.Item().ValueSize()
		}
		ti.Close()
	}
	return traces
}

// recount counts the records again (see countRecords) when a read found
// an index block damaged since they were last counted: its records, which
// Len and Size counted, are no longer. It holds the store's lock
// exclusively, so that no Write, read or retention pass runs meanwhile:
// a damaged index block is rare, and a recount reads every key (~0.1 s for
// 100k records).
func (s *Store) recount() error {
	if !s.miscounted.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.foldMu.Lock()
	defer s.foldMu.Unlock()
	if !s.miscounted.Swap(false) {
		return nil
	}
	var count, size, traces int64
	err := s.db.View(func(txn *badger.Txn) error {
		count, size, traces = s.countRecords(txn)
		return nil
	})
	if err != nil {
		s.miscounted.Store(true)
		return fmt.Errorf("badgerstore: recount: %w", err)
	}
	s.count.Store(count)
	s.bytes.Store(size)
	s.traceBytes.Store(traces)
	if traces > 0 {
		s.traced.Store(true)
	}
	return nil
}

// metaBlocks follows the count and size in the x value since records are
// stored in blocks, whose sizes count as lsmCost says.
const metaBlocks = 2

// writable reports whether the database is open for writing: not
// read-only, not opened degraded on a full disk.
func (s *Store) writable() bool {
	return !s.opts.ReadOnly && s.mode.Load() == modeNormal && s.failed.Load() == nil
}

// Len returns the number of records stored. Like every store's Len, and
// the standard library's, it is an int.
func (s *Store) Len() int { return int(s.count.Load()) }

// Size returns the stored size of the records, as MaxBytes counts it
// (their execution traces included): keys and values, those kept in the
// LSM tree counted twice, and each record's share of its block.
func (s *Store) Size() int64 { return s.bytes.Load() }

// TraceSize returns the stored size of the execution traces, as
// MaxTraceBytes counts it.
func (s *Store) TraceSize() int64 { return s.traceBytes.Load() }

// DB returns the underlying Badger database, for inspection. Writing to it
// directly breaks the store's invariants. A store opened on a full disk
// replaces its database when it reopens the directory for writing.
func (s *Store) DB() *badger.DB { return s.db }

// rlock takes s.mu shared, or returns ErrClosed once the store is closed.
func (s *Store) rlock() error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	return nil
}

// emptyNewest is the newest start of an empty store, and noFuture the
// earliest start of a record from the future when there is none: any
// record is new.
const (
	emptyNewest = math.MinInt64
	noFuture    = math.MaxInt64
)

// Clear deletes every record and rollup (Badger's DropAll). The store is
// then as a new one: its next records are new, not looked up. It returns
// [ErrReadOnly] on a store opened read-only, and an error saying why while
// the disk is full or writes are stopped after a failed write (see
// [Store.Health]).
func (s *Store) Clear(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	if s.failed.Load() != nil {
		return fmt.Errorf("badgerstore: clear: %w", errWritesStopped)
	}
	if !s.writable() {
		return fmt.Errorf("badgerstore: clear: the disk is full")
	}
	s.foldMu.Lock()
	defer s.foldMu.Unlock()
	if err := s.gated(s.db.DropAll); err != nil {
		return fmt.Errorf("badgerstore: clear: %w", err)
	}
	s.count.Store(0)
	s.bytes.Store(0)
	s.traceBytes.Store(0)
	s.garbage.Store(0)
	s.newest.Store(emptyNewest)
	s.future.Store(noFuture)
	s.budget.reset()
	s.ring.reset(false)
	s.blocks.put([16]byte{}, nil)
	s.damagedMu.Lock()
	s.damagedKeys = nil
	s.damagedMu.Unlock()
	s.miscounted.Store(false)
	s.pmu.Lock()
	s.pending = make(map[int64][]pendingDelta)
	s.npending.Store(0)
	s.lost = nil
	s.trimmed = math.MinInt64
	s.pmu.Unlock()
	return nil
}

// Close folds pending rollup deltas, stops the background goroutines and
// closes the database. After a clean Close nothing persisted is lost; the
// records over the storage budget held in memory (see
// [Options.RingBytes]) are gone, though still counted in the rollups. Calling
// it again returns the first call's result.
func (s *Store) Close() error {
	s.once.Do(func() {
		close(s.stop)
		s.wg.Wait()
		var errs []error
		// Closing flushes the memtables to tables: with less than the
		// working space free (something else filled the disk), that could
		// fault, so the database is left as a crash would leave it, its
		// write-ahead logs holding every record, to be replayed by the
		// next Open.
		abandon := false
		if s.writable() {
			s.checkDeleted()
		}
		if s.writable() {
			s.measure()
			abandon = s.freeNow() < s.working()/2
		}
		if s.writable() && !abandon {
			if err := s.fold(); err != nil {
				errs = append(errs, err)
			}
		}
		// The count is saved with the store's lock held: no Write or
		// read runs between reading the count (and whether a read found
		// it stale) and the database's close.
		s.mu.Lock()
		if s.writable() && !abandon && !s.miscounted.Load() {
			meta := binary.AppendVarint(binary.AppendVarint(nil, s.count.Load()), s.bytes.Load())
			meta = binary.AppendUvarint(meta, metaBlocks)
			if err := s.update(func(txn *badger.Txn) error { return txn.Set([]byte{pMeta}, meta) }); err != nil {
				errs = append(errs, fmt.Errorf("badgerstore: close: %w", err))
			}
		}
		s.closed = true
		s.ring.reset(true) // memory only: its records are gone
		s.spareChunk.Store(nil)
		if s.failed.Load() != nil {
			if err := s.closeFailed(); err != nil {
				errs = append(errs, err)
			}
		} else if abandon {
			s.log.Error("badgerstore: disk full at close: database left unflushed; its logs keep every record",
				"dir", s.dir, "free", mib(s.freeNow()))
		} else if err := s.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("badgerstore: close: %w", err))
		}
		s.mu.Unlock()
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// foldLoop folds pending deltas every FoldInterval or when Write finds
// foldThreshold pending, and syncs every SyncInterval, until Close.
func (s *Store) foldLoop() {
	defer s.wg.Done()
	var tick <-chan time.Time
	if s.opts.FoldInterval > 0 {
		t := time.NewTicker(s.opts.FoldInterval)
		defer t.Stop()
		tick = t.C
	}
	var sync <-chan time.Time
	if s.opts.SyncInterval > 0 && !s.opts.SyncWrites {
		t := time.NewTicker(s.opts.SyncInterval)
		defer t.Stop()
		sync = t.C
	}
	for {
		select {
		case <-s.stop:
			return
		case <-tick:
		case <-s.foldNow:
		case <-sync:
			if !s.writable() {
				continue // opened degraded: nothing written to sync
			}
			if err := s.sync(); err != nil && !errors.Is(err, store.ErrClosed) {
				s.log.Warn("badgerstore: sync", "err", err)
			}
			continue
		}
		if s.npending.Load() == 0 || !s.writable() || !s.hasRoom(0) {
			continue
		}
		if err := s.fold(); err != nil && !errors.Is(err, store.ErrClosed) {
			s.log.Warn("badgerstore: folding rollups", "err", err)
		}
	}
}

// sync fsyncs the database's files, apart from writes (see syncMu).
func (s *Store) sync() error {
	if err := s.rlock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	return s.db.Sync()
}

// update runs fn in a read-write transaction, apart from DB.Sync.
func (s *Store) update(fn func(txn *badger.Txn) error) error {
	return s.commit(func() error { return s.db.Update(fn) })
}

// deleteKeys deletes keys in one write batch and flushes it.
func (s *Store) deleteKeys(keys [][]byte) error { return s.writeKeys(keys, nil) }

// writeKeys deletes keys and sets gone markers (see tagGone) at marks.
// The batch is written as one gated call (see gated): a batch commits
// its full parts while it is being filled.
func (s *Store) writeKeys(keys, marks [][]byte) error {
	return s.commit(func() error {
		wb := s.db.NewWriteBatch()
		for _, k := range keys {
			if err := wb.Delete(k); err != nil {
				wb.Cancel()
				return err
			}
		}
		for _, k := range marks {
			if err := wb.Set(k, goneValue); err != nil {
				wb.Cancel()
				return err
			}
		}
		return wb.Flush()
	})
}
