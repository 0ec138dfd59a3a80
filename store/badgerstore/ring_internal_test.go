package badgerstore

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/internal/codec"
	"github.com/goappstats/appstats/store/storetest"
)

// TestRingEvictsOldest fills a small ring many times over: it holds the
// most recent records that fit, oldest out first, within its bytes, and
// finds each by ID.
func TestRingEvictsOldest(t *testing.T) {
	const size = 64 << 10
	g := newRing(size)
	recs := storetest.Records(11, time.Unix(1700000000, 0), time.Millisecond, 2000)
	var encoded []int // each record's size in the ring
	for _, r := range recs {
		encoded = append(encoded, g.keep(r))
		if g.head > size {
			t.Fatalf("head %d beyond the ring's %d bytes", g.head, size)
		}
	}
	// The newest records, back to where they no longer fit, are held.
	held, used := 0, 0
	for i := len(recs) - 1; i >= 0 && used+encoded[i] <= size/2; i-- {
		used += encoded[i]
		held++
	}
	if g.len() < held || g.len() >= len(recs) {
		t.Fatalf("the ring holds %d records; want at least the newest %d, and not all %d", g.len(), held, len(recs))
	}
	for i, r := range recs {
		got, ok, err := g.get(r.ID)
		newest := i >= len(recs)-g.len()
		if err != nil || ok != newest {
			t.Fatalf("record %d: get: %v, %v; want found = %v", i, ok, err, newest)
		}
		if ok && (got.ID != r.ID || len(got.Calls) != len(r.Calls) || got.Route != r.Route) {
			t.Fatalf("record %d: got %+v", i, got)
		}
	}
	// Summaries come newest first, within the keys asked for.
	sums := g.summaries(nil, nil, g.len())
	if len(sums) != g.len() {
		t.Fatalf("%d summaries, want %d", len(sums), g.len())
	}
	for i := 1; i < len(sums); i++ {
		if string(sums[i].key[:]) >= string(sums[i-1].key[:]) {
			t.Fatalf("summary %d not older than the one before", i)
		}
	}
	// Each is its record's summary, read from the record whether it was
	// written without its stacks or whole.
	whole := 0
	for i := range g.n {
		if g.ents[(g.first+i)%len(g.ents)].table == 0 {
			whole++
		}
	}
	if whole == 0 || whole == g.n {
		t.Fatalf("%d of %d records written whole: want some of each", whole, g.n)
	}
	for i, m := range sums {
		r := recs[len(recs)-1-i]
		want := r.Summary()
		want.Start = time.Unix(0, r.Start.UnixNano())
		if m.err != nil || !reflect.DeepEqual(m.sum, want) {
			t.Fatalf("summary %d: %v\n%+v\nwant\n%+v", i, m.err, m.sum, want)
		}
	}
	// The k newest within bounds, and a reader's batches, agree with the
	// whole list.
	until := sums[10].key[:]
	since := sums[len(sums)-5].key[:]
	if top := g.summaries(since, until, 7); len(top) != 7 || top[0].key != sums[11].key || top[6].key != sums[17].key {
		t.Fatalf("top 7 below summary 10: %d summaries", len(top))
	}
	rr := ringReader{g: g, batch: 3}
	for i := range sums {
		m := rr.peek()
		if m == nil || m.key != sums[i].key {
			t.Fatalf("reader: summary %d differs", i)
		}
		rr.next()
	}
	if rr.peek() != nil {
		t.Fatal("reader: more summaries than the ring holds")
	}
	g.reset(false)
	if g.len() != 0 || len(g.summaries(nil, nil, 10)) != 0 {
		t.Fatal("reset left records")
	}
	if _, ok, _ := g.get(recs[len(recs)-1].ID); ok {
		t.Fatal("reset ring still finds a record")
	}
}

// TestRingNoAlloc checks that a ring whose buffer and index have grown
// allocates nothing per record.
func TestRingNoAlloc(t *testing.T) {
	g := newRing(256 << 10)
	r := storetest.Record20(time.Unix(1700000000, 0), 1)
	for range 1000 {
		g.keep(r)
	}
	n := uint32(0)
	if a := testing.AllocsPerRun(1000, func() {
		n++
		r.ID = recording.ID{byte(n), byte(n >> 8), byte(n >> 16)}
		g.keep(r)
	}); a != 0 {
		t.Errorf("%v allocations per record", a)
	}
}

// TestRingNone: a ring of no bytes keeps nothing.
func TestRingNone(t *testing.T) {
	g := newRing(0)
	r := storetest.Record20(time.Unix(1700000000, 0), 1)
	g.keep(r)
	if g.len() != 0 || g.buf != nil {
		t.Fatal("a ring of size 0 kept a record")
	}
}

// TestRingStacks checks records written against the ring's table of
// stacks: records sharing stack slices (as the recorder's stack cache
// hands them out) are written without their stacks once the table has
// them, and read back equal to what was written; a slice whose frames
// were changed in place, and records whose stacks are new each time, are
// written whole; a full table is replaced, and records written against
// the old one still read.
func TestRingStacks(t *testing.T) {
	g := newRing(16 << 20)
	base := storetest.Record20(time.Unix(1700000000, 0), 1)
	// write adds a record like base to the ring, changed by mod, and
	// returns it with what reading it should give: its encoding by the
	// store's codec, made as it is written.
	type written struct {
		id   recording.ID
		want []byte
	}
	write := func(n int, mod func(r *recording.Record)) written {
		r := *base
		r.ID = recording.ID{byte(n), byte(n >> 8), 7}
		r.Start = base.Start.Add(time.Duration(n) * time.Millisecond)
		r.Calls = slices.Clone(base.Calls) // the stacks stay shared
		r.ExecTrace = nil
		if mod != nil {
			mod(&r)
		}
		g.newWrite() // a call of Write each
		g.keep(&r)
		return written{r.ID, codec.AppendRecord(nil, &r)}
	}
	check := func(w written) {
		t.Helper()
		got, ok, err := g.get(w.id)
		if err != nil || !ok {
			t.Fatalf("get %v: %v, %v", w.id, ok, err)
		}
		want, err := codec.DecodeRecord(w.want)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			for i := range want.Calls {
				if !reflect.DeepEqual(got.Calls[i], want.Calls[i]) {
					t.Fatalf("record %v: call %d read back differs: stack %v, want %v", w.id, i, got.Calls[i].Stack, want.Calls[i].Stack)
				}
			}
			t.Fatalf("record %v read back differs", w.id)
		}
		for i := range got.Calls {
			if len(got.Calls[i].Stack) > 0 && &got.Calls[i].Stack[0] == &base.Calls[i].Stack[0] {
				t.Fatal("a record read back shares a stack with the record written")
			}
		}
	}
	byID := func() bool { return g.ents[(g.first+g.n-1)%len(g.ents)].table != 0 }
	var recs []written
	for n := range 29 {
		recs = append(recs, write(n, nil))
	}
	if !byID() {
		t.Fatal("a record whose stacks the table has was written whole")
	}
	first := g.stacks
	// Calls in a row made from one place share their stack's slice.
	recs = append(recs, write(29, func(r *recording.Record) {
		for i := 1; i < 5; i++ {
			r.Calls[i].Stack = r.Calls[0].Stack
		}
		r.Calls[7].Stack = nil
	}))
	if !byID() {
		t.Fatal("a record of calls sharing stacks was written whole")
	}
	// A call's stack that is a shorter slice of an earlier call's, from
	// its first frame, is not taken for that call's stack.
	recs = append(recs, write(32000, func(r *recording.Record) {
		r.Calls[5].Stack = r.Calls[2].Stack[:len(r.Calls[2].Stack)-2]
	}))
	// A stack slice whose frames changed in place is not taken for the
	// stack it held.
	st := base.Calls[3].Stack
	old := st[2]
	st[2] = recording.Frame{Function: "main.other", File: "/x/other.go", Line: 9}
	changed := write(30, nil)
	st[2] = old
	if byID() {
		t.Fatal("a record with a stack changed in place was written against the table")
	}
	recs = append(recs, changed)
	for _, r := range recs {
		check(r)
	}
	// Stacks new in each record: written whole, one stack added each.
	for n := 31; n < 31+maxRingFrames/12+10; n++ {
		recs = append(recs, write(n, func(r *recording.Record) {
			for i := range r.Calls {
				r.Calls[i].Stack = slices.Clone(r.Calls[i].Stack)
			}
		}))
	}
	if byID() {
		t.Fatal("a record of new stacks was written against the table")
	}
	// The table filled up and was replaced; records of the old one read.
	if g.stacks.n >= maxRingFrames || g.stacks == first {
		t.Fatalf("table of %d frames not replaced", g.stacks.n)
	}
	for _, r := range recs {
		check(r)
	}
}

// TestRingStacksFromRecorder records requests through a recorder into a
// store that persists none of them beyond the first of each second: the
// recorder's stack cache gives the calls of each place one stack slice,
// so the ring writes its records against its table of stacks, and Get
// gives their stacks back.
func TestRingStacksFromRecorder(t *testing.T) {
	s, err := Open(t.TempDir(), Options{RecordBudget: 1, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := recording.New(recording.WithSinks(s), recording.WithBatch(16, time.Millisecond))
	query := func(ctx context.Context, i int) {
		c := recording.StartCall(ctx, "sql", "SELECT items")
		c.SetRequest(fmt.Sprintf("SELECT * FROM items WHERE id = %d", i))
		c.End(nil)
	}
	lookup := func(ctx context.Context) {
		c := recording.StartCall(ctx, "memcache", "Get")
		c.End(nil)
	}
	const n = 50
	for i := range n {
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/items"})
		for j := range 5 { // calls in a loop: one stack
			query(ctx, j)
		}
		lookup(ctx)
		ar.Record().Route = "GET /items"
		ar.Record().Status = 200
		ar.Finish()
		if i%10 == 9 {
			time.Sleep(2 * time.Millisecond) // batches of several records
		}
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	g := s.ring
	g.mu.RLock()
	held, byID := g.n, 0
	var ids []recording.ID
	for i := range g.n {
		e := &g.ents[(g.first+i)%len(g.ents)]
		if e.table != 0 {
			byID++
		}
		ids = append(ids, recording.ID(e.key[8:]))
	}
	g.mu.RUnlock()
	if held < n/2 || byID < held-5 {
		t.Fatalf("the ring holds %d records, %d of them written against its stacks; want most of %d", held, byID, n)
	}
	for _, id := range ids {
		r, err := s.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Calls) != 6 {
			t.Fatalf("record %v: %d calls, want 6", id, len(r.Calls))
		}
		for i, c := range r.Calls {
			if len(c.Stack) == 0 || !strings.Contains(c.Stack[0].Function, "TestRingStacksFromRecorder") {
				t.Fatalf("record %v: call %d's stack %v does not start in the test", id, i, c.Stack)
			}
		}
		if !reflect.DeepEqual(r.Calls[0].Stack, r.Calls[4].Stack) || reflect.DeepEqual(r.Calls[0].Stack, r.Calls[5].Stack) {
			t.Fatalf("record %v: the loop's calls differ in their stacks, or the lookup's is theirs", id)
		}
	}
}

// TestRingSummariesOutOfOrder writes records in an order other than their
// starts' (a slow request written after faster ones that started later,
// one written far out of order, equal starts), evicting the oldest, and
// checks that summaries, which stop reading keys once no older entry can
// be among those asked for, returns what sorting every entry held gives,
// for every bound and count.
func TestRingSummariesOutOfOrder(t *testing.T) {
	g := newRing(256 << 10)
	base := time.Unix(1700000000, 0)
	recs := storetest.Records(5, base, time.Millisecond, 1500)
	for i, r := range recs {
		switch {
		case i%7 == 3: // started 40 records before it was written
			r.Start = base.Add(time.Duration(i-40) * time.Millisecond)
		case i%11 == 5: // the same start as the record before
			r.Start = recs[i-1].Start
		case i == 1400: // started long after every other
			r.Start = base.Add(time.Hour)
		case i == 1450: // long before
			r.Start = base.Add(-time.Hour)
		}
		g.keep(r)
	}
	var keys [][cursorLen]byte // every entry held, newest key first
	for i := range g.n {
		keys = append(keys, g.ents[(g.first+i)%len(g.ents)].key)
	}
	slices.SortFunc(keys, func(a, b [cursorLen]byte) int { return strings.Compare(string(b[:]), string(a[:])) })
	if len(keys) < 200 || len(keys) == len(recs) || g.first+g.n <= len(g.ents) {
		t.Fatalf("the ring holds %d records of %d, from entry %d of %d: want some evicted and its index wrapped", len(keys), len(recs), g.first, len(g.ents))
	}
	check := func(since, until []byte, k int) {
		t.Helper()
		var want [][cursorLen]byte
		for _, key := range keys {
			if (since == nil || string(key[:]) >= string(since)) && (until == nil || string(key[:]) < string(until)) && len(want) < k {
				want = append(want, key)
			}
		}
		got := g.summaries(since, until, k)
		if len(got) != len(want) {
			t.Fatalf("since %x until %x k %d: %d summaries, want %d", since, until, k, len(got), len(want))
		}
		for i := range got {
			if got[i].key != want[i] || got[i].err != nil {
				t.Fatalf("since %x until %x k %d: summary %d is %x (%v), want %x", since, until, k, i, got[i].key, got[i].err, want[i])
			}
		}
	}
	for _, k := range []int{1, 2, 7, 50, 64, len(keys), len(keys) + 10} {
		check(nil, nil, k)
		for _, u := range []int{1, 5, 40, 100, len(keys) - 1} {
			check(nil, keys[u][:], k)
			check(keys[len(keys)-3][:], keys[u][:], k)
		}
	}
}

// keep adds r to g and flushes it, as Write does for a record alone, and
// returns its size in the ring (0 if not kept).
func (g *ring) keep(r *recording.Record) int {
	g.add(r)
	n := 0
	if len(g.pend) > 0 {
		n = int(g.pend[len(g.pend)-1].size)
	}
	g.flush()
	return n
}

// TestRingFlushBatched adds the same records to two rings, one flushed
// after each record and one after batches of 1 to 300 records (a Write's
// records over budget), small enough that batches wrap round the buffer
// and evict records of their own: the two hold the same entries, the
// same bytes, and read the same records and summaries.
func TestRingFlushBatched(t *testing.T) {
	for _, size := range []int64{16 << 10, 100 << 10, 256 << 10} {
		one, batched := newRing(size), newRing(size)
		recs := storetest.Records(23, time.Unix(1700000000, 0), time.Millisecond, 3000)
		big := *recs[5]
		big.Calls = slices.Repeat(big.Calls, 40) // over a quarter of the smallest ring
		recs[5] = &big
		batch := 1
		for i := 0; i < len(recs); i += batch {
			batch = 1 + (i*7919)%300
			one.newWrite()
			batched.newWrite()
			for _, r := range recs[i:min(i+batch, len(recs))] {
				one.keep(r)
				batched.add(r)
			}
			batched.flush()
			if one.n != batched.n || one.head != batched.head || one.first != batched.first || len(one.ents) != len(batched.ents) {
				t.Fatalf("ring of %d: after record %d: %d entries, head %d, first %d of %d; batched %d, %d, %d of %d",
					size, i+batch, one.n, one.head, one.first, len(one.ents), batched.n, batched.head, batched.first, len(batched.ents))
			}
			for j := range one.n {
				a, b := one.ents[(one.first+j)%len(one.ents)], batched.ents[(batched.first+j)%len(batched.ents)]
				if a.key != b.key || a.off != b.off || a.size != b.size || a.recEnd != b.recEnd || a.upTo != b.upTo ||
					string(one.buf[a.off:a.off+a.size]) != string(batched.buf[b.off:b.off+b.size]) {
					t.Fatalf("ring of %d: after record %d: entry %d differs", size, i+batch, j)
				}
			}
		}
		if one.n == 0 || one.n == len(recs) {
			t.Fatalf("ring of %d holds %d of %d records: want some, not all", size, one.n, len(recs))
		}
		for _, r := range recs {
			a, okA, errA := one.get(r.ID)
			b, okB, errB := batched.get(r.ID)
			if okA != okB || errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("ring of %d: record %v: %v %v, batched %v %v", size, r.ID, okA, errA, okB, errB)
			}
		}
		if a, b := one.summaries(nil, nil, one.n), batched.summaries(nil, nil, batched.n); !reflect.DeepEqual(a, b) {
			t.Fatalf("ring of %d: summaries differ", size)
		}
	}
}
