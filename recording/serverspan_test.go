package recording_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

const keySpanParent = "appstats.span.parent" // convention.KeySpanParent

// TestSetServerSpan checks ActiveRecord.SetServerSpan: an ID set while a
// wrapper holds the record's attributes between AttrRoom and its set of
// Attrs (another goroutine's, in otelexport's bridge) is not lost, as
// AddAttr's was; the first valid one wins; an invalid ID, or one for
// another request (path, method), is not noted.
func TestSetServerSpan(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	first, second := recording.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, recording.SpanID{9}

	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/a"})
	attrs := ar.AttrRoom()
	ar.SetServerSpan(recording.SpanID{}, recording.SpanID{}, "GET", "/a")
	ar.SetServerSpan(second, recording.SpanID{}, "GET", "/other")
	ar.SetServerSpan(first, recording.SpanID{}, "GET", "/a")
	ar.SetServerSpan(second, recording.SpanID{}, "GET", "/a")
	attrs = append(attrs, recording.Attr{Key: "mine", Value: "1"})
	ar.Record().Attrs = attrs
	ar.Finish()

	_, ar = rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/b"})
	ar.SetServerSpan(second, recording.SpanID{}, "POST", "/b")
	ar.Finish()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs := sink.Records()
	if len(recs) != 2 {
		t.Fatalf("%d records, want two", len(recs))
	}
	if got := recs[0].Attr("mine"); got != "1" {
		t.Errorf("the wrapper's attribute lost: %v", recs[0].Attrs)
	}
	if got := recs[0].Attr(keySpanParent); got != first.String() {
		t.Errorf("span parent %q, want the first valid one set, %s", got, first)
	}
	if got := recs[1].Attr(keySpanParent); got != "" {
		t.Errorf("span parent %q from a span match refused", got)
	}
}

// parentSink borrows records and writes down each one's span parent.
type parentSink struct {
	mu      sync.Mutex
	parents map[string]string // path → span parent
}

func (s *parentSink) Write(_ context.Context, recs []*recording.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		s.parents[r.Path] = r.Attr(keySpanParent)
	}
	return nil
}

func (*parentSink) BorrowsRecords() bool { return true }

// TestSetServerSpanAfterFinish: a set after the record finished has no
// effect, on it nor on the next request's record, which may be the same
// memory (its sink borrows records); nor does a set on a record carry
// over to the record that reuses its memory.
func TestSetServerSpanAfterFinish(t *testing.T) {
	sink := &parentSink{parents: map[string]string{}}
	rec := recording.New(recording.WithSinks(sink))
	id := recording.SpanID{1, 2, 3, 4, 5, 6, 7, 8}
	for i, path := range []string{"/set", "/late", "/next", "/after"} {
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
		if i == 0 {
			ar.SetServerSpan(id, recording.SpanID{}, "GET", path)
		}
		ar.Finish()
		if i == 1 {
			ar.SetServerSpan(id, recording.SpanID{}, "GET", path)
		}
		if err := rec.ForceFlush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	want := map[string]string{"/set": id.String(), "/late": "", "/next": "", "/after": ""}
	for path, w := range want {
		if got, ok := sink.parents[path]; !ok || got != w {
			t.Errorf("%s: span parent %q (recorded %v), want %q", path, got, ok, w)
		}
	}
}

// TestSetServerSpanFits: the record itself compares the span's parent,
// method and path with its own (no code of the caller's runs under its
// lock, where a call recorded in the request, or a set of the record's,
// deadlocked), the method by its conventional name: a span for another
// request, or any span for a record that is not an HTTP request's, is not
// noted; the first that fits is.
func TestSetServerSpanFits(t *testing.T) {
	sink := &parentSink{parents: map[string]string{}}
	rec := recording.New(recording.WithSinks(sink))
	caller := recording.SpanID{7}
	id, other := recording.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, recording.SpanID{9}
	cases := []struct {
		info                  recording.RequestInfo
		parent                recording.SpanID
		method, path, parent0 string
	}{
		// the method by its conventional name: "get" is GET, none is GET,
		// an unknown one _OTHER.
		{recording.RequestInfo{Method: "get", Path: "/lower"}, recording.SpanID{}, "GET", "/lower", id.String()},
		{recording.RequestInfo{Path: "/none"}, recording.SpanID{}, "GET", "/none", id.String()},
		{recording.RequestInfo{Method: "BREW", Path: "/brew"}, recording.SpanID{}, "_OTHER", "/brew", id.String()},
		{recording.RequestInfo{Method: "GET", Path: "/method"}, recording.SpanID{}, "POST", "/method", ""},
		{recording.RequestInfo{Method: "GET", Path: "/path"}, recording.SpanID{}, "GET", "/elsewhere", ""},
		{recording.RequestInfo{Method: "GET", Path: "/parent"}, recording.SpanID{}, "GET", "/parent", ""},
		{recording.RequestInfo{Method: "GET", Path: "/caller"}, caller, "GET", "/caller", id.String()},
		{recording.RequestInfo{Kind: recording.KindGRPC, Method: "GET", Path: "/rpc"}, recording.SpanID{}, "GET", "/rpc", ""},
	}
	for _, c := range cases {
		if c.info.Path == "/parent" || c.info.Path == "/caller" {
			c.info.TraceID, c.info.ParentSpanID = recording.TraceID{1}, caller
		}
		_, ar := rec.StartRecord(context.Background(), c.info)
		ar.SetServerSpan(other, c.parent, c.method, "/not"+c.path) // never fits
		ar.SetServerSpan(id, c.parent, c.method, c.path)
		ar.SetServerSpan(other, c.parent, c.method, c.path) // fits, second
		ar.Finish()
	}
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		got, want := sink.parents[c.info.Path], c.parent0
		if c.parent0 == "" && got == other.String() {
			t.Errorf("%s: the second span noted", c.info.Path)
		}
		if got != want {
			t.Errorf("%s (%q, kind %v): span parent %q, want %q", c.info.Path, c.info.Method, c.info.Kind, got, want)
		}
	}
}

// TestSetServerSpanThroughSyncPool: a record that went back through the
// sync.Pool (the reserve full) does not carry the span ID set on its last
// request to the next one: 768 records with one, finished and flushed (or
// left out by a route filter when they finish), then 768 without, none of
// which may have a span parent.
func TestSetServerSpanThroughSyncPool(t *testing.T) {
	for _, filtered := range []bool{false, true} {
		t.Run(fmt.Sprintf("filtered=%v", filtered), func(t *testing.T) {
			sink := &parentSink{parents: map[string]string{}}
			const n = 3 * 2 * recording.DefaultBatchSize
			// A queue that holds a whole round: the default (1024) is
			// below n since the batch became 256, and a round finished
			// faster than the worker drains it dropped records.
			rec := recording.New(recording.WithSinks(sink), recording.WithExclude(recording.Filter{Route: "dropped"}), recording.WithQueueSize(2*n))
			id := recording.SpanID{1, 2, 3, 4, 5, 6, 7, 8}
			for round := range 2 {
				ars := make([]*recording.ActiveRecord, n)
				for i := range ars {
					path := fmt.Sprintf("/%d/%d", round, i)
					_, ars[i] = rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
					if round == 0 {
						ars[i].SetServerSpan(id, recording.SpanID{}, "GET", path)
						if filtered {
							ars[i].Record().Route = "dropped"
						}
					}
				}
				for _, ar := range ars {
					ar.Finish()
				}
				if err := rec.ForceFlush(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if err := rec.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			sink.mu.Lock()
			defer sink.mu.Unlock()
			stale := 0
			for i := range n {
				if sink.parents[fmt.Sprintf("/1/%d", i)] != "" {
					stale++
				}
			}
			if stale > 0 {
				t.Errorf("%d of %d records of the second round carry the first round's span parent", stale, n)
			}
			if got := len(sink.parents); filtered && got != n {
				t.Errorf("%d records written, want the second round's %d", got, n)
			}
		})
	}
}

// TestSetServerSpanPastMaxAttrs: the span parent is kept whatever
// WithMaxAttrs' cap, on a record at the cap and on one past it (whose
// attributes past the cap are counted, as ever): without it the exporter
// makes otelhttp's span and the record's siblings again.
func TestSetServerSpanPastMaxAttrs(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithMaxAttrs(2, 0))
	id := recording.SpanID{1, 2, 3, 4, 5, 6, 7, 8}
	for _, n := range []int{2, 3} {
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: fmt.Sprintf("/%d", n)})
		for i := range n {
			ar.AddAttr(fmt.Sprintf("k%d", i), "v")
		}
		ar.SetServerSpan(id, recording.SpanID{}, "GET", fmt.Sprintf("/%d", n))
		ar.Finish()
	}
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs := sink.Records()
	if len(recs) != 2 {
		t.Fatalf("%d records, want two", len(recs))
	}
	for _, r := range recs {
		if got := r.Attr(keySpanParent); got != id.String() {
			t.Errorf("%s: span parent %q, want %s (attributes %v)", r.Path, got, id, r.Attrs)
		}
		if got := r.Attr("k1"); got != "v" {
			t.Errorf("%s: k1 %q, want the attributes within the cap kept (attributes %v)", r.Path, got, r.Attrs)
		}
	}
	if got := recs[1].Attr("appstats.dropped_attributes"); got != "1" {
		t.Errorf("/3: dropped attributes %q, want 1 (attributes %v)", got, recs[1].Attrs)
	}
}
