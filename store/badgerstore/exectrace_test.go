package badgerstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/storetest"
)

// tracedRecords returns n records a second apart from start, each with an
// execution trace of size bytes.
func tracedRecords(start time.Time, n, size int) []*recording.Record {
	var out []*recording.Record
	for i := range n {
		r := storetest.Record20(start.Add(time.Duration(i)*time.Second), uint32(i+1))
		data := storetest.TraceData(uint64(i), size)
		r.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: r.Start, Reason: "slow"}
		out = append(out, r)
	}
	return out
}

// traced reports which of recs still have their trace, checking that Get
// and ExecTrace agree, and fails t if a record is gone.
func traced(t *testing.T, st *badgerstore.Store, recs []*recording.Record) []bool {
	t.Helper()
	ctx := context.Background()
	out := make([]bool, len(recs))
	for i, r := range recs {
		got, err := st.Get(ctx, r.ID)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		data, err := st.ExecTrace(ctx, r.ID)
		switch {
		case got.ExecTrace != nil && err == nil:
			if !slices.Equal(data, r.ExecTrace.Data) {
				t.Errorf("record %d: trace differs", i)
			}
			out[i] = true
		case got.ExecTrace == nil && errors.Is(err, store.ErrNotFound):
		default:
			t.Errorf("record %d: Get says trace %v, ExecTrace says %v", i, got.ExecTrace != nil, err)
		}
	}
	return out
}

// TestTraceCap: past MaxTraceBytes retention deletes the oldest traces and
// keeps their records; the count survives a reopen.
func TestTraceCap(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := badgerstore.Options{MaxTraceBytes: 1 << 20, RetentionInterval: -1}
	st, err := badgerstore.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	recs := tracedRecords(time.Now().Add(-time.Hour), 6, 300<<10)
	if err := st.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if n := st.TraceSize(); n < 6*300<<10 {
		t.Fatalf("TraceSize = %d after writing 6 traces of 300 KiB", n)
	}
	res, err := st.Retain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Traces != 3 || res.Deleted != 0 {
		t.Errorf("retention deleted %d traces and %d records; want 3 and 0", res.Traces, res.Deleted)
	}
	if got, want := traced(t, st, recs), []bool{false, false, false, true, true, true}; !slices.Equal(got, want) {
		t.Errorf("traced = %v, want %v", got, want)
	}
	size := st.TraceSize()
	if size > 1<<20 {
		t.Errorf("TraceSize = %d after retention, over the cap", size)
	}
	st.Close()
	// Reopened after a crash (no count saved): the traces are counted again.
	st, err = badgerstore.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// (Badger's sizes of stored values and the lengths Write counted
	// differ by a few bytes.)
	if got := st.TraceSize(); got < size || got > size+3*16 {
		t.Errorf("TraceSize after reopening = %d, want %d", got, size)
	}
	// A trace larger than the cap is not stored; its record is.
	big := tracedRecords(time.Now().Add(-time.Minute), 1, 2<<20)
	if err := st.Write(ctx, big); err != nil {
		t.Fatal(err)
	}
	if got := traced(t, st, big); got[0] {
		t.Error("a trace over the cap was stored")
	}
	// A store with no traces at all.
	none, err := badgerstore.Open(t.TempDir(), badgerstore.Options{MaxTraceBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	if err := none.Write(ctx, recs[:1]); err != nil {
		t.Fatal(err)
	}
	if got := traced(t, none, recs[:1]); got[0] || none.TraceSize() != 0 {
		t.Error("a trace stored with MaxTraceBytes < 0")
	}
}

// TestTracesGoFirst: when the store is over its byte budget, retention
// deletes traces before any record, even traces of newer records than the
// ones it then deletes; and records deleted by age take their traces with
// them.
func TestTracesGoFirst(t *testing.T) {
	ctx := context.Background()
	st, err := badgerstore.Open(t.TempDir(), badgerstore.Options{MaxBytes: 64 << 20, MaxTraceBytes: 32 << 20,
		RetentionInterval: -1, MaxAge: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	start := time.Now().Add(-2 * time.Hour)
	// Plain records, the oldest, fill the store to near MaxBytes; then
	// traced records, newer, take it over.
	next := uint32(1000)
	for st.Size() < 56<<20 {
		var batch []*recording.Record
		for range 500 {
			next++
			batch = append(batch, badgerstore.Noisy(storetest.Record20(start.Add(time.Duration(next)*time.Millisecond), next), uint64(next), 4096))
		}
		if err := st.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if next > 40000 {
			t.Fatalf("the store does not grow: size %d", st.Size())
		}
	}
	recs := tracedRecords(start.Add(time.Hour), 10, 1<<20)
	if err := st.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	before := traced(t, st, recs)
	if !before[0] {
		t.Fatalf("traced = %v: the first trace fits within MaxBytes", before)
	}
	if n := st.Size(); n <= 64<<20 {
		// Traces past MaxBytes are refused: write plain records on top.
		var batch []*recording.Record
		for range 1500 {
			next++
			batch = append(batch, badgerstore.Noisy(storetest.Record20(start.Add(90*time.Minute+time.Duration(next)*time.Millisecond), next), uint64(next), 4096))
		}
		if err := st.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	res, err := st.Retain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("retention: %+v; size %d, traces %d", res, st.Size(), st.TraceSize())
	after := traced(t, st, recs)
	if res.Traces == 0 {
		t.Error("over its budget, the store deleted no trace")
	}
	// Oldest first: the traces left are the newest.
	for i := 1; i < len(after); i++ {
		if after[i-1] && !after[i] && before[i] {
			t.Errorf("traced = %v: a newer trace went before an older one", after)
		}
	}
	if res.Deleted > 0 && slices.Contains(after, true) {
		t.Errorf("retention deleted %d records but kept traces %v", res.Deleted, after)
	}

	// Records past MaxAge take their traces with them.
	st2, err := badgerstore.Open(t.TempDir(), badgerstore.Options{RetentionInterval: -1, MaxAge: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	old := tracedRecords(time.Now().Add(-3*time.Hour), 2, 100<<10)
	fresh := tracedRecords(time.Now().Add(-time.Minute), 1, 100<<10)
	fresh[0].ID[15] ^= 0xff // distinct from old[0]'s
	if err := st2.Write(ctx, append(old, fresh...)); err != nil {
		t.Fatal(err)
	}
	res, err = st2.Retain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 2 || res.Traces != 2 {
		t.Errorf("age retention deleted %d records, %d traces; want 2, 2", res.Deleted, res.Traces)
	}
	// The fresh record's trace, and its reference to it (u keys), as
	// Badger reports a value's size in the value log: within a few bytes.
	if n, want := st2.TraceSize(), int64(len(fresh[0].ExecTrace.Data)+2+17+66); n < want-16 || n > want+16 {
		t.Errorf("TraceSize = %d, want %d (the fresh record's)", n, want)
	}
	if got := traced(t, st2, fresh); !got[0] {
		t.Error("the fresh record lost its trace")
	}
}

// sharedRecords returns n records a second apart from start sharing one
// execution trace of size bytes, as the recorder attaches a snapshot to
// the slow requests of one batch.
func sharedRecords(start time.Time, n, size int, seed uint64) []*recording.Record {
	data := storetest.TraceData(seed, size)
	var out []*recording.Record
	for i := range n {
		r := storetest.Record20(start.Add(time.Duration(i)*time.Second), uint32(seed)*100+uint32(i+1))
		r.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: start.Add(time.Duration(n) * time.Second), Reason: "slow"}
		out = append(out, r)
	}
	for _, r := range out {
		r.ExecTrace.Snapshot = out[0].ID
	}
	return out
}

// TestSharedTraceRetention: a snapshot shared by records of different
// ages is stored once, stays while a record referring to it stays, goes
// with the last of them, and is counted alike after a reopen; past
// MaxTraceBytes it goes whole, from every record referring to it.
func TestSharedTraceRetention(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := badgerstore.Options{RetentionInterval: -1, MaxAge: time.Hour}
	st, err := badgerstore.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	// Two records past MaxAge and one within it share a snapshot.
	recs := sharedRecords(time.Now().Add(-time.Hour-2*time.Second), 3, 200<<10, 1)
	recs[2].Start = time.Now().Add(-time.Minute)
	recs[2].ID = storetest.Record20(recs[2].Start, 103).ID
	if err := st.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	one := st.TraceSize()
	if min := int64(len(recs[0].ExecTrace.Data)); one < min || one > min+1024 {
		t.Fatalf("TraceSize = %d for three records sharing a %d-byte snapshot: want it stored once", one, min)
	}
	if got := traced(t, st, recs); !slices.Equal(got, []bool{true, true, true}) {
		t.Fatalf("traced = %v", got)
	}
	st.Close()
	if st, err = badgerstore.Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	if got := st.TraceSize(); got < one || got > one+3*16 {
		t.Errorf("TraceSize after reopening = %d, want %d", got, one)
	}
	res, err := st.Retain(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 2 || res.Traces != 0 {
		t.Errorf("age retention deleted %d records, %d traces; want 2, 0 (the third refers to the snapshot)", res.Deleted, res.Traces)
	}
	if got := traced(t, st, recs[2:]); !got[0] {
		t.Error("the record left lost the shared snapshot")
	}
	if got := st.TraceSize(); got >= one || got < int64(len(recs[0].ExecTrace.Data)) {
		t.Errorf("TraceSize = %d after two of its three records went, want a little under %d", got, one)
	}
	// Its last record written again without a trace, the snapshot goes.
	again := *recs[2]
	again.ExecTrace = nil
	if err := st.Write(ctx, []*recording.Record{&again}); err != nil {
		t.Fatal(err)
	}
	if got := st.TraceSize(); got != 0 {
		t.Errorf("TraceSize = %d once no record refers to the snapshot, want 0", got)
	}

	// Past the cap: the older snapshot goes, with every reference to it.
	capped, err := badgerstore.Open(t.TempDir(), badgerstore.Options{RetentionInterval: -1, MaxTraceBytes: 300 << 10})
	if err != nil {
		t.Fatal(err)
	}
	defer capped.Close()
	first := sharedRecords(time.Now().Add(-10*time.Minute), 3, 200<<10, 2)
	second := sharedRecords(time.Now().Add(-5*time.Minute), 2, 200<<10, 3)
	if err := capped.Write(ctx, append(first, second...)); err != nil {
		t.Fatal(err)
	}
	if res, err = capped.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	if res.Traces != 1 || res.Deleted != 0 {
		t.Errorf("retention past the cap deleted %d traces, %d records; want 1, 0", res.Traces, res.Deleted)
	}
	if got := traced(t, capped, append(first, second...)); !slices.Equal(got, []bool{false, false, false, true, true}) {
		t.Errorf("traced = %v: want the older snapshot gone from its three records alone", got)
	}
	// (Badger reports the size of a value in the value log within a few
	// bytes, and TraceSize counts values as it reports them.)
	if got, want := capped.TraceSize(), int64(len(second[0].ExecTrace.Data)+2+17+2*66); got < want-16 || got > want+16 {
		t.Errorf("TraceSize = %d, want %d: the newer snapshot and its two references", got, want)
	}
}
