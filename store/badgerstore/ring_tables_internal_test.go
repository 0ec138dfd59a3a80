package badgerstore

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/internal/codec"
	"github.com/goappstats/appstats/store/storetest"
)

// TestRingEntryHoldsNoPointer checks that the ring's index of entries
// holds no pointer: the collector then does not scan it at each cycle
// (64 bytes a record held: 2 MiB or more for the ~38,000 small records
// the default RingBytes holds).
func TestRingEntryHoldsNoPointer(t *testing.T) {
	var walk func(typ reflect.Type, path string)
	walk = func(typ reflect.Type, path string) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.UnsafePointer, reflect.Slice, reflect.Map, reflect.Chan,
			reflect.Func, reflect.Interface, reflect.String:
			t.Errorf("ringEntry%s is a %s: the collector scans the ring's index", path, typ.Kind())
		case reflect.Array:
			walk(typ.Elem(), path+"[]")
		case reflect.Struct:
			for i := range typ.NumField() {
				walk(typ.Field(i).Type, path+"."+typ.Field(i).Name)
			}
		}
	}
	walk(reflect.TypeFor[ringEntry](), "")
}

// TestRingTablesReleased writes records against the ring's table of
// stacks, then records of stacks new each time, which fill tables and
// replace them, while the buffer wraps round many times: a table goes
// once no record held refers to it, and every record held reads back
// with its stacks.
func TestRingTablesReleased(t *testing.T) {
	g := newRing(1 << 20)
	base := storetest.Record20(time.Unix(1700000000, 0), 1)
	wants := map[recording.ID][]byte{}
	write := func(n int, fresh bool) {
		r := *base
		r.ID = recording.ID{byte(n), byte(n >> 8), byte(n >> 16), 9}
		r.Start = base.Start.Add(time.Duration(n) * time.Millisecond)
		r.Calls = slices.Clone(base.Calls)
		r.ExecTrace = nil
		if fresh {
			for i := range r.Calls {
				r.Calls[i].Stack = slices.Clone(r.Calls[i].Stack)
			}
		}
		g.newWrite()
		g.keep(&r)
		wants[r.ID] = codec.AppendRecord(nil, &r)
	}
	// check: each table held is referred to by as many entries as its
	// refs count, the oldest is referred to or the current one, and each
	// record held reads back.
	check := func(step string) {
		t.Helper()
		refs := map[uint32]int{}
		for j := range g.newestFirst() {
			if id := g.ents[j].table; id != 0 {
				if g.table(id) == nil {
					t.Fatalf("%s: an entry refers to table %d, which the ring no longer holds", step, id)
				}
				refs[id]++
			}
		}
		for _, tb := range g.tables {
			if tb.refs != refs[tb.id] {
				t.Fatalf("%s: table %d counts %d entries; %d refer to it", step, tb.id, tb.refs, refs[tb.id])
			}
		}
		if len(g.tables) > 0 && g.tables[0].refs == 0 && g.tables[0] != g.stacks {
			t.Fatalf("%s: table %d, which no entry refers to, is kept (%d tables)", step, g.tables[0].id, len(g.tables))
		}
		for j := range g.newestFirst() {
			var id recording.ID
			copy(id[:], g.ents[j].key[8:])
			got, ok, err := g.get(id)
			if err != nil || !ok {
				t.Fatalf("%s: get %v: %v, %v", step, id, ok, err)
			}
			want, err := codec.DecodeRecord(wants[id])
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: record %v read back differs", step, id)
			}
		}
	}
	n := 0
	for range 200 {
		write(n, false)
		n++
	}
	first := g.stacks.id
	if g.ents[(g.first+g.n-1)%len(g.ents)].table != first {
		t.Fatal("records of the table's stacks written whole")
	}
	check("shared stacks")
	// Stacks new each time: the tables fill and are replaced, and the
	// buffer wraps round, evicting the records written against the first.
	for range 3 * (maxRingFrames/12 + 10) {
		write(n, true)
		n++
	}
	check("new stacks")
	if g.stacks.id == first || g.table(first) != nil {
		t.Fatalf("table %d, which no record held refers to, is kept (current table %d)", first, g.stacks.id)
	}
	for range 2000 {
		write(n, false)
		n++
	}
	check("shared stacks again")
	if len(g.tables) != 1 || g.tables[0] != g.stacks {
		t.Fatalf("%d tables held once the ring wrapped round records of one table", len(g.tables))
	}
	g.reset(false)
	if len(g.tables) != 0 || g.stacks != nil {
		t.Fatal("reset kept tables of stacks")
	}
}
