package recording

import (
	"context"
	"testing"
)

// TestSameHeader: a record reports the header map it was started with as
// its own while it runs (a request made from it shares the map), and no
// other map, nor any once it has finished.
func TestSameHeader(t *testing.T) {
	rec := New()
	defer rec.Close(context.Background())
	h := map[string][]string{"Accept": {"*/*"}}
	_, ar := rec.StartRecord(context.Background(), RequestInfo{Kind: KindHTTP, Method: "GET", Path: "/", Header: h})
	if ar == nil {
		t.Fatal("not recorded")
	}
	if !ar.SameHeader(h) {
		t.Error("SameHeader of its own map: false")
	}
	if ar.SameHeader(map[string][]string{"Accept": {"*/*"}}) {
		t.Error("SameHeader of an equal map of its own: true")
	}
	if ar.SameHeader(nil) {
		t.Error("SameHeader(nil): true")
	}
	ar.Finish()
	if ar.SameHeader(h) {
		t.Error("SameHeader after Finish: true")
	}
	var none *ActiveRecord
	if none.SameHeader(h) {
		t.Error("a nil record's SameHeader: true")
	}
}
