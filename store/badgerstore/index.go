package badgerstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/klauspost/compress/s2"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// Index blocks: the records Write persists whose ID holds their start (as
// the recorder's IDs do) have no entry of their own in the LSM tree. Their
// summaries go into an index block under
//
//	i | last(8) | first(8) | seq(8)
//
// (the last and the first start of its records, which never lie in two
// different seconds: List, newest first, reads the keys in reverse and
// stops at the first whose last start is below what it has; Get reads
// forward from its record's start), whose value is a header, an index of its records in
// (start, ID) order — each one's start, ID, summary's length and record's
// ref — and the S2 block of their summaries in the same order. A record's
// key in List's order is (start, ID), as an s key's; List, Stats' edge
// minutes, retention and the count at Open merge the index blocks' entries
// with the s keys (see entIter), and an s key shadows the index entry of
// the same key: a record given again is written with an s entry (see
// replaced), and one written again at another start leaves a gone marker
// (tagGone) at its old key. Get finds a record in the index blocks of its
// ID's second.
const (
	pIndex   = 'i'
	tagIndex = 'I' // an index block value: tag, version, total, count, record blocks, entries, summaries
	tagGone  = 'G' // an s value: the index entry of this key is gone (its record was written again)
	indexV1  = 1

	// idxKeyLen is the length of an i key.
	idxKeyLen = 1 + 8 + 8 + 8
	// minIdxEntry is the least an index entry takes encoded.
	minIdxEntry = 1 + 8 + 1 + 1 + 1 + 1 + 1
)

// nsSecond is a second in nanoseconds: an index block never holds records
// of two seconds.
const nsSecond = int64(time.Second)

// lastKey returns a key after every key with prefix p, within the
// prefix: where a reverse walk of p's keys starts. (A key of p and 0xFF
// alone is before the keys whose time leads with 0xFF, records in the
// last years a time holds in Unix nanoseconds.)
func lastKey(p byte) []byte {
	k := make([]byte, 1+2*cursorLen)
	k[0] = p
	for i := 1; i < len(k); i++ {
		k[i] = 0xFF
	}
	return k
}

// secondStart returns an i key after the index blocks of the seconds
// before sec and before those of sec (their keys lead with their last
// start): i | sec's start, or the first i key for the first second a
// time holds.
func secondStart(sec int64) []byte {
	if sec <= floorDiv(math.MinInt64, nsSecond) {
		return []byte{pIndex}
	}
	return timeKey([]byte{pIndex}, sec*nsSecond)
}

// secondEnd returns an i key after the index blocks of second sec and
// before those of the seconds after it: i | (sec+1)'s start, or after
// every i key for the last second a time holds.
func secondEnd(sec int64) []byte {
	if sec >= math.MaxInt64/nsSecond {
		return lastKey(pIndex)
	}
	return timeKey([]byte{pIndex}, (sec+1)*nsSecond)
}

// goneValue is the value of a gone marker.
var goneValue = []byte{tagGone, indexV1}

// isGone reports whether an s value is a gone marker.
func isGone(v []byte) bool { return len(v) == 2 && v[0] == tagGone }

// indexKey is i | last | first | seq.
func indexKey(first, last int64, seq uint64) []byte {
	k := timeKey(timeKey(make([]byte, 1, idxKeyLen), last), first)
	k[0] = pIndex
	return binary.BigEndian.AppendUint64(k, seq)
}

// An idxEnt is a record of an index block.
type idxEnt struct {
	key    [cursorLen]byte // its start (as timeKey) and ID: an s key without its prefix
	start  int64
	sumOff int
	sumLen int
	rec    ref
}

func (e *idxEnt) id() recording.ID { return recording.ID(e.key[8:]) }

// An idxBlock is an index block decoded (but for its summaries, decoded
// when first asked for).
type idxBlock struct {
	key         []byte
	first, last int64
	total       int64 // its stored size: key and value
	ents        []idxEnt
	sumRaw      int // the summaries' length decoded
	z           []byte
	raw         []byte
	rawErr      error
	rawDone     bool
}

// share is entry i's part of the block's stored size (the records' refs
// into their blocks are counted apart): shared by summary length, the
// last entry taking what is left, as Write counts it.
func (b *idxBlock) share(i int) int64 {
	if b.sumRaw == 0 {
		return 0
	}
	if i == len(b.ents)-1 {
		var left = b.total
		for j := range len(b.ents) - 1 {
			left -= b.total * int64(b.ents[j].sumLen) / int64(b.sumRaw)
		}
		return left
	}
	return b.total * int64(b.ents[i].sumLen) / int64(b.sumRaw)
}

// size is what entry i counts in Size: its share and its record's.
func (b *idxBlock) size(i int) int64 { return b.share(i) + b.ents[i].rec.share }

// summary returns entry i's summary, decompressing the block's summaries
// on the first call.
func (b *idxBlock) summary(i int, vlog int64) ([]byte, error) {
	if !b.rawDone {
		b.rawDone = true
		bound := int64(2 * blockBytes)
		if len(b.ents) == 1 {
			bound = vlog
		}
		n, err := s2.DecodedLen(b.z)
		if err == nil && (int64(n) > bound || n != b.sumRaw) {
			err = fmt.Errorf("decoded size %d, want %d (at most %d)", n, b.sumRaw, bound)
		}
		if err == nil {
			b.raw, err = s2.Decode(make([]byte, n), b.z)
		}
		if err != nil {
			b.rawErr = fmt.Errorf("%w: index block's summaries: %v", store.ErrCorrupt, err)
		}
	}
	if b.rawErr != nil {
		return nil, b.rawErr
	}
	e := &b.ents[i]
	v := b.raw[e.sumOff : e.sumOff+e.sumLen : e.sumOff+e.sumLen]
	if !leadsWithID(v, e.id()) {
		return nil, fmt.Errorf("%w: index entry points at another record's summary", store.ErrCorrupt)
	}
	return v, nil
}

var errIndex = fmt.Errorf("%w: bad index block", store.ErrCorrupt)

// decodeIndex decodes the index block key: v. The summaries are kept
// compressed (v's bytes are copied).
func decodeIndex(key, v []byte) (*idxBlock, error) {
	return decodeIndexOwned(bytes.Clone(key), v, false)
}

// decodeIndexOwned is decodeIndex keeping key, and v too if owned is set
// (neither is changed or reused by the caller).
func decodeIndexOwned(key, v []byte, owned bool) (*idxBlock, error) {
	if len(key) != idxKeyLen || len(v) < 2+8+1+crc32.Size || v[0] != tagIndex || v[1] != indexV1 {
		return nil, errIndex
	}
	n := len(v) - crc32.Size
	if crc32.Checksum(v[:n], castagnoli) != binary.BigEndian.Uint32(v[n:]) {
		return nil, fmt.Errorf("%w: checksum", errIndex)
	}
	v = v[:n]
	b := &idxBlock{key: key, first: keyTime(key[9:17]), last: keyTime(key[1:9])}
	if b.last < b.first || floorDiv(b.first, nsSecond) != floorDiv(b.last, nsSecond) {
		return nil, errIndex
	}
	b.total = int64(binary.BigEndian.Uint64(v[2:10]))
	v = v[10:]
	uv := func() (uint64, bool) {
		x, n := binary.Uvarint(v)
		if n <= 0 {
			return 0, false
		}
		v = v[n:]
		return x, true
	}
	cnt, ok := uv()
	if !ok || cnt == 0 || cnt > uint64(len(v)/minIdxEntry) {
		return nil, errIndex
	}
	nrb, ok := uv()
	if !ok || nrb == 0 || nrb > cnt || nrb*16 > uint64(len(v)) {
		return nil, errIndex
	}
	rbs := v[:nrb*16]
	v = v[nrb*16:]
	b.ents = make([]idxEnt, cnt)
	off := 0
	for i := range b.ents {
		e := &b.ents[i]
		d, ok := uv()
		if !ok || d >= uint64(nsSecond) || len(v) < 8 {
			return nil, errIndex
		}
		e.start = b.first + int64(d)
		binary.BigEndian.PutUint64(e.key[:8], uint64(e.start)^(1<<63))
		binary.BigEndian.PutUint64(e.key[8:16], uint64(e.start))
		copy(e.key[16:], v[:8])
		v = v[8:]
		var f [5]uint64
		for j := range f {
			if f[j], ok = uv(); !ok || f[j] > 1<<40 {
				return nil, errIndex
			}
		}
		if f[1] >= nrb {
			return nil, errIndex
		}
		e.sumOff, e.sumLen = off, int(f[0])
		off += e.sumLen
		copy(e.rec.key[:], rbs[f[1]*16:])
		e.rec.off, e.rec.n, e.rec.share = int(f[2]), int(f[3]), int64(f[4])
		if e.start > b.last || i > 0 && bytes.Compare(b.ents[i-1].key[:], e.key[:]) >= 0 {
			return nil, errIndex
		}
	}
	if b.ents[0].start != b.first || b.ents[cnt-1].start != b.last {
		return nil, errIndex
	}
	b.sumRaw = off
	b.z = v
	if !owned {
		b.z = bytes.Clone(v)
	}
	return b, nil
}

// find returns the index of the entry with ID id at start, or -1.
func (b *idxBlock) find(start int64, id recording.ID) int {
	k := ringKey(start, id)
	i, ok := slices.BinarySearchFunc(b.ents, k, func(e idxEnt, k [cursorLen]byte) int { return bytes.Compare(e.key[:], k[:]) })
	if !ok {
		return -1
	}
	return i
}

// An idxPending is a record added to an index block being written: its
// summary in the builder's raw, and its record's slot (see idxWriter).
type idxPending struct {
	id     recording.ID
	start  int64
	off, n int
	slot   int
}

// An idxWriter gathers the summaries of an index block as Write encodes
// them, for one second.
type idxWriter struct {
	sec  int64
	raw  []byte
	ents []idxPending
}

// appendIndex appends the value of the index block of w's entries, sorted
// by (start, ID), with their records' refs in slots, and its first and
// last start. total is filled in by setIndexTotal once the value's length
// is known. buf is scratch memory for the sorted summaries.
func appendIndex(b []byte, w *idxWriter, slots []ref, buf []byte) (_ []byte, sorted []byte, first, last int64) {
	slices.SortFunc(w.ents, func(a, b idxPending) int {
		if a.start != b.start {
			if a.start < b.start {
				return -1
			}
			return 1
		}
		return bytes.Compare(a.id[:], b.id[:])
	})
	first, last = w.ents[0].start, w.ents[len(w.ents)-1].start
	b = append(b, tagIndex, indexV1, 0, 0, 0, 0, 0, 0, 0, 0)
	b = binary.AppendUvarint(b, uint64(len(w.ents)))
	// The record blocks, in order of first use.
	var rbs [][16]byte
	rbOf := func(k [16]byte) int {
		for i := len(rbs) - 1; i >= 0; i-- {
			if rbs[i] == k {
				return i
			}
		}
		rbs = append(rbs, k)
		return len(rbs) - 1
	}
	for _, e := range w.ents {
		rbOf(slots[e.slot].key)
	}
	b = binary.AppendUvarint(b, uint64(len(rbs)))
	for _, k := range rbs {
		b = append(b, k[:]...)
	}
	sorted = buf[:0]
	for _, e := range w.ents {
		rf := slots[e.slot]
		b = binary.AppendUvarint(b, uint64(e.start-first))
		b = append(b, e.id[8:]...)
		b = binary.AppendUvarint(b, uint64(e.n))
		b = binary.AppendUvarint(b, uint64(rbOf(rf.key)))
		b = binary.AppendUvarint(b, uint64(rf.off))
		b = binary.AppendUvarint(b, uint64(rf.n))
		b = binary.AppendUvarint(b, uint64(rf.share))
		sorted = append(sorted, w.raw[e.off:e.off+e.n]...)
	}
	n := len(b)
	b = slices.Grow(b, s2.MaxEncodedLen(len(sorted))+crc32.Size)
	b = b[:n+len(s2.Encode(b[n:cap(b)], sorted))]
	return b, sorted, first, last
}

// sealIndex sets the total of the index block value v (made by
// appendIndex, with room for its checksum) and appends its CRC-32C: a
// change to it (an ID, a length, a ref) would lose or swap records
// unseen, and Badger checks a value's checksum only as it reads it from
// its file.
func sealIndex(v []byte, total int64) []byte {
	binary.BigEndian.PutUint64(v[2:10], uint64(total))
	return binary.BigEndian.AppendUint32(v, crc32.Checksum(v, castagnoli))
}

// idxSrc is an index block in an idxCursor: its key's bounds until it is
// read, then its entries.
type idxSrc struct {
	key         []byte
	val         []byte // its value, if read with its key
	first, last int64
	blk         *idxBlock // nil until read
	pos         int       // the next entry, in the cursor's order
}

// bound is the key that src's next entry can be at most (reverse) or at
// least (forward).
func (c *idxCursor) bound(src *idxSrc) [cursorLen]byte {
	if src.blk != nil {
		return src.blk.ents[src.pos].key
	}
	var k [cursorLen]byte
	if c.rev {
		binary.BigEndian.PutUint64(k[:8], uint64(src.last)^(1<<63))
		for i := 8; i < len(k); i++ {
			k[i] = 0xFF
		}
	} else {
		binary.BigEndian.PutUint64(k[:8], uint64(src.first)^(1<<63))
	}
	return k
}

// eagerValues is how many index blocks of a second an idxCursor reads
// with their keys (the first met, which are next); the others are read
// when their entries are next.
const eagerValues = 2

// An idxCursor walks the entries of index blocks in key order (or
// reverse), reading a block's value only when its entries are next (but
// for the first eagerValues of each second).
type idxCursor struct {
	s     *Store
	txn   *badger.Txn
	it    *badger.Iterator
	rev   bool
	from  []byte // the seek bound, without prefix
	heap  []*idxSrc
	bad   func(key []byte, err error)
	ended bool
}

func (c *idxCursor) less(a, b *idxSrc) bool {
	ka, kb := c.bound(a), c.bound(b)
	r := bytes.Compare(ka[:], kb[:])
	if r == 0 {
		// An unread block first, so that it is read before an equal
		// entry is taken.
		return a.blk == nil && b.blk != nil
	}
	if c.rev {
		return r > 0
	}
	return r < 0
}

func (c *idxCursor) push(src *idxSrc) {
	c.heap = append(c.heap, src)
	i := len(c.heap) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !c.less(c.heap[i], c.heap[p]) {
			break
		}
		c.heap[i], c.heap[p] = c.heap[p], c.heap[i]
		i = p
	}
}

func (c *idxCursor) fix(i int) {
	n := len(c.heap)
	for {
		l, m := 2*i+1, i
		if l < n && c.less(c.heap[l], c.heap[m]) {
			m = l
		}
		if r := l + 1; r < n && c.less(c.heap[r], c.heap[m]) {
			m = r
		}
		if m == i {
			return
		}
		c.heap[i], c.heap[m] = c.heap[m], c.heap[i]
		i = m
	}
}

func (c *idxCursor) pop() {
	n := len(c.heap) - 1
	c.heap[0] = c.heap[n]
	c.heap[n] = nil
	c.heap = c.heap[:n]
	if n > 0 {
		c.fix(0)
	}
}

// newIdxCursor returns a cursor over txn's index blocks, positioned by
// seek.
func (s *Store) newIdxCursor(txn *badger.Txn, rev bool) *idxCursor {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pIndex}, Reverse: rev})
	return &idxCursor{s: s, txn: txn, it: it, rev: rev, bad: func([]byte, error) {}}
}

func (c *idxCursor) close() { c.it.Close() }

// seek positions c at the first entry at or after from (forward), or at
// or before it (reverse); from is a key without its prefix, of any
// length (nil: the first, or the last, entry).
func (c *idxCursor) seek(from []byte) {
	c.heap, c.from, c.ended = c.heap[:0], from, false
	switch {
	case from == nil && c.rev:
		c.it.Seek(lastKey(pIndex))
	case from == nil:
		c.it.Seek([]byte{pIndex})
	default:
		var t int64
		if len(from) >= 8 {
			t = keyTime(from[:8])
		} else {
			t = keyTime(append(slices.Clone(from), make([]byte, 8-len(from))...))
		}
		sec := floorDiv(t, nsSecond)
		if c.rev {
			// Every block of a later second is after from.
			c.it.Seek(secondEnd(sec))
		} else {
			// Every block of an earlier second is before from.
			c.it.Seek(secondStart(sec))
		}
	}
	c.fill()
}

// fill adds to the heap the blocks that may hold the next entry: in
// reverse, the keys (by last start, descending) until one's last start is
// below the heap's top, each with its value (every one read is next, or
// nearly); forward, if the heap is empty, the blocks of the next second
// (the keys of a second are together, but by last start: a block that
// starts earlier may come later).
func (c *idxCursor) fill() {
	if c.rev {
		c.fillRev()
		return
	}
	for len(c.heap) == 0 && c.it.Valid() {
		var sec int64
		firstKey := true
		n := 0 // values read
		for ; c.it.Valid(); c.it.Next() {
			k := c.it.Item().Key()
			if len(k) != idxKeyLen {
				c.bad(c.it.Item().KeyCopy(nil), errBadKey)
				continue
			}
			first, last := keyTime(k[9:17]), keyTime(k[1:9])
			// The keys are in order of their last starts: a second's
			// are together by its last start's second (a damaged key's
			// first start may lie in another).
			if ks := floorDiv(last, nsSecond); firstKey {
				sec, firstKey = ks, false
			} else if ks != sec {
				break
			}
			src := &idxSrc{key: c.it.Item().KeyCopy(nil), first: first, last: last}
			if c.from != nil && c.outside(src) {
				continue
			}
			if n < eagerValues {
				// Read now rather than looked up again: at low
				// rates a second holds one block.
				n++
				if v, err := c.it.Item().ValueCopy(nil); err == nil {
					src.val = v
				}
			}
			c.push(src)
		}
	}
}

func (c *idxCursor) fillRev() {
	for ; c.it.Valid(); c.it.Next() {
		k := c.it.Item().Key()
		if len(k) != idxKeyLen {
			c.bad(c.it.Item().KeyCopy(nil), errBadKey)
			continue
		}
		if len(c.heap) > 0 {
			// An entry at the key's last start may still be above
			// the top (a greater ID).
			if top := c.bound(c.heap[0]); bytes.Compare(k[1:9], top[:8]) < 0 {
				return
			}
		}
		src := &idxSrc{key: c.it.Item().KeyCopy(nil), first: keyTime(k[9:17]), last: keyTime(k[1:9])}
		if c.from != nil && c.outside(src) {
			continue
		}
		if v, err := c.it.Item().ValueCopy(nil); err == nil {
			src.val = v
		}
		c.push(src)
	}
}

// outside reports whether src's entries are all before from (in the
// cursor's order).
func (c *idxCursor) outside(src *idxSrc) bool {
	if c.rev {
		// Its least possible key is after from.
		lo := make([]byte, cursorLen)
		binary.BigEndian.PutUint64(lo[:8], uint64(src.first)^(1<<63))
		return bytes.Compare(lo, c.from) > 0
	}
	// Its greatest possible key is before from.
	return bytes.Compare(lastBound(src.last), c.from) < 0
}

// lastBound is the greatest key an entry at start last can have.
func lastBound(last int64) []byte {
	k := make([]byte, cursorLen)
	binary.BigEndian.PutUint64(k[:8], uint64(last)^(1<<63))
	for i := 8; i < len(k); i++ {
		k[i] = 0xFF
	}
	return k
}

// peek returns the block and entry next, or nil when there is none. A
// damaged block is reported (see bad) and skipped.
func (c *idxCursor) peek() (*idxBlock, int) {
	for {
		if len(c.heap) == 0 {
			if !c.it.Valid() {
				return nil, 0
			}
			c.fill()
			continue
		}
		if c.rev && c.it.Valid() {
			// A key not yet read may hold what is above the top.
			n := len(c.heap)
			c.fillRev()
			if len(c.heap) != n {
				continue
			}
		}
		src := c.heap[0]
		if src.blk != nil {
			return src.blk, src.pos
		}
		var blk *idxBlock
		var err error
		if src.val != nil {
			blk, err = decodeIndexOwned(src.key, src.val, true)
			src.val = nil
		} else {
			blk, err = c.s.readIndex(c.txn, src.key)
		}
		if err != nil {
			c.bad(src.key, err)
			c.pop()
			continue
		}
		src.blk = blk
		// Position at from.
		n := len(blk.ents)
		if c.rev {
			src.pos = n - 1
			if c.from != nil {
				i, _ := slices.BinarySearchFunc(blk.ents, c.from, func(e idxEnt, k []byte) int {
					if bytes.Compare(e.key[:], k) <= 0 {
						return -1
					}
					return 1
				})
				src.pos = i - 1
			}
			// Entries are walked from the last: pos counts down.
			if src.pos < 0 {
				c.pop()
				continue
			}
		} else {
			src.pos = 0
			if c.from != nil {
				i, _ := slices.BinarySearchFunc(blk.ents, c.from, func(e idxEnt, k []byte) int {
					if bytes.Compare(e.key[:], k) < 0 {
						return -1
					}
					return 1
				})
				src.pos = i
			}
			if src.pos >= n {
				c.pop()
				continue
			}
		}
		c.fix(0)
	}
}

// next moves past the entry peek returned.
func (c *idxCursor) next() {
	src := c.heap[0]
	if c.rev {
		src.pos--
		if src.pos < 0 {
			c.pop()
			return
		}
	} else {
		src.pos++
		if src.pos >= len(src.blk.ents) {
			c.pop()
			return
		}
	}
	c.fix(0)
}

// badIndex reports a damaged index block (see Store.damaged). Len and
// Size counted its records, which can no longer be read: the first time
// it is found, the next retention pass counts the records again (see
// Store.recount), and Close leaves the count to the next Open. Its
// minute's rollups counted them too: see loseIndexed.
func (s *Store) badIndex(key []byte, err error) {
	if s.damaged("index block", key, err) {
		s.loseIndexed(key)
		s.miscounted.Store(true)
		s.kickRetention()
	}
}

// loseIndexed notes that the records of the damaged index block under key
// can no longer be listed or got (see loseAt). A key of the wrong length
// says no time: nothing is noted.
func (s *Store) loseIndexed(key []byte) {
	if len(key) != idxKeyLen {
		return
	}
	// The records of an index block are of one second, and so of one
	// minute; both ends are noted all the same.
	s.loseAt(keyTime(key[9:17]), keyTime(key[1:9]))
}

// badSummary reports the damaged summary, found under key, of the record
// at k (its start and ID: an s key without its prefix): List skips it (see
// loseAt).
func (s *Store) badSummary(key, k []byte, err error) {
	if s.damaged("summary", key, err) && len(k) >= 8 {
		s.loseAt(keyTime(k[:8]))
	}
}

// loseAt notes that records that started at the given times (Unix
// nanoseconds), which their minutes' and hours' rollups count, can no
// longer be listed (a damaged index block or summary). Readers from then
// on count those minutes from the summaries that can be read (see
// reader.recount), and the next fold marks their minute and hour rollups
// to be recounted (see markLost), so that Stats and Series keep agreeing
// with List, after a reopen too. A minute whose records were not all
// persisted (over the storage budget, see lossyMinute) is not noted: its
// rollup counts requests that no summary holds, and List shows fewer
// than Stats there by design; nor is one whose rollups retention deleted.
func (s *Store) loseAt(starts ...int64) {
	var fresh []int64
	s.pmu.RLock()
	for _, t := range starts {
		if m := floorDiv(t, nsMinute); m >= s.trimmed && !s.lost[m] && !slices.Contains(fresh, m) {
			fresh = append(fresh, m)
		}
	}
	s.pmu.RUnlock()
	if len(fresh) == 0 {
		return
	}
	r := s.newReader()
	lost := fresh[:0]
	for _, m := range fresh {
		if r.lossyMinute(m, true) == nil {
			lost = append(lost, m)
		}
	}
	r.close()
	s.pmu.Lock()
	if s.lost == nil {
		s.lost = make(map[int64]bool)
	}
	for _, m := range lost {
		if m >= s.trimmed {
			s.lost[m] = true
		}
	}
	s.pmu.Unlock()
}

// readIndex reads and decodes the index block under key.
func (s *Store) readIndex(txn *badger.Txn, key []byte) (*idxBlock, error) {
	item, err := txn.Get(key)
	if err != nil {
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil, fmt.Errorf("%w: index block missing", store.ErrCorrupt)
		}
		return nil, err
	}
	var b *idxBlock
	err = item.Value(func(v []byte) error {
		b, err = decodeIndex(key, v)
		return err
	})
	return b, err
}

// findIndexed looks for the record with ID id in the index blocks of its
// ID's second, and returns its block and entry. An error wraps
// badger.ErrKeyNotFound if it is in none; a damaged block on the way is
// skipped (and reported with bad, if not nil).
func (s *Store) findIndexed(txn *badger.Txn, id recording.ID, bad func(key []byte, err error)) (*idxBlock, int, error) {
	start := idTime(id)
	sec := floorDiv(start, nsSecond)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pIndex}})
	defer it.Close()
	// The blocks of its second that end at or after start, in order of
	// their last starts: most often the first one holds it. An ID is in
	// one index block at most (see replaced).
	end := secondEnd(sec)
	var damage error
	for it.Seek(timeKey([]byte{pIndex}, start)); it.Valid(); it.Next() {
		k := it.Item().Key()
		if bytes.Compare(k, end) >= 0 {
			break
		}
		if len(k) != idxKeyLen || keyTime(k[9:17]) > start {
			continue
		}
		key := it.Item().KeyCopy(nil)
		var b *idxBlock
		v, err := it.Item().ValueCopy(nil)
		if err == nil {
			b, err = decodeIndexOwned(key, v, true)
		}
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) {
				return nil, 0, err
			}
			if bad != nil {
				bad(key, err)
			}
			damage = err
			continue
		}
		if j := b.find(start, id); j >= 0 {
			return b, j, nil
		}
	}
	if damage != nil {
		// It may have been in the damaged block.
		return nil, 0, fmt.Errorf("%w (%w)", badger.ErrKeyNotFound, damage)
	}
	return nil, 0, badger.ErrKeyNotFound
}

// An entIter walks the records in (start, ID) order, or reverse: the s
// keys and the index blocks' entries merged. An s key shadows the index
// entry of the same key (a gone marker included, which it returns).
type entIter struct {
	sit *badger.Iterator
	ix  *idxCursor
	rev bool
	// cur says which is next: 's', 'i', or 0 at the end.
	cur byte
}

// newEntIter returns an entIter on txn; bad reports damaged index blocks.
func (s *Store) newEntIter(txn *badger.Txn, rev bool, bad func(key []byte, err error)) *entIter {
	e := &entIter{
		sit: txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSummary}, Reverse: rev}),
		ix:  s.newIdxCursor(txn, rev),
		rev: rev,
	}
	if bad != nil {
		e.ix.bad = bad
	}
	return e
}

func (e *entIter) close() {
	e.sit.Close()
	e.ix.close()
}

// seek positions e at from (a key without its prefix; nil: the first, or
// the last, record).
func (e *entIter) seek(from []byte) {
	switch {
	case from == nil && e.rev:
		e.sit.Seek(lastKey(pSummary))
	case from == nil:
		e.sit.Seek([]byte{pSummary})
	default:
		e.sit.Seek(append([]byte{pSummary}, from...))
	}
	e.ix.seek(from)
	e.pick()
}

// pick sets cur, skipping an index entry shadowed by the s key.
func (e *entIter) pick() {
	b, i := e.ix.peek()
	switch {
	case !e.sit.Valid() && b == nil:
		e.cur = 0
	case b == nil:
		e.cur = 's'
	case !e.sit.Valid():
		e.cur = 'i'
	default:
		r := bytes.Compare(e.sit.Item().Key()[1:], b.ents[i].key[:])
		if r == 0 {
			e.ix.next()
			e.pick()
			return
		}
		if (r > 0) == e.rev {
			e.cur = 's'
		} else {
			e.cur = 'i'
		}
	}
}

func (e *entIter) valid() bool { return e.cur != 0 }

// item returns the s entry next, or nil if an index entry is.
func (e *entIter) item() *badger.Item {
	if e.cur != 's' {
		return nil
	}
	return e.sit.Item()
}

// entry returns the index entry next (nil if an s entry is).
func (e *entIter) entry() (*idxBlock, int) {
	if e.cur != 'i' {
		return nil, 0
	}
	return e.ix.peek()
}

// key returns the key of what is next, without its prefix.
func (e *entIter) key() []byte {
	if e.cur == 's' {
		return e.sit.Item().Key()[1:]
	}
	b, i := e.ix.peek()
	return b.ents[i].key[:]
}

func (e *entIter) next() {
	if e.cur == 's' {
		e.sit.Next()
	} else {
		e.ix.next()
	}
	e.pick()
}

// entryState is what stands at an index entry's key in the s keys.
type entryState uint8

const (
	entryLive     entryState = iota // nothing: the entry is a record
	entryShadowed                   // a record's s entry
	entryMarked                     // a gone marker
)

// markCost is what a gone marker counts in Size.
var markCost = lsmCost(1 + cursorLen + len(goneValue))

// liveEntries returns the state of each entry of b: all live, unless an
// s key lies within b's starts.
func (s *Store) liveEntries(txn *badger.Txn, b *idxBlock) []entryState {
	st := make([]entryState, len(b.ents))
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{pSummary}})
	defer it.Close()
	it.Seek(timeKey([]byte{pSummary}, b.first))
	if !it.Valid() || bytes.Compare(it.Item().Key()[1:], lastBound(b.last)) > 0 {
		return st
	}
	for i := range b.ents {
		item, err := txn.Get(append([]byte{pSummary}, b.ents[i].key[:]...))
		if err != nil {
			continue
		}
		st[i] = entryShadowed
		item.Value(func(v []byte) error {
			if isGone(v) {
				st[i] = entryMarked
			}
			return nil
		})
	}
	return st
}
