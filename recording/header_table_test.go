package recording_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/headermap"
	"github.com/goappstats/appstats/recording"
)

// TestHeaderMapSmallAfterLarge: a pooled record whose header map held
// more than eight names (a table, which clear leaves one) gets a small
// map again for the requests of up to eight names it serves next, which
// the codec reads slot by slot (headermap.Small) rather than walks; each
// record holds its request's headers.
func TestHeaderMapSmallAfterLarge(t *testing.T) {
	var mu sync.Mutex
	type seen struct {
		small bool
		names int
	}
	got := map[string]seen{}
	sink := &funcBorrower{write: func(recs []*recording.Record) {
		mu.Lock()
		defer mu.Unlock()
		for _, r := range recs {
			got[r.Path] = seen{headermap.Small(r.Headers) != nil, len(r.Headers)}
		}
	}}
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(1, time.Millisecond))
	sizes := []int{3, 12, 3, 3, 8, 9, 5, 12, 12, 2}
	for i, n := range sizes {
		h := map[string][]string{}
		for j := range n {
			h[fmt.Sprintf("X-N-%02d", j)] = []string{fmt.Sprint(i)}
		}
		// One request after another: each gets the last one's record
		// back from the pool.
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: fmt.Sprint("/", i)})
		ar.SetHeaders(h)
		ar.Finish()
		mustFlush(t, rec, uint64(i+1))
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, n := range sizes {
		s := got[fmt.Sprint("/", i)]
		if s.names != n {
			t.Errorf("request %d: %d names recorded, want %d", i, s.names, n)
		}
		if want := n <= 8 && headermap.Known; s.small != want {
			t.Errorf("request %d (%d names): the record's map read from its group %v, want %v", i, n, s.small, want)
		}
	}
}
