package recording_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// TestKeptAttrsShared checks that records a sink keeps, whose first
// attributes (set in the ActiveRecord's room) have the same keys and
// values as the record's before, share one copy of them — the writer
// copies attributes out of the ActiveRecord only when they differ — and
// that every record still holds its own attributes: values equal by
// their bytes (a request's own User-Agent string) are the same, a
// different value gets a copy of its own, and sharing never changes an
// earlier record's attributes.
func TestKeptAttrsShared(t *testing.T) {
	var (
		mu   sync.Mutex
		kept []*recording.Record
	)
	r := recording.New(recording.WithSinks(recording.SinkFunc(func(_ context.Context, recs []*recording.Record) error {
		mu.Lock()
		kept = append(kept, recs...)
		mu.Unlock()
		return nil
	})))
	ua := []string{"Go-http-client/1.1", "Go-http-client/1.1", "curl/8.5.0", "curl/8.5.0", "curl/8.5.0"}
	scheme := []string{"http", "http", "http", "http", "https"}
	for i := range ua {
		_, a := r.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/x"})
		a.AddAttr("url.scheme", scheme[i])
		a.AddAttr("user_agent.original", strings.Clone(ua[i])) // a request's own string, each time
		a.Finish()
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(kept) != len(ua) {
		t.Fatalf("sink got %d records, want %d", len(kept), len(ua))
	}
	for i, rec := range kept {
		want := []recording.Attr{{Key: "url.scheme", Value: scheme[i]}, {Key: "user_agent.original", Value: ua[i]}}
		if len(rec.Attrs) != len(want) || rec.Attrs[0] != want[0] || rec.Attrs[1] != want[1] {
			t.Errorf("record %d: Attrs = %v, want %v", i, rec.Attrs, want)
		}
	}
	shared := func(i, j int) bool { return &kept[i].Attrs[0] == &kept[j].Attrs[0] }
	for _, c := range []struct {
		i, j int
		want bool
	}{{0, 1, true}, {1, 2, false}, {2, 3, true}, {3, 4, false}} {
		if got := shared(c.i, c.j); got != c.want {
			t.Errorf("records %d and %d share their attributes: %v, want %v", c.i, c.j, got, c.want)
		}
	}
}
