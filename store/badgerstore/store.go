package badgerstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore/internal/codec"
	"github.com/goappstats/appstats/store/internal/sketch"
	"github.com/goappstats/appstats/store/internal/storekit"
)

// ErrReadOnly is returned by methods that modify a store opened read-only.
var ErrReadOnly = errors.New("badgerstore: store is read-only")

// Key prefixes (see the package documentation for the layout).
const (
	pSummary = 's' // s | start(8) | id(16) -> summary
	pRecord  = 'f' // f | id(16) -> full record
	pDelta   = 'd' // d | minute(8) | seq(8) -> rollup of one write's records of that minute
	pMinute  = 'm' // m | minute(8) -> rollup
	pHour    = 'h' // h | hour(8) -> rollup
	pMarker  = 'z' // z -> scratch key used to force a memtable flush
	pMeta    = 'x' // x -> record count and size, written by a clean Close
)

const (
	nsMinute = int64(time.Minute)
	nsHour   = int64(time.Hour)
	// foldThreshold is the number of pending deltas that triggers a fold.
	foldThreshold = 1024
	// foldChunk is the number of deltas folded per transaction.
	foldChunk = 256
)

// Store is a [store.Store] on Badger. Its methods are safe for concurrent
// use; readers run concurrently with writers, each on a consistent snapshot.
type Store struct {
	db   *badger.DB
	opts Options
	log  *slog.Logger

	// mu guards db against Close: every operation holds it shared; Close,
	// Clear and the flush that precedes disk reclamation hold it exclusively
	// (Badger's DropAll and DropPrefix must not race with writes or reads).
	mu     sync.RWMutex
	closed bool

	// syncMu keeps DB.Sync apart from writes: in Badger v4.9.6, DB.Sync
	// races with the value-log rotation a write may trigger (found with
	// -race). Writers (commits, batch flushes, value-log GC) hold it
	// shared, sync holds it exclusively.
	syncMu sync.RWMutex

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

	seq   atomic.Uint64 // delta sequence numbers
	count atomic.Int64  // records stored
	bytes atomic.Int64  // their stored size (keys and values)

	chunks sync.Pool // *[]byte of chunkSize, for Write's encoding

	foldMu   sync.Mutex // one fold (or retention pass) at a time
	foldNow  chan struct{}
	stop     chan struct{}
	wg       sync.WaitGroup
	closeErr error
	once     sync.Once
}

var _ store.Store = (*Store)(nil)

// A pendingDelta is a rollup delta stored under key, not yet folded. Its
// rollup is never modified.
type pendingDelta struct {
	key []byte
	ru  *codec.Rollup // nil if the stored delta is corrupt
}

// Open opens (creating if needed) the store in directory dir. The zero
// Options are the defaults. Only one process may open a directory for
// writing at a time.
func Open(dir string, opts Options) (*Store, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	db, err := badger.Open(o.badger(dir))
	if err != nil {
		return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
	}
	s := &Store{db: db, opts: o, log: o.Logger, foldNow: make(chan struct{}, 1), stop: make(chan struct{}),
		pending: make(map[int64][]pendingDelta)}
	if err := s.load(); err != nil {
		db.Close()
		return nil, fmt.Errorf("badgerstore: open %s: %w", dir, err)
	}
	if !o.ReadOnly {
		s.wg.Add(2)
		go s.foldLoop()
		go s.retentionLoop()
	}
	return s, nil
}

// OpenReadOnly opens the store in dir for reading only, with default
// options, for a second process such as a CLI. Badger allows it only while
// no process has the directory open for writing. Write, Clear and
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
				count, size, counted = c, b, true
				return nil
			})
			if err != nil {
				s.log.Warn("badgerstore: corrupt record count, recounting", "err", err)
			}
		}
		for _, p := range []byte{pSummary, pRecord} {
			if counted {
				break
			}
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
			for it.Rewind(); it.Valid(); it.Next() {
				item := it.Item()
				size += int64(len(item.Key())) + item.ValueSize()
				if p == pSummary {
					count++
				}
			}
			it.Close()
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
	s.seq.Store(max(seq, uint64(time.Now().UnixNano())))
	if err == nil && counted && !s.opts.ReadOnly {
		// Until the next clean Close, the count is kept in memory only: a
		// crash makes the next Open count again.
		err = s.update(func(txn *badger.Txn) error { return txn.Delete([]byte{pMeta}) })
	}
	return err
}

// Len returns the number of records stored.
func (s *Store) Len() int64 { return s.count.Load() }

// Size returns the stored size of the records, as MaxBytes counts it.
func (s *Store) Size() int64 { return s.bytes.Load() }

// DB returns the underlying Badger database, for inspection. Writing to it
// directly breaks the store's invariants.
func (s *Store) DB() *badger.DB { return s.db }

func (s *Store) rlock() error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	return nil
}

// timeKey encodes a signed time so that byte order is numeric order.
func timeKey(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(v)^(1<<63))
}

func keyTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func summaryKey(start int64, id recording.ID) []byte {
	k := timeKey(make([]byte, 1, 25), start)
	k[0] = pSummary
	return append(k, id[:]...)
}

func recordKey(id recording.ID) []byte {
	return append([]byte{pRecord}, id[:]...)
}

func bucketKey(p byte, n int64) []byte { return timeKey([]byte{p}, n) }

// Write stores records and their rollup deltas. Records are committed in
// transactions of a few hundred, each with the deltas for its records, so a
// crash never leaves records and rollups disagreeing. A record whose ID is
// already stored replaces it (its rollup contribution is counted again).
// The store does not keep recs or anything they point to.
func (s *Store) Write(ctx context.Context, recs []*recording.Record) error {
	if err := s.rlock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	maxSize, maxCount := s.db.MaxBatchSize()/2, s.db.MaxBatchCount()/2
	// Values are encoded into arena chunks: the transaction references
	// them until it commits, so a full chunk is replaced, never grown (a
	// grown slice would copy, and cost more than encoding). Badger has
	// copied the values when Commit returns, so then the chunks go back to
	// a pool.
	var arena []byte
	var used [][]byte
	last := 0
	for len(recs) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		txn := s.db.NewTransaction(true)
		deltas := make(map[int64]*codec.Rollup)
		var size, entries, nrec, stored int64
		i := 0
		for ; i < len(recs) && size < maxSize && entries < maxCount; i++ {
			r := recs[i]
			if r == nil {
				continue
			}
			sum := r.Summary()
			durs := codec.CallDurations(r, &sum)
			start := r.Start.UnixNano()
			if need := max(2*last, 16<<10); cap(arena)-len(arena) < need {
				if arena != nil {
					used = append(used, arena)
				}
				arena = s.chunk(need)
			}
			off := len(arena)
			arena = codec.AppendSummary(arena, &sum, durs)
			sv := arena[off:len(arena):len(arena)]
			off = len(arena)
			arena = codec.AppendRecord(arena, r)
			fv := arena[off:len(arena):len(arena)]
			last = len(arena) - off
			sk, fk := summaryKey(start, r.ID), recordKey(r.ID)
			if int64(len(fv)) >= s.opts.ValueLogFileSize {
				s.log.Warn("badgerstore: record too large, dropped", "id", r.ID.String(), "bytes", len(fv))
				continue
			}
			if err := txn.Set(sk, sv); err != nil {
				txn.Discard()
				return fmt.Errorf("badgerstore: write: %w", err)
			}
			if err := txn.Set(fk, fv); err != nil {
				txn.Discard()
				return fmt.Errorf("badgerstore: write: %w", err)
			}
			entries += 2
			size += int64(len(sk)+len(sv)+len(fk)) + 32
			if int64(len(fv)) < s.opts.ValueThreshold {
				size += int64(len(fv))
			}
			nrec++
			stored += int64(len(sk) + len(sv) + len(fk) + len(fv))
			m := floorDiv(start, nsMinute)
			d := deltas[m]
			if d == nil {
				d = codec.NewRollup()
				deltas[m] = d
			}
			d.Add(&sum, durs)
		}
		recs = recs[i:]
		keys := make(map[int64][]byte, len(deltas))
		for m, d := range deltas {
			k := binary.BigEndian.AppendUint64(bucketKey(pDelta, m), s.seq.Add(1))
			keys[m] = k
			if err := txn.Set(k, codec.AppendRollup(nil, d)); err != nil {
				txn.Discard()
				return fmt.Errorf("badgerstore: write rollup: %w", err)
			}
		}
		s.pmu.Lock()
		s.syncMu.RLock()
		err := txn.Commit()
		s.syncMu.RUnlock()
		if err == nil {
			for m, d := range deltas {
				s.pending[m] = append(s.pending[m], pendingDelta{key: keys[m], ru: d})
			}
		}
		s.pmu.Unlock()
		if err != nil {
			return fmt.Errorf("badgerstore: write: %w", err)
		}
		for _, c := range append(used, arena) {
			if cap(c) == chunkSize {
				c = c[:0]
				s.chunks.Put(&c)
			}
		}
		used, arena = used[:0], nil
		s.count.Add(nrec)
		s.bytes.Add(stored)
		if s.npending.Add(int64(len(deltas))) >= foldThreshold {
			select {
			case s.foldNow <- struct{}{}:
			default:
			}
		}
	}
	return nil
}

// chunkSize is the size of the chunks Write encodes values into.
const chunkSize = 1 << 20

// chunk returns an empty buffer with room for at least need bytes.
func (s *Store) chunk(need int) []byte {
	if need > chunkSize {
		return make([]byte, 0, need)
	}
	if c, ok := s.chunks.Get().(*[]byte); ok {
		return *c
	}
	return make([]byte, 0, chunkSize)
}

// Get returns the full record with the given ID.
func (s *Store) Get(ctx context.Context, id recording.ID) (*recording.Record, error) {
	if err := s.rlock(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var r *recording.Record
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(recordKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("get %s: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			r, err = codec.DecodeRecord(v)
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("badgerstore: %w", err)
	}
	return r, nil
}

// cursorLen is the length of a decoded cursor: the summary key without its
// prefix byte (start time and ID).
const cursorLen = 24

// List returns summaries newest first: a reverse scan of the summary keys,
// which decodes summaries only, never full records. Page.Next is an opaque
// cursor. A summary that cannot be decoded is skipped and logged.
func (s *Store) List(ctx context.Context, q store.Query) (store.Page, error) {
	limit, err := storekit.Limit(&q)
	if err != nil {
		return store.Page{}, err
	}
	var cursor []byte
	if q.Cursor != "" {
		c, err := hex.DecodeString(q.Cursor)
		if err != nil || len(c) != cursorLen {
			return store.Page{}, storekit.InvalidQuery(fmt.Sprintf("cursor %q", q.Cursor))
		}
		cursor = append([]byte{pSummary}, c...)
	}
	if err := s.rlock(); err != nil {
		return store.Page{}, err
	}
	defer s.mu.RUnlock()
	var p store.Page
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte{pSummary}})
		defer it.Close()
		seek := []byte{pSummary, 0xFF}
		if !q.Until.IsZero() {
			seek = timeKey([]byte{pSummary}, q.Until.UnixNano())
		}
		if cursor != nil && bytes.Compare(cursor, seek) < 0 {
			seek = cursor
		}
		var since []byte
		if !q.Since.IsZero() {
			since = timeKey([]byte{pSummary}, q.Since.UnixNano())
		}
		n := 0
		for it.Seek(seek); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if since != nil && bytes.Compare(k, since) < 0 {
				break
			}
			if cursor != nil && bytes.Equal(k, cursor) {
				continue
			}
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var sum recording.Summary
			err := item.Value(func(v []byte) (err error) {
				sum, err = codec.DecodeSummary(v, nil)
				return err
			})
			if errors.Is(err, store.ErrCorrupt) {
				s.log.Warn("badgerstore: skipping corrupt summary", "key", hex.EncodeToString(k), "err", err)
				continue
			}
			if err != nil {
				return err
			}
			if !storekit.Matches(&q, &sum) {
				continue
			}
			if len(p.Records) == limit {
				last := p.Records[limit-1]
				p.Next = hex.EncodeToString(summaryKey(last.Start.UnixNano(), last.ID)[1:])
				break
			}
			p.Records = append(p.Records, sum)
		}
		return nil
	})
	if err != nil {
		return store.Page{}, fmt.Errorf("badgerstore: list: %w", err)
	}
	return p, nil
}

// Stats aggregates the records that started within w from rollups: whole
// hours from hourly rollups, whole minutes from minute rollups and pending
// deltas, and the partial minutes at the window's edges from summaries. Its
// cost grows with the window's hours and minutes, not with the number of
// records (except those in the two edge minutes).
func (s *Store) Stats(ctx context.Context, w store.Window) (*store.Stats, error) {
	w, err := storekit.ResolveWindow(w, time.Now())
	if err != nil {
		return nil, err
	}
	if err := s.rlock(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	ru := codec.NewRollup()
	r := s.newReader()
	defer r.close()
	err = r.add(ctx, ru, w.Since.UnixNano(), w.Until.UnixNano(), false)
	if err != nil {
		return nil, fmt.Errorf("badgerstore: stats: %w", err)
	}
	return ru.Stats(w), nil
}

// Series returns one bucket per step across w, computed as Stats is.
func (s *Store) Series(ctx context.Context, w store.Window, step time.Duration) ([]store.Bucket, error) {
	w, err := storekit.ResolveSeries(w, step, time.Now())
	if err != nil {
		return nil, err
	}
	if err := s.rlock(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	var out []store.Bucket
	r := s.newReader()
	defer r.close()
	until := w.Until.UnixNano()
	for a := w.Since.UnixNano(); a < until; a += int64(step) {
		ru := codec.NewRollup()
		if err = r.add(ctx, ru, a, min(a+int64(step), until), true); err != nil {
			break
		}
		out = append(out, store.Bucket{
			Start:    time.Unix(0, a),
			Requests: ru.Requests(),
			Errors:   ru.Errors(),
			Calls:    ru.Calls(),
			Latency:  ru.Latency(),
		})
	}
	if err != nil {
		return nil, fmt.Errorf("badgerstore: series: %w", err)
	}
	return out, nil
}

// Clear deletes every record and rollup (Badger's DropAll).
func (s *Store) Clear(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	s.foldMu.Lock()
	defer s.foldMu.Unlock()
	if err := s.db.DropAll(); err != nil {
		return fmt.Errorf("badgerstore: clear: %w", err)
	}
	s.count.Store(0)
	s.bytes.Store(0)
	s.pmu.Lock()
	s.pending = make(map[int64][]pendingDelta)
	s.npending.Store(0)
	s.pmu.Unlock()
	return nil
}

// Close folds pending rollup deltas, stops the background goroutines and
// closes the database. After a clean Close nothing written is lost. Calling
// it again returns the first call's result.
func (s *Store) Close() error {
	s.once.Do(func() {
		close(s.stop)
		s.wg.Wait()
		var errs []error
		if !s.opts.ReadOnly {
			if err := s.fold(); err != nil {
				errs = append(errs, err)
			}
			meta := binary.AppendVarint(binary.AppendVarint(nil, s.count.Load()), s.bytes.Load())
			if err := s.update(func(txn *badger.Txn) error { return txn.Set([]byte{pMeta}, meta) }); err != nil {
				errs = append(errs, fmt.Errorf("badgerstore: close: %w", err))
			}
		}
		s.mu.Lock()
		s.closed = true
		if err := s.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("badgerstore: close: %w", err))
		}
		s.mu.Unlock()
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

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
			if err := s.sync(); err != nil {
				s.log.Warn("badgerstore: sync", "err", err)
			}
			continue
		}
		if s.npending.Load() == 0 {
			continue
		}
		if err := s.fold(); err != nil && !errors.Is(err, store.ErrClosed) {
			s.log.Warn("badgerstore: folding rollups", "err", err)
		}
	}
}

func (s *Store) sync() error {
	if err := s.rlock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	return s.db.Sync()
}

func (s *Store) retentionLoop() {
	defer s.wg.Done()
	if s.opts.RetentionInterval < 0 {
		return
	}
	t := time.NewTicker(s.opts.RetentionInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-s.stop:
			case <-ctx.Done():
			}
			cancel()
		}()
		if err := s.EnforceRetention(ctx); err != nil && !errors.Is(err, store.ErrClosed) && !errors.Is(err, context.Canceled) {
			s.log.Warn("badgerstore: retention", "err", err)
		}
		cancel()
	}
}

// fold merges pending deltas into the minute and hour rollups, a chunk per
// transaction; each transaction also deletes the deltas it merged, so
// readers (who add minute, hour and delta rollups) never count one twice.
func (s *Store) fold() error {
	if err := s.rlock(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	s.foldMu.Lock()
	defer s.foldMu.Unlock()
	return s.foldLocked()
}

func (s *Store) foldLocked() error {
	s.pmu.RLock()
	var todo []foldItem
	for m, ds := range s.pending {
		for _, d := range ds {
			todo = append(todo, foldItem{m, d})
		}
	}
	s.pmu.RUnlock()
	for len(todo) > 0 {
		n := min(len(todo), foldChunk)
		if err := s.foldChunk(todo[:n]); err != nil {
			return fmt.Errorf("fold rollups: %w", err)
		}
		todo = todo[n:]
	}
	return nil
}

type foldItem struct {
	minute int64
	d      pendingDelta
}

// foldChunk merges deltas into their minute and hour rollups and deletes
// them, in one transaction.
func (s *Store) foldChunk(items []foldItem) error {
	var scratch sketch.Sketch
	minutes := make(map[int64]*codec.Rollup)
	hours := make(map[int64]*codec.Rollup)
	for _, it := range items {
		if it.d.ru == nil {
			continue
		}
		for _, b := range []struct {
			m map[int64]*codec.Rollup
			k int64
		}{{minutes, it.minute}, {hours, floorDiv(it.minute, 60)}} {
			ru := b.m[b.k]
			if ru == nil {
				ru = codec.NewRollup()
				b.m[b.k] = ru
			}
			ru.Merge(it.d.ru)
		}
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	for m, ru := range minutes {
		if err := s.mergeInto(txn, bucketKey(pMinute, m), ru, &scratch); err != nil {
			return err
		}
	}
	for h, ru := range hours {
		if err := s.mergeInto(txn, bucketKey(pHour, h), ru, &scratch); err != nil {
			return err
		}
	}
	for _, it := range items {
		if err := txn.Delete(it.d.key); err != nil {
			return err
		}
	}
	s.pmu.Lock()
	defer s.pmu.Unlock()
	s.syncMu.RLock()
	err := txn.Commit()
	s.syncMu.RUnlock()
	if err != nil {
		return err
	}
	done := make(map[string]bool, len(items))
	for _, it := range items {
		done[string(it.d.key)] = true
	}
	for m := range minutes {
		s.removePending(m, done)
	}
	for _, it := range items {
		if it.d.ru == nil {
			s.removePending(it.minute, done)
		}
	}
	return nil
}

// removePending drops minute m's pending deltas whose keys are in done.
// s.pmu must be held.
func (s *Store) removePending(m int64, done map[string]bool) {
	ds := s.pending[m]
	// A new slice: readers hold the old one.
	var kept []pendingDelta
	for _, d := range ds {
		if !done[string(d.key)] {
			kept = append(kept, d)
		}
	}
	s.npending.Add(-int64(len(ds) - len(kept)))
	if len(kept) == 0 {
		delete(s.pending, m)
	} else {
		s.pending[m] = kept
	}
}

// update runs fn in a read-write transaction, apart from DB.Sync.
func (s *Store) update(fn func(txn *badger.Txn) error) error {
	s.syncMu.RLock()
	defer s.syncMu.RUnlock()
	return s.db.Update(fn)
}

// flush flushes a write batch, apart from DB.Sync.
func (s *Store) flush(wb *badger.WriteBatch) error {
	s.syncMu.RLock()
	defer s.syncMu.RUnlock()
	return wb.Flush()
}

// mergeInto adds ru to the rollup stored at key.
func (s *Store) mergeInto(txn *badger.Txn, key []byte, ru *codec.Rollup, scratch *sketch.Sketch) error {
	item, err := txn.Get(key)
	switch {
	case errors.Is(err, badger.ErrKeyNotFound):
	case err != nil:
		return err
	default:
		err := item.Value(func(v []byte) error { return ru.MergeEncoded(v, false, scratch) })
		if err != nil {
			s.log.Warn("badgerstore: replacing corrupt rollup", "key", hex.EncodeToString(key), "err", err)
		}
	}
	return txn.Set(key, codec.AppendRollup(nil, ru))
}

// A reader answers range aggregations on one snapshot: a read transaction
// and the pending deltas as of its start. It reuses one iterator per key
// prefix.
type reader struct {
	s       *Store
	txn     *badger.Txn
	its     map[byte]*badger.Iterator
	pending []minuteDeltas // sorted by minute
	scratch sketch.Sketch
	durs    []time.Duration
}

type minuteDeltas struct {
	minute int64
	ds     []pendingDelta
}

func (s *Store) newReader() *reader {
	r := &reader{s: s, its: make(map[byte]*badger.Iterator)}
	s.pmu.RLock()
	r.txn = s.db.NewTransaction(false)
	for m, ds := range s.pending {
		r.pending = append(r.pending, minuteDeltas{m, ds[:len(ds):len(ds)]})
	}
	s.pmu.RUnlock()
	slices.SortFunc(r.pending, func(a, b minuteDeltas) int { return cmp.Compare(a.minute, b.minute) })
	return r
}

func (r *reader) close() {
	for _, it := range r.its {
		it.Close()
	}
	r.txn.Discard()
}

// deltas adds the pending deltas of minutes [a, b).
func (r *reader) deltas(into *codec.Rollup, a, b int64, overallOnly bool) {
	i, _ := slices.BinarySearchFunc(r.pending, a, func(md minuteDeltas, m int64) int { return cmp.Compare(md.minute, m) })
	for ; i < len(r.pending) && r.pending[i].minute < b; i++ {
		for _, d := range r.pending[i].ds {
			if d.ru == nil {
				continue
			}
			if overallOnly {
				into.MergeOverall(d.ru)
			} else {
				into.Merge(d.ru)
			}
		}
	}
}

// scan calls fn for each key in [from, to) with prefix p.
func (r *reader) scan(p byte, from, to []byte, fn func(k, v []byte) error) error {
	it := r.its[p]
	if it == nil {
		it = r.txn.NewIterator(badger.IteratorOptions{Prefix: []byte{p}})
		r.its[p] = it
	}
	for it.Seek(from); it.Valid(); it.Next() {
		item := it.Item()
		k := item.Key()
		if bytes.Compare(k, to) >= 0 {
			break
		}
		if err := item.Value(func(v []byte) error { return fn(k, v) }); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) rollups(p byte, from, to int64, into *codec.Rollup, overallOnly bool) error {
	return r.scan(p, bucketKey(p, from), bucketKey(p, to), func(k, v []byte) error {
		if err := into.MergeEncoded(v, overallOnly, &r.scratch); err != nil {
			r.s.log.Warn("badgerstore: skipping corrupt rollup", "key", hex.EncodeToString(k), "err", err)
		}
		return nil
	})
}

// summaries adds the records that started in [a, b) from their summaries.
func (r *reader) summaries(ctx context.Context, into *codec.Rollup, a, b int64, overallOnly bool) error {
	if a >= b {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return r.scan(pSummary, timeKey([]byte{pSummary}, a), timeKey([]byte{pSummary}, b), func(k, v []byte) error {
		r.durs = r.durs[:0]
		durs := &r.durs
		if overallOnly {
			durs = nil
		}
		sum, err := codec.DecodeSummary(v, durs)
		if err != nil {
			r.s.log.Warn("badgerstore: skipping corrupt summary", "key", hex.EncodeToString(k), "err", err)
			return nil
		}
		if overallOnly {
			into.AddOverall(&sum)
		} else {
			into.Add(&sum, r.durs)
		}
		return nil
	})
}

// add aggregates the records that started in [a, b) (Unix nanoseconds)
// into into.
func (r *reader) add(ctx context.Context, into *codec.Rollup, a, b int64, overallOnly bool) error {
	if a >= b {
		return nil
	}
	ma := -floorDiv(-a, nsMinute) // first whole minute
	mb := floorDiv(b, nsMinute)   // end of the last whole minute
	if ma >= mb {
		return r.summaries(ctx, into, a, b, overallOnly)
	}
	if err := r.summaries(ctx, into, a, ma*nsMinute, overallOnly); err != nil {
		return err
	}
	if err := r.summaries(ctx, into, mb*nsMinute, b, overallOnly); err != nil {
		return err
	}
	ha, hb := -floorDiv(-ma, 60), floorDiv(mb, 60)
	if ha < hb {
		if err := r.minutes(into, ma, ha*60, overallOnly); err != nil {
			return err
		}
		if err := r.rollups(pHour, ha, hb, into, overallOnly); err != nil {
			return err
		}
		r.deltas(into, ha*60, hb*60, overallOnly)
		return r.minutes(into, hb*60, mb, overallOnly)
	}
	return r.minutes(into, ma, mb, overallOnly)
}

// minutes adds the minute rollups and pending deltas of minutes [a, b).
func (r *reader) minutes(into *codec.Rollup, a, b int64, overallOnly bool) error {
	if a >= b {
		return nil
	}
	if err := r.rollups(pMinute, a, b, into, overallOnly); err != nil {
		return err
	}
	r.deltas(into, a, b, overallOnly)
	return nil
}
