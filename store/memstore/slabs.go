package memstore

import "math"

// slabSize is the size of a slab records share; a record of more than a
// quarter of it takes a slab of its own, of its size.
const slabSize = 64 << 10

// maxRecordBytes is the most bytes a record and its summary may take
// encoded: an entry locates them with 32-bit offsets and sizes.
const maxRecordBytes = math.MaxUint32

// slabs holds the records' bytes: each record, with its summary, in one
// slab, appended to the slab being filled (cur). A slab counts the records
// it holds, and once the last of them goes it is emptied and filled again
// (it goes on the free list), so that a store whose records come and go
// allocates no memory once it is full. Records go about in the order they
// came (the oldest first, as the capacity evicts them), so the slabs empty
// in turn; a few records kept long (written again with their ID, or with
// IDs older than those around them) can keep mostly empty slabs, which
// wasteful tells, and the store then copies its records into new slabs
// (see Store.compact).
//
// The slabs are the only pointers of the records' memory: a full store of
// the default capacity holds a few dozen.
type slabs struct {
	bufs  [][]byte // by number: a slab's records' bytes, its length the part filled
	live  []int32  // by number: how many records the slab holds
	free  []uint32 // the numbers of empty slabs of slabSize, to fill again
	holes []uint32 // the numbers of slabs let go (nil in bufs), to use again
	cur   uint32   // the number of the slab being filled, if filling
	// filling says cur is a slab being filled.
	filling bool
	// used counts the bytes of the slabs holding records, liveBytes those
	// of their records.
	used, liveBytes int64
}

// put copies b, a record and its summary, into a slab and returns where.
func (sl *slabs) put(b []byte) (slab, off uint32) {
	n := len(b)
	sl.liveBytes += int64(n)
	if n > slabSize/4 {
		// A slab of its own, let go with its record.
		k := sl.number()
		sl.bufs[k] = append([]byte(nil), b...)
		sl.live[k] = 1
		sl.used += int64(n)
		return k, 0
	}
	if !sl.filling || len(sl.bufs[sl.cur])+n > slabSize {
		if sl.filling && sl.live[sl.cur] == 0 {
			sl.empty(sl.cur)
		}
		sl.cur, sl.filling = sl.next(), true
	}
	k := sl.cur
	off = uint32(len(sl.bufs[k]))
	sl.bufs[k] = append(sl.bufs[k], b...)
	sl.live[k]++
	return k, off
}

// tail returns the free part of the slab being filled (length 0, its
// capacity the rest of the slab) when it has room for any record a slab
// is shared by (slabSize/4 bytes), else nil: Write encodes a record there
// and, if it took no more room than that, notes it with putTail, where
// put would copy it there. A record so placed lies where put would have
// placed it.
func (sl *slabs) tail() []byte {
	if !sl.filling {
		return nil
	}
	b := sl.bufs[sl.cur]
	if cap(b)-len(b) < slabSize/4 {
		return nil
	}
	return b[len(b):len(b):cap(b)]
}

// putTail notes that a record and its summary, n bytes (at most
// slabSize/4), were written into the free part of the slab being filled,
// as tail returned it, and returns where: what put would return for them.
func (sl *slabs) putTail(n int) (slab, off uint32) {
	k := sl.cur
	b := sl.bufs[k]
	sl.bufs[k] = b[:len(b)+n]
	sl.live[k]++
	sl.liveBytes += int64(n)
	return k, uint32(len(b))
}

// next returns the number of an empty slab of slabSize, from the free
// list, or a new one.
func (sl *slabs) next() uint32 {
	sl.used += slabSize
	if n := len(sl.free); n > 0 {
		k := sl.free[n-1]
		sl.free = sl.free[:n-1]
		return k
	}
	k := sl.number()
	sl.bufs[k] = make([]byte, 0, slabSize)
	return k
}

// number returns a number for a slab: one let go, or a new one.
func (sl *slabs) number() uint32 {
	if n := len(sl.holes); n > 0 {
		k := sl.holes[n-1]
		sl.holes = sl.holes[:n-1]
		return k
	}
	sl.bufs = append(sl.bufs, nil)
	sl.live = append(sl.live, 0)
	return uint32(len(sl.bufs) - 1)
}

// release tells that a record of size bytes in slab k has gone. The slab
// is emptied once it holds no record and is not being filled.
func (sl *slabs) release(k, size uint32) {
	sl.liveBytes -= int64(size)
	sl.live[k]--
	if sl.live[k] == 0 && (!sl.filling || k != sl.cur) {
		sl.empty(k)
	}
}

// empty puts slab k, which holds no record, on the free list, or lets it
// go if it is a record's own.
func (sl *slabs) empty(k uint32) {
	if cap(sl.bufs[k]) == slabSize {
		sl.bufs[k] = sl.bufs[k][:0]
		sl.free = append(sl.free, k)
		sl.used -= slabSize
		return
	}
	sl.used -= int64(len(sl.bufs[k]))
	sl.bufs[k] = nil
	sl.holes = append(sl.holes, k)
}

// wasteful reports whether the slabs holding records take more than
// twice their records' bytes and four slabs besides: records kept long
// keep slabs whose other records have gone.
func (sl *slabs) wasteful() bool {
	return sl.used > 2*sl.liveBytes+4*slabSize
}
