package recording_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestPooledRecordsShareHeaderMap starts 64 pooled records at once, all
// with the same headers, and checks that their sink (a Borrower) gets
// them with at most two header maps among them (the writer's shared map
// and the map of the first record, whose headers it copied): the queued
// records do not each hold a map for the collector to scan. Then requests
// keep coming, 16 in flight, half with headers of their own and half
// with the shared ones, while the sink reads again, in every Write, every
// map it saw shared: such a map never changes once handed over (under
// -race, a write to it races with these reads), and every record holds
// its own request's headers, redacted.
func TestPooledRecordsShareHeaderMap(t *testing.T) {
	same := map[string][]string{"User-Agent": {"curl/8.5"}, "Accept": {"*/*"}, "Authorization": {"Bearer abc"}}
	sameWant := map[string][]string{"User-Agent": {"curl/8.5"}, "Accept": {"*/*"}, "Authorization": {recording.Redacted}}
	var (
		mu       sync.Mutex
		want     = map[string]map[string][]string{}  // by path
		shared   = map[uintptr]map[string][]string{} // a map seen held by two records, as it was then
		held     = map[uintptr][]map[string][]string{}
		firstMap int // distinct maps in the first Write
		writes   int
		failures []string
	)
	sink := &funcBorrower{write: func(recs []*recording.Record) {
		mu.Lock()
		defer mu.Unlock()
		writes++
		byMap := map[uintptr]int{}
		for _, r := range recs {
			if w := want[r.Path]; !maps.EqualFunc(r.Headers, w, slices.Equal) {
				failures = append(failures, fmt.Sprintf("%s: headers %q, want %q", r.Path, r.Headers, w))
			}
			p := reflect.ValueOf(r.Headers).Pointer()
			byMap[p]++
			if byMap[p] == 2 {
				if _, ok := shared[p]; !ok {
					shared[p] = maps.Clone(r.Headers)
					held[p] = append(held[p], r.Headers) // kept on purpose: it must never change
				}
			}
		}
		if writes == 1 {
			firstMap = len(byMap)
		}
		for p, m := range held {
			for _, h := range m {
				if !maps.EqualFunc(h, shared[p], slices.Equal) {
					failures = append(failures, fmt.Sprintf("write %d: a shared map changed: %q, was %q", writes, h, shared[p]))
				}
			}
		}
	}}
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(64, time.Hour))
	ctx := context.Background()

	ars := make([]*recording.ActiveRecord, 64)
	mu.Lock()
	for i := range ars {
		path := fmt.Sprintf("/same/%d", i)
		want[path] = sameWant
		_, ars[i] = rec.StartRecord(ctx, recording.RequestInfo{Method: "GET", Path: path})
		ars[i].SetHeaders(same)
	}
	mu.Unlock()
	for _, ar := range ars {
		ar.Finish()
	}
	mustFlush(t, rec, 64)
	mu.Lock()
	if firstMap > 2 {
		t.Errorf("64 records with the same headers held %d header maps; want at most 2", firstMap)
	}
	if len(shared) == 0 {
		t.Errorf("no header map was shared between records")
	}
	mu.Unlock()

	// Then 16 in flight at a time, in batches of 16 whose Writes overlap
	// the preparing of the next ones.
	sent := uint64(64)
	for round := range 40 {
		ars := ars[:16]
		for i := range ars {
			path := fmt.Sprintf("/mixed/%d/%d", round, i)
			h, w := same, sameWant
			if (i+round)%2 == 0 {
				h = map[string][]string{"User-Agent": {"client-" + path}, "Accept": {"*/*"}, "Authorization": {"Bearer " + path}}
				w = map[string][]string{"User-Agent": {"client-" + path}, "Accept": {"*/*"}, "Authorization": {recording.Redacted}}
			}
			mu.Lock()
			want[path] = w
			mu.Unlock()
			_, ars[i] = rec.StartRecord(ctx, recording.RequestInfo{Method: "GET", Path: path})
			ars[i].SetHeaders(h)
		}
		for _, ar := range ars {
			ar.Finish()
		}
		sent += 16
		if round%4 == 3 {
			mustFlush(t, rec, sent)
		}
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st := rec.Stats(); st.Written != sent {
		t.Errorf("Written %d, want %d (Dropped %d)", st.Written, sent, st.Dropped)
	}
	mu.Lock()
	defer mu.Unlock()
	reportFailures(t, failures)
}
