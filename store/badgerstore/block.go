package badgerstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/badger/v4"
	"github.com/klauspost/compress/s2"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
)

// Full records are persisted in blocks: Write encodes the records it
// persists one after another, and every blockBytes of them (32 KiB; and at
// the end of each transaction) compresses them (S2) into one value under a
// b key. A record's f key then holds where it is in its block, not the
// record.
// One value and one compression per block, rather than per record, is what
// makes a persisted record cheap: Badger copies a value-log entry into its
// memory-mapped file, faulting fresh pages in, and records of a service
// repeat each other (routes, calls, stacks), so a block of them compresses
// well. An f value written before blocks (a codec record) is read as it
// was.
//
// A block's key leads with the latest start of its records, so retention,
// which deletes records oldest first, deletes every block whose latest
// start is before the oldest record it keeps.
const (
	tagBlock = 'B' // a block value: tag, version, the S2 block of its records
	tagRef   = 'P' // an f or s value in a block: tag, version, block key, offset, length, share
	tagPair  = 'Q' // an s value: tag, version, the summary's ref, then the record's (fields as tagRef's)
	blockV1  = 1

	// blockBytes is the size of encoded records at which a block is
	// closed. Get decompresses a whole block: measured (BenchmarkGetBlock,
	// wall time, 2 cores shared, load 5–6, one run each within minutes),
	// a Get that reads its block took 35 µs with 16 KiB blocks, 75 µs with
	// 32 KiB (106 µs in a later run) and 116 µs with 64 KiB, where Write's
	// CPU per record was the same with 32 KiB as with 64 KiB and a half
	// more with 16 KiB.
	blockBytes = 32 << 10
	// maxRefLen bounds a ref's encoding: tag, version, 16 bytes of block
	// key and three uvarints.
	maxRefLen = 2 + 16 + 3*binary.MaxVarintLen64
)

// blockKey is p | last start | seq, for blocks of records (pBlock) and of
// summaries (pSumBlock).
func blockKey(p byte, last int64, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(timeKey([]byte{p}, last), seq)
}

// A ref is where a full record is: in the block under b | key, n bytes at
// off of the decoded block. Share is its part of the block's stored size
// (key and value), counted in Size and given back when retention deletes
// the record.
type ref struct {
	key    [16]byte
	off, n int
	share  int64
}

func appendRef(b []byte, r ref) []byte {
	return appendRefFields(append(b, tagRef, blockV1), r)
}

// appendPair appends an s value that says where both the summary and the
// record are: a record whose ID holds its start (as the recorder's IDs
// do) is then found by Get at its s key, and has no f entry: one entry
// in the LSM tree per record rather than two.
func appendPair(b []byte, sum, rec ref) []byte {
	return appendRefFields(appendRefFields(append(b, tagPair, blockV1), sum), rec)
}

func appendRefFields(b []byte, r ref) []byte {
	b = append(b, r.key[:]...)
	b = binary.AppendUvarint(b, uint64(r.off))
	b = binary.AppendUvarint(b, uint64(r.n))
	return binary.AppendUvarint(b, uint64(r.share))
}

// isRef reports whether an f value is a ref rather than a record, or an s
// value a ref rather than a summary.
func isRef(v []byte) bool { return len(v) > 0 && v[0] == tagRef }

// isPair reports whether an s value is a pair of refs (see appendPair).
func isPair(v []byte) bool { return len(v) > 0 && v[0] == tagPair }

var errRef = fmt.Errorf("%w: bad block reference", store.ErrCorrupt)

// errGone is what sumReader.read returns for a gone marker (see tagGone):
// no record.
var errGone = errors.New("gone")

func decodeRef(v []byte) (ref, error) {
	if len(v) < 2 || v[0] != tagRef || v[1] != blockV1 {
		return ref{}, errRef
	}
	r, rest, err := decodeRefFields(v[2:])
	if err == nil && len(rest) != 0 {
		err = errRef
	}
	return r, err
}

// decodePair decodes what appendPair wrote.
func decodePair(v []byte) (sum, rec ref, err error) {
	if len(v) < 2 || v[0] != tagPair || v[1] != blockV1 {
		return sum, rec, errRef
	}
	sum, v, err = decodeRefFields(v[2:])
	if err == nil {
		rec, v, err = decodeRefFields(v)
	}
	if err == nil && len(v) != 0 {
		err = errRef
	}
	return sum, rec, err
}

// decodeRefFields decodes a ref's fields at the start of v and returns
// what follows them.
func decodeRefFields(v []byte) (ref, []byte, error) {
	var r ref
	if len(v) < 16 {
		return r, nil, errRef
	}
	copy(r.key[:], v[:16])
	v = v[16:]
	var f [3]uint64
	for i := range f {
		x, n := binary.Uvarint(v)
		if n <= 0 || x > 1<<40 {
			return r, nil, errRef
		}
		f[i], v = x, v[n:]
	}
	r.off, r.n, r.share = int(f[0]), int(f[1]), int64(f[2])
	return r, v, nil
}

// lsmCost is what n bytes kept in the LSM tree count in Size: twice their
// length, since Badger writes them into a table and rewrites them as its
// compactions move them down the levels, and a deleted key's bytes stay,
// with its tombstone, until a compaction reaches the last level. In
// blocks, records take so little of the value log that the tree is most
// of the directory, and Size must say so for MaxBytes to bound it.
func lsmCost(n int) int64 { return 2 * int64(n) }

// valueLen is the length of item's value: its ValueSize, which is 0 for a
// value set in a transaction not yet committed.
func valueLen(item *badger.Item) int64 {
	n := item.ValueSize()
	if n == 0 {
		item.Value(func(v []byte) error { n = int64(len(v)); return nil })
	}
	return n
}

// summarySize is what an s entry counts in Size: a ref in the tree and
// its share of its summary block, or a summary written before summary
// blocks, in the tree.
func summarySize(item *badger.Item) int64 {
	v := valueLen(item)
	if v > 2*maxRefLen {
		// A summary in the entry: its exact length (ValueSize is
		// approximate for a value in the value log), as Write counts
		// it.
		item.Value(func(b []byte) error { v = int64(len(b)); return nil })
	}
	n := lsmCost(len(item.Key()) + int(v))
	if share := refShare(item); share >= 0 {
		return n + share
	}
	return n
}

// recordSize is what an f entry counts in Size: a ref in the tree and its
// share of its block, or a record written before blocks, its key and value
// counted once, as they were then.
func recordSize(item *badger.Item) int64 {
	n := int64(len(item.Key())) + valueLen(item)
	if share := refShare(item); share >= 0 {
		return lsmCost(int(n)) + share
	}
	return n
}

// refShare returns the share of their blocks that the ref or pair of refs
// item holds, or -1 if item holds neither (a value written before blocks).
func refShare(item *badger.Item) int64 {
	if valueLen(item) > 2*maxRefLen {
		return -1
	}
	var share int64 = -1
	item.Value(func(v []byte) error {
		if r, err := decodeRef(v); err == nil {
			share = r.share
		} else if sum, rec, err := decodePair(v); err == nil {
			share = sum.share + rec.share
		}
		return nil
	})
	return share
}

// appendBlock appends the block value of the encoded records raw.
func appendBlock(b, raw []byte) []byte {
	b = append(b, tagBlock, blockV1)
	n := len(b)
	b = slices.Grow(b, s2.MaxEncodedLen(len(raw)))
	return b[:n+len(s2.Encode(b[n:cap(b)], raw))]
}

// A blockWriter gathers the records of a block as Write encodes them.
type blockWriter struct {
	raw  []byte // the records, encoded one after another
	end  int    // the end of the last record added (raw may hold one more)
	last int64  // the latest start of the records added
	refs []pending
}

// pending is a record added to a block: slot is where its ref goes
// (see idxState), or -1 for its f entry.
type pending struct {
	id     recording.ID
	off, n int
	start  int64
	slot   int
}

// add adds the record encoded in raw[off:off+n].
func (w *blockWriter) add(id recording.ID, off, n int, start int64, slot int) {
	if len(w.refs) == 0 || start > w.last {
		w.last = start
	}
	w.refs = append(w.refs, pending{id, off, n, start, slot})
	w.end = off + n
}

// reset starts the next block with what raw holds past the records added.
func (w *blockWriter) reset() {
	w.raw = w.raw[:copy(w.raw, w.raw[w.end:])]
	w.refs, w.end = w.refs[:0], 0
}

// blockBuf returns an empty blockWriter.
func (s *Store) blockBuf() *blockWriter {
	if w, ok := s.blockPool.Get().(*blockWriter); ok {
		return w
	}
	return &blockWriter{raw: make([]byte, 0, 2*blockBytes)}
}

// putBlockBuf gives w back, unless a large record grew it.
func (s *Store) putBlockBuf(w *blockWriter) {
	if cap(w.raw) <= 4*blockBytes {
		w.raw, w.refs, w.end = w.raw[:0], w.refs[:0], 0
		s.blockPool.Put(w)
	}
}

// ratioOf is the compression of the last block with prefix p.
func (s *Store) ratioOf(p byte) *atomic.Int64 {
	if p == pSumBlock {
		return &s.sumRatio
	}
	return &s.ratio
}

// compressed estimates the stored size of n bytes of records (p: pBlock)
// or summaries (pSumBlock), from the last such block's compression (none
// before the first).
func (s *Store) compressed(p byte, n int) int64 {
	if r := s.ratioOf(p).Load(); r > 0 {
		return int64(n) * r / 1000
	}
	return int64(n)
}

// decodeBlock decompresses a block value. A decoded size over max (see
// blockBound) says the block is damaged, and is refused before anything is
// allocated for it.
func decodeBlock(v []byte, max int64) ([]byte, error) { return decodeBlockInto(nil, v, max) }

// decodeBlockInto is decodeBlock decoding into buf if it has room.
func decodeBlockInto(buf, v []byte, max int64) ([]byte, error) {
	if len(v) < 2 || v[0] != tagBlock || v[1] != blockV1 {
		return nil, fmt.Errorf("%w: not a block", store.ErrCorrupt)
	}
	n, err := s2.DecodedLen(v[2:])
	if err == nil && int64(n) > max {
		err = fmt.Errorf("decoded size %d over %d", n, max)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: block: %v", store.ErrCorrupt, err)
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	raw, err := s2.Decode(buf[:n], v[2:])
	if err != nil {
		return nil, fmt.Errorf("%w: block: %v", store.ErrCorrupt, err)
	}
	return raw, nil
}

// blockBound is the most the block of rf can hold decoded: records up to
// blockBytes and one more, itself up to a block (Write closes the block
// once it reaches blockBytes), or a record larger than a block alone, at
// its start, under a value-log file of vlog bytes.
func blockBound(rf ref, vlog int64) int64 {
	if rf.off == 0 && rf.n > blockBytes {
		return min(int64(rf.n), vlog)
	}
	return 2 * blockBytes
}

// blockCache keeps the last block Get decoded: the records of a block are
// often read one after another (an export, a trace's records, a page of
// the dashboard opened in turn). A decoded block is never changed, so its
// bytes are used outside the lock.
type blockCache struct {
	mu  sync.Mutex
	key [16]byte
	raw []byte
}

func (c *blockCache) get(key [16]byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.raw != nil && c.key == key {
		return c.raw
	}
	return nil
}

func (c *blockCache) put(key [16]byte, raw []byte) {
	c.mu.Lock()
	c.key, c.raw = key, raw
	c.mu.Unlock()
}

// A recLoc is where a record is: an entry that says so (an f entry, or an
// s entry holding a pair of refs), or an index block's entry.
type recLoc struct {
	item *badger.Item
	blk  *idxBlock
	i    int
}

// locate returns where the record with ID id is: the s entry at the ID's
// time if it holds a pair of refs (see appendPair), else its f entry (or,
// if there is none, that s entry: damaged, readRecord says so); with no s
// entry at the ID's time, its index entry, else its f entry. A gone
// marker at the ID's time hides the index entry. An error wraps
// badger.ErrKeyNotFound if there is none; bad, if not nil, is told of a
// damaged index block passed over.
func (s *Store) locate(txn *badger.Txn, id recording.ID, bad func(key []byte, err error)) (recLoc, error) {
	si, err := txn.Get(summaryKey(idTime(id), id))
	if err == nil {
		pair, gone := false, false
		si.Value(func(v []byte) error { pair, gone = isPair(v), isGone(v); return nil })
		if pair {
			return recLoc{item: si}, nil
		}
		fi, ferr := txn.Get(recordKey(id))
		if errors.Is(ferr, badger.ErrKeyNotFound) && !gone {
			return recLoc{item: si}, nil
		}
		return recLoc{item: fi}, ferr
	} else if !errors.Is(err, badger.ErrKeyNotFound) {
		return recLoc{}, err
	}
	b, j, ierr := s.findIndexed(txn, id, bad)
	if ierr == nil {
		return recLoc{blk: b, i: j}, nil
	} else if !errors.Is(ierr, badger.ErrKeyNotFound) {
		return recLoc{}, ierr
	}
	fi, err := txn.Get(recordKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		// Not found, with a damaged index block passed over if ierr
		// says so.
		return recLoc{}, ierr
	}
	return recLoc{item: fi}, err
}

// readRecord decodes the full record at loc (see locate): the record
// itself, or its place in a block. An error wraps store.ErrCorrupt, and
// bad is the damaged key: loc's entry's, its index block's, or its
// block's.
func (s *Store) readRecord(txn *badger.Txn, loc recLoc) (r *recording.Record, bad []byte, err error) {
	var rf ref
	var inBlock bool
	var id recording.ID
	var hasID bool
	var ownKey []byte
	if loc.blk != nil {
		e := &loc.blk.ents[loc.i]
		rf, inBlock, id, hasID, ownKey = e.rec, true, e.id(), true, loc.blk.key
	} else {
		item := loc.item
		ownKey = item.KeyCopy(nil)
		id, hasID = keyID(item.Key())
		err = item.Value(func(v []byte) error {
			if isPair(v) {
				inBlock = true
				_, rf, err = decodePair(v)
				return err
			}
			if item.Key()[0] != pRecord {
				// An s entry that should have held a pair.
				return fmt.Errorf("%w: no record's ref in its summary entry", store.ErrCorrupt)
			}
			if !isRef(v) {
				r, err = codec.DecodeRecord(v)
				return err
			}
			inBlock = true
			rf, err = decodeRef(v)
			return err
		})
		if err != nil || !inBlock {
			return r, ownKey, err
		}
	}
	bk := append([]byte{pBlock}, rf.key[:]...)
	raw := s.blocks.get(rf.key)
	if raw == nil {
		bi, err := txn.Get(bk)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil, ownKey, fmt.Errorf("%w: its block is missing", store.ErrCorrupt)
		}
		if err != nil {
			return nil, nil, err
		}
		err = bi.Value(func(v []byte) error {
			raw, err = decodeBlock(v, blockBound(rf, s.opts.ValueLogFileSize))
			return err
		})
		if err != nil {
			return nil, bk, err
		}
		s.blocks.put(rf.key, raw)
	}
	if rf.off+rf.n > len(raw) {
		return nil, ownKey, errRef
	}
	r, err = codec.DecodeRecord(raw[rf.off : rf.off+rf.n])
	if err != nil {
		return nil, bk, err
	}
	if hasID && r.ID != id {
		// A damaged ref that points at another record of the block.
		return nil, ownKey, fmt.Errorf("%w: its ref points at record %s", store.ErrCorrupt, r.ID)
	}
	return r, nil, nil
}

// keyID returns the record ID in an f or s key.
func keyID(k []byte) (id recording.ID, ok bool) {
	switch {
	case len(k) == 1+len(id) && k[0] == pRecord:
		return recording.ID(k[1:]), true
	case len(k) == 25 && k[0] == pSummary:
		return recording.ID(k[9:]), true
	}
	return id, false
}

// leadsWithID reports whether the encoded summary v is of the record
// with ID id: the codec's summaries and records start with a tag, a
// version and the record's ID.
func leadsWithID(v []byte, id recording.ID) bool {
	return len(v) >= 2+len(id) && recording.ID(v[2:2+len(id)]) == id
}

// A sumReader reads summaries in one read transaction: an s value is a
// summary written before summary blocks, or a ref into a summary block
// (see Write). The block last decoded is kept, since a scan of s keys reads
// the summaries of a block one after another, and its memory serves the
// next.
type sumReader struct {
	s   *Store
	txn *badger.Txn
	ref []byte
	ok  bool     // key's block was read: raw, or err
	key [16]byte // the block last read
	raw []byte
	err error
	buf []byte // what raw is decoded into
}

// newSumReader returns a sumReader for txn, with a buffer from the pool;
// done gives it back.
func (s *Store) newSumReader(txn *badger.Txn) sumReader {
	c := sumReader{s: s, txn: txn}
	if b, ok := s.sumBufs.Get().(*[]byte); ok {
		c.buf = *b
	}
	return c
}

// done gives the buffer back: nothing decoded by c is used after.
func (c *sumReader) done() {
	if b := c.buf; b != nil && cap(b) <= 4*blockBytes {
		c.s.sumBufs.Put(&b)
	}
	c.buf, c.raw = nil, nil
}

// read calls fn once, with the summary bytes of the s entry item (valid
// during the call) or, if they cannot be read (a damaged value, ref or
// block, a missing block), the error saying so, and returns fn's error.
func (c *sumReader) read(item *badger.Item, fn func(v []byte, verr error) error) error {
	var err error
	isref := false
	if verr := item.Value(func(v []byte) error {
		if isGone(v) {
			err = errGone
			return nil
		}
		if isRef(v) || isPair(v) {
			c.ref, isref = append(c.ref[:0], v...), true
			return nil
		}
		err = fn(v, nil)
		return nil
	}); verr != nil {
		return fn(nil, verr)
	}
	if !isref {
		return err
	}
	v, verr := c.resolve(c.ref)
	if id, ok := keyID(item.Key()); verr == nil && ok && !leadsWithID(v, id) {
		// A damaged ref that points at another summary of the block.
		verr = fmt.Errorf("%w: its ref points at another record's summary", store.ErrCorrupt)
	}
	return fn(v, verr)
}

// resolve returns the summary a ref or pair points to.
func (c *sumReader) resolve(v []byte) ([]byte, error) {
	var rf ref
	var err error
	if isPair(v) {
		rf, _, err = decodePair(v)
	} else {
		rf, err = decodeRef(v)
	}
	if err != nil {
		return nil, err
	}
	if !c.ok || c.key != rf.key {
		c.ok, c.key = true, rf.key
		c.raw, c.err = c.block(rf)
	}
	if c.err != nil {
		return nil, c.err
	}
	if rf.off+rf.n > len(c.raw) {
		return nil, errRef
	}
	return c.raw[rf.off : rf.off+rf.n : rf.off+rf.n], nil
}

// block reads and decodes the summary block of rf.
func (c *sumReader) block(rf ref) ([]byte, error) {
	bi, err := c.txn.Get(append([]byte{pSumBlock}, rf.key[:]...))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("%w: its summary block is missing", store.ErrCorrupt)
	}
	if err != nil {
		return nil, err
	}
	var raw []byte
	err = bi.Value(func(v []byte) error {
		raw, err = decodeBlockInto(c.buf, v, blockBound(rf, c.s.opts.ValueLogFileSize))
		return err
	})
	if cap(raw) > cap(c.buf) {
		c.buf = raw
	}
	return raw, err
}
