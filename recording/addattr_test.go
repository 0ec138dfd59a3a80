package recording_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// TestAddAttr checks that AddAttr(k, v) leaves the record's Attrs as
// AddAttrs(Attr{k, v}) does, from none to six attributes, after AddAttrs
// and after an Attrs set by the caller; that the first four take no
// allocation (they go into the record's room); and that a nil
// ActiveRecord takes it.
func TestAddAttr(t *testing.T) {
	rec := recording.New()
	defer rec.Close(t.Context())
	attr := func(i int) recording.Attr {
		return recording.Attr{Key: "k" + strconv.Itoa(i), Value: "v" + strconv.Itoa(i)}
	}
	for n := range 7 {
		for _, before := range []string{"none", "AddAttrs", "set"} {
			_, one := rec.StartRecord(t.Context(), recording.RequestInfo{})
			_, all := rec.StartRecord(t.Context(), recording.RequestInfo{})
			switch before {
			case "AddAttrs":
				one.AddAttrs(attr(100))
				all.AddAttrs(attr(100))
			case "set":
				one.Record().Attrs = []recording.Attr{attr(200)}
				all.Record().Attrs = []recording.Attr{attr(200)}
			}
			var want []recording.Attr
			for i := range n {
				one.AddAttr(attr(i).Key, attr(i).Value)
				want = append(want, attr(i))
			}
			all.AddAttrs(want...)
			if got, w := one.Record().Attrs, all.Record().Attrs; !slices.Equal(got, w) {
				t.Errorf("%d attributes, %s before: AddAttr gives %v, AddAttrs %v", n, before, got, w)
			}
			one.Finish()
			all.Finish()
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, ar := rec.StartRecord(t.Context(), recording.RequestInfo{})
		ar.Finish()
	})
	added := testing.AllocsPerRun(100, func() {
		_, ar := rec.StartRecord(t.Context(), recording.RequestInfo{})
		ar.AddAttr("a", "1")
		ar.AddAttr("b", "2")
		ar.AddAttr("c", "3")
		ar.AddAttr("d", "4")
		ar.Finish()
	})
	if added > allocs {
		t.Errorf("four AddAttr calls: %v allocations a record, %v without them; want no more", added, allocs)
	}
	var ar *recording.ActiveRecord
	ar.AddAttr("k", "v") // no panic
}

// TestAttrRoom checks that appending to AttrRoom and setting the record's
// Attrs to the result leaves them as AddAttrs does, from none to six
// attributes, after AddAttrs and after an Attrs set by the caller; that
// the record's attributes are unchanged until the result is set; that the
// first four take no allocation (they go into the record's room); and
// that a nil ActiveRecord gives nil.
func TestAttrRoom(t *testing.T) {
	rec := recording.New()
	defer rec.Close(t.Context())
	attr := func(i int) recording.Attr {
		return recording.Attr{Key: "k" + strconv.Itoa(i), Value: "v" + strconv.Itoa(i)}
	}
	for n := range 7 {
		for _, before := range []string{"none", "AddAttrs", "set"} {
			_, one := rec.StartRecord(t.Context(), recording.RequestInfo{})
			_, all := rec.StartRecord(t.Context(), recording.RequestInfo{})
			switch before {
			case "AddAttrs":
				one.AddAttrs(attr(100))
				all.AddAttrs(attr(100))
			case "set":
				one.Record().Attrs = []recording.Attr{attr(200)}
				all.Record().Attrs = []recording.Attr{attr(200)}
			}
			had := slices.Clone(one.Record().Attrs)
			attrs := one.AttrRoom()
			if !slices.Equal(attrs, had) {
				t.Errorf("%s before: AttrRoom gives %v, the record has %v", before, attrs, had)
			}
			var want []recording.Attr
			for i := range n {
				attrs = append(attrs, attr(i))
				want = append(want, attr(i))
			}
			if got := one.Record().Attrs; !slices.Equal(got, had) {
				t.Errorf("%d attributes, %s before: the record's changed to %v before they were set, want %v", n, before, got, had)
			}
			one.Record().Attrs = attrs
			all.AddAttrs(want...)
			if got, w := one.Record().Attrs, all.Record().Attrs; !slices.Equal(got, w) {
				t.Errorf("%d attributes, %s before: AttrRoom gives %v, AddAttrs %v", n, before, got, w)
			}
			one.Finish()
			all.Finish()
		}
	}
	allocs := testing.AllocsPerRun(100, func() {
		_, ar := rec.StartRecord(t.Context(), recording.RequestInfo{})
		ar.Finish()
	})
	added := testing.AllocsPerRun(100, func() {
		_, ar := rec.StartRecord(t.Context(), recording.RequestInfo{})
		attrs := ar.AttrRoom()
		attrs = append(attrs, recording.Attr{Key: "a", Value: "1"}, recording.Attr{Key: "b", Value: "2"})
		attrs = append(attrs, recording.Attr{Key: "c", Value: "3"}, recording.Attr{Key: "d", Value: "4"})
		ar.Record().Attrs = attrs
		ar.Finish()
	})
	if added > allocs {
		t.Errorf("four attributes appended to AttrRoom: %v allocations a record, %v without them; want no more", added, allocs)
	}
	var ar *recording.ActiveRecord
	if got := ar.AttrRoom(); got != nil {
		t.Errorf("nil ActiveRecord: AttrRoom gives %v, want nil", got)
	}
}
