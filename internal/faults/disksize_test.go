//go:build linux

package faults

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/storetest"
)

var loadFor = flag.Duration("faults.load", 10*time.Second, "how long TestDiskBoundedByMaxBytes writes")

// TestDiskBoundedByMaxBytes writes large records (64 KB of headers each)
// as fast as the store takes them, while sampling the directory's size on
// disk every few milliseconds: it must never exceed MaxBytes by more than
// the documented DiskSlack. Before the fix, MaxBytes was enforced once a
// minute, and such a load took a directory to 3.3 GB in 30 s.
func TestDiskBoundedByMaxBytes(t *testing.T) {
	if testing.Short() {
		t.Skip("writes for -faults.load (10s)")
	}
	const maxBytes = 64 << 20
	opts := badgerstore.Options{MaxBytes: maxBytes, RecordBudget: -1} // every record written to disk
	limit := maxBytes + opts.DiskSlack()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := badgerstore.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), *loadFor)
	defer cancel()
	var peak atomic.Int64
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for ctx.Err() == nil {
			if n := allocatedIn(t, dir); n > peak.Load() {
				peak.Store(n)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	headers := map[string][]string{}
	for i := range 64 {
		headers[fmt.Sprintf("X-Pad-%d", i)] = []string{strings.Repeat("x", 1000)}
	}
	var written int
	start := time.Now()
	for seq := uint64(0); ctx.Err() == nil; {
		batch := make([]*recording.Record, 64)
		for i := range batch {
			seq++
			r := &recording.Record{Start: time.Now(), Duration: time.Millisecond, Method: "GET", Path: "/big",
				Route: "GET /big", Status: 200, Headers: headers}
			putSeq(&r.ID, seq)
			batch[i] = r
		}
		if err := s.Write(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		written += len(batch)
	}
	elapsed := time.Since(start)
	sampler.Wait()
	h := s.Health()
	stored := written - int(h.Dropped)
	t.Logf("MaxBytes %d MiB (+ DiskSlack %d MiB): %d records of ~64 KB given in %v (%.0f MB/s), %d stored (%.0f MB/s), %d dropped, %d kept at the end; directory peaked at %.1f MiB, ends at %.1f MiB",
		maxBytes>>20, opts.DiskSlack()>>20, written, elapsed.Round(time.Millisecond),
		float64(written)*64e3/1e6/elapsed.Seconds(), stored, float64(stored)*64e3/1e6/elapsed.Seconds(), h.Dropped, s.Len(),
		float64(peak.Load())/(1<<20), float64(allocatedIn(t, dir))/(1<<20))
	if peak.Load() > limit {
		t.Errorf("the directory reached %d bytes, over MaxBytes + DiskSlack = %d", peak.Load(), limit)
	}
	if s.Len() == 0 || int64(s.Len())*64e3 < maxBytes/2 {
		t.Errorf("only %d records kept: the store should fill most of MaxBytes", s.Len())
	}
	// What is kept can be listed. (Stats may still count records deleted
	// from a minute whose other records are kept: rollups are per minute.)
	// Retention may still be deleting the oldest records when the writes
	// stop: a listing counts when the store held as many records before
	// and after it.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		before := s.Len()
		listed := len(storetest.ListAll(t, s, store.Query{Limit: store.MaxLimit}))
		if after := s.Len(); after == before {
			if listed != after {
				t.Errorf("List returns %d records, the store holds %d", listed, after)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("retention still deleting records a minute after the writes stopped: %d held", s.Len())
			break
		}
	}
}

// putSeq makes an ID unique and time-ordered from a sequence number.
func putSeq(id *recording.ID, seq uint64) {
	for i := range 8 {
		id[8+i] = byte(seq >> (56 - 8*i))
	}
	now := uint64(time.Now().UnixNano())
	for i := range 8 {
		id[i] = byte(now >> (56 - 8*i))
	}
}

// allocatedIn returns the bytes the files of dir take on disk.
func allocatedIn(t *testing.T, dir string) int64 {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			n += st.Blocks * 512
		}
	}
	return n
}
