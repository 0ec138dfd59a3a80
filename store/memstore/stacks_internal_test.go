package memstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// bytesHeld returns the bytes the store holds for its records, one
// after the other.
func bytesHeld(s *Store) []byte {
	var all []byte
	for i := range s.recs {
		e := &s.recs[i]
		all = append(all, s.data.bufs[e.slab][e.off:e.off+e.size]...)
	}
	return all
}

// liveTables returns how many tables of stacks the store holds.
func liveTables(s *Store) int {
	n := 0
	for _, t := range s.stacks.tabs {
		if t != nil {
			n++
		}
	}
	return n
}

// TestStacksKeptOnce: records whose calls have the same stacks (each
// record its own copies of them, with the same strings, as the recorder's
// stack cache gives them, or the same slices) hold none of their frames:
// the store keeps each stack once, in its table, and every record reads
// back with its stacks.
func TestStacksKeptOnce(t *testing.T) {
	ctx := context.Background()
	st := New(100)
	defer st.Close()
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var recs []*recording.Record
	for i := range 50 {
		r := storetest.FullRecord(start.Add(time.Duration(i)*time.Millisecond), uint32(i+1))
		recs = append(recs, r)
		if err := st.Write(ctx, []*recording.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	// Again, the same records (the same slices), by their IDs.
	if err := st.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	held := bytesHeld(st)
	for _, f := range []string{"main.listUsers", "/src/app/users.go", "net/http.(*Client).Do"} {
		if n := bytes.Count(held, []byte(f)); n != 0 {
			t.Errorf("the records' bytes hold %q %d times, want 0: their stacks are in the table", f, n)
		}
	}
	if n := liveTables(st); n != 1 {
		t.Fatalf("%d tables of stacks, want 1", n)
	}
	// FullRecord's calls have two stacks: three copies of one, and one
	// that shares its outer frames.
	if tab := st.stacks.table(st.stacks.cur); len(tab.frames) != 2 || tab.n != 6 || tab.refs != 50 {
		t.Errorf("table: %d stacks, %d frames, %d records; want 2, 6, 50", len(tab.frames), tab.n, tab.refs)
	}
	for _, w := range recs {
		got, err := st.Get(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		got.Start = w.Start
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("Get(%s):\n%+v\nwant\n%+v", w.ID, got, w)
		}
	}
}

// stackOf returns a stack of n frames whose strings are new, unlike any
// other stack's: no table can have it.
func stackOf(n, seed int) []recording.Frame {
	s := make([]recording.Frame, n)
	for i := range s {
		s[i] = recording.Frame{Function: fmt.Sprintf("pkg.f%d_%d", seed, i), File: strings.Clone("/src/pkg/f.go"), Line: i + 1}
	}
	return s
}

// TestStackTablesGo: a table of stacks holds at most maxTableFrames
// frames, the store starts another past them, and a table goes once the
// records referring to it have gone; a record whose stacks alone pass a
// table's frames is kept whole. Every record reads back with its stacks.
func TestStackTablesGo(t *testing.T) {
	ctx := context.Background()
	const capacity = 10
	st := New(capacity)
	defer st.Close()
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	n := 0
	rec := func(stacks ...[]recording.Frame) *recording.Record {
		n++
		r := &recording.Record{Start: start.Add(time.Duration(n) * time.Millisecond), Route: "/r"}
		binary.BigEndian.PutUint64(r.ID[:8], uint64(n))
		for _, s := range stacks {
			r.Calls = append(r.Calls, recording.Call{Service: "svc", Method: "m", Stack: s})
		}
		return r
	}
	check := func(w *recording.Record) {
		t.Helper()
		got, err := st.Get(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		got.Start = w.Start
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("Get(%s): a record of %d calls read back otherwise", w.ID, len(w.Calls))
		}
	}
	// 40 records of 1,000 frames each, none shared: four tables' worth.
	for i := range 40 {
		r := rec(stackOf(600, i), nil, stackOf(400, -i-1))
		if err := st.Write(ctx, []*recording.Record{r}); err != nil {
			t.Fatal(err)
		}
		check(r)
		for _, tab := range st.stacks.tabs {
			if tab != nil && tab.n > maxTableFrames {
				t.Fatalf("a table holds %d frames, want at most %d", tab.n, maxTableFrames)
			}
		}
		if k := liveTables(st); k > 2 {
			t.Fatalf("record %d: %d tables held for %d records of 1,000 frames", i, k, capacity)
		}
	}
	// A record of more frames than a table holds: whole.
	big := rec(stackOf(maxTableFrames+1, 1000))
	if err := st.Write(ctx, []*recording.Record{big}); err != nil {
		t.Fatal(err)
	}
	if e := &st.recs[len(st.recs)-1]; e.tab != 0 {
		t.Errorf("a record of %d frames refers to table %d, want none", maxTableFrames+1, e.tab)
	}
	check(big)
	// Records without stacks: the tables go with the records that
	// referred to them; the one records are written against stays.
	for range capacity {
		if err := st.Write(ctx, []*recording.Record{rec()}); err != nil {
			t.Fatal(err)
		}
	}
	if k := liveTables(st); k != 1 {
		t.Errorf("%d tables held by records without stacks, want 1 (the current one)", k)
	}
	if err := st.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if k := liveTables(st); k != 0 {
		t.Errorf("%d tables held after Clear, want 0", k)
	}
}

// TestHeadWrittenOnce: a record's head fields, which its summary
// repeats, are held once: its route, path and user appear once in the
// store's bytes, and its summary is read back whole.
func TestHeadWrittenOnce(t *testing.T) {
	ctx := context.Background()
	st := New(10)
	defer st.Close()
	r := storetest.FullRecord(time.Now().Add(-time.Hour), 1)
	r.Route, r.Path, r.User = "GET /a-route-of-its-own", "/a-path-of-its-own", "a-user-of-its-own"
	if err := st.Write(ctx, []*recording.Record{r}); err != nil {
		t.Fatal(err)
	}
	held := bytesHeld(st)
	for _, f := range []string{r.Route, r.Path, r.User} {
		if n := bytes.Count(held, []byte(f)); n != 1 {
			t.Errorf("the store holds %q %d times, want once", f, n)
		}
	}
	page, err := st.List(ctx, store.Query{})
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("List: %v, %d summaries", err, len(page.Records))
	}
	want := r.Summary()
	want.Start = time.Unix(0, want.Start.UnixNano())
	if got := page.Records[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("summary\n%+v\nwant\n%+v", got, want)
	}
}
