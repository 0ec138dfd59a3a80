package badgerstore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/codec"
)

// openRing opens a store that persists one record per route and second,
// the others held in its ring.
func openRing(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{RecordBudget: 1, RetentionInterval: -1, MaxAge: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// pooledRecord is a record as a pool hands it out again: the same memory,
// its calls' stacks slices of one buffer refilled for each use.
type pooledRecord struct {
	r   recording.Record
	buf []recording.Frame
}

// fill makes p the n-th record from start, its call i's stack the first
// depth(i) frames of p's buffer, refilled with frames named after n.
func (p *pooledRecord) fill(start time.Time, n int, depth func(i int) int) *recording.Record {
	if p.buf == nil {
		p.buf = make([]recording.Frame, 8)
		p.r.Calls = make([]recording.Call, 3)
	}
	for i := range p.buf {
		p.buf[i] = recording.Frame{Function: fmt.Sprintf("main.f%d_%d", n, i), File: fmt.Sprintf("/src/%d.go", n), Line: n*10 + i}
	}
	p.r.ID = recording.ID{byte(n), byte(n >> 8), 0xaa}
	p.r.Start = start.Add(time.Duration(n) * time.Microsecond)
	p.r.Duration = time.Millisecond
	p.r.Kind = recording.KindHTTP
	p.r.Method, p.r.Path, p.r.Route, p.r.Status = "GET", "/x", "GET /x", 200
	for i := range p.r.Calls {
		p.r.Calls[i] = recording.Call{Service: "sql", Method: "SELECT", Start: time.Duration(i), Duration: time.Microsecond, Stack: p.buf[:depth(i)]}
	}
	return &p.r
}

// TestRingPooledStacks: records whose stacks are slices of one buffer,
// refilled with other frames between two Writes (a pool's records), at
// the same address with the same length or another, are held in the ring
// and read back each with the frames it had when written.
func TestRingPooledStacks(t *testing.T) {
	ctx := context.Background()
	s := openRing(t)
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	var p pooledRecord
	var want []*recording.Record
	depths := []func(int) int{
		func(int) int { return 5 },
		func(int) int { return 5 },
		func(i int) int { return 3 + i },
		func(int) int { return 8 },
		func(i int) int { return 8 - i },
		func(int) int { return 5 },
	}
	for n := range 60 {
		r := p.fill(start, n, depths[n%len(depths)])
		// What reading it should give, copied before the buffer is
		// refilled.
		c, err := codec.DecodeRecord(codec.AppendRecord(nil, r))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, c)
		if err := s.Write(ctx, []*recording.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	if s.ring.len() < len(want)-2 {
		t.Fatalf("the ring holds %d records, want most of %d", s.ring.len(), len(want))
	}
	for _, w := range want {
		got, err := s.Get(ctx, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range w.Calls {
			if !reflect.DeepEqual(got.Calls[i].Stack, w.Calls[i].Stack) {
				t.Fatalf("record %v, call %d: stack %v, want %v", w.ID, i, got.Calls[i].Stack, w.Calls[i].Stack)
			}
		}
	}
}

// TestRingReadDuringWrites: Gets and Lists of the ring's records while
// Writes add records of stacks new each time (the table of stacks filling
// and replaced) and of stacks shared, from two writers at once, and Clear empties it, return the
// records as written (run with -race).
func TestRingReadDuringWrites(t *testing.T) {
	ctx := context.Background()
	s := openRing(t)
	start := time.Now().Add(-time.Minute).Truncate(time.Second)
	shared := []recording.Frame{{Function: "main.shared", File: "/src/s.go", Line: 1}, {Function: "main.main", File: "/src/m.go", Line: 2}}
	mk := func(n int) *recording.Record {
		r := &recording.Record{
			ID: recording.ID{byte(n), byte(n >> 8), byte(n >> 16), 0xbb}, Kind: recording.KindHTTP,
			Start: start.Add(time.Duration(n) * time.Microsecond), Duration: time.Millisecond,
			Method: "GET", Path: "/y", Route: "GET /y", Status: 200,
		}
		for i := range 4 {
			st := shared
			if n%2 == 0 {
				st = make([]recording.Frame, 400) // new each time: fills the table
				for j := range st {
					st[j] = recording.Frame{Function: fmt.Sprintf("main.g%d", n), File: "/src/g.go", Line: j + i}
				}
			}
			r.Calls = append(r.Calls, recording.Call{Service: "sql", Method: "SELECT", Start: time.Duration(i), Stack: st})
		}
		return r
	}
	check := func(n int, got *recording.Record) error {
		w := mk(n)
		if got.ID != w.ID || len(got.Calls) != len(w.Calls) {
			return fmt.Errorf("record %d read as %v with %d calls", n, got.ID, len(got.Calls))
		}
		for i := range w.Calls {
			if !reflect.DeepEqual(got.Calls[i].Stack, w.Calls[i].Stack) {
				return fmt.Errorf("record %d, call %d: another stack", n, i)
			}
		}
		return nil
	}
	const total = 400
	var written sync.WaitGroup
	var mu sync.Mutex
	done := 0
	errs := make(chan error, 8) // two readers, two writers
	stop := make(chan struct{})
	for g := range 2 {
		written.Add(1)
		go func() {
			defer written.Done()
			for k := 0; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				n := done
				mu.Unlock()
				if n == 0 {
					continue
				}
				i := (k*7 + g) % n
				r, err := s.Get(ctx, mk(i).ID)
				if err == nil {
					err = check(i, r)
				} else if errorsIsNotFound(err) {
					err = nil // evicted, or cleared
				}
				if err == nil && g == 1 {
					_, err = s.List(ctx, store.Query{Limit: 20})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// Two writers, each its own batches: the ring's table is shared.
	write := func(from, to int) {
		var writers sync.WaitGroup
		for w := range 2 {
			writers.Add(1)
			go func() {
				defer writers.Done()
				for n := from + 4*w; n < to; n += 8 {
					batch := []*recording.Record{mk(n), mk(n + 1), mk(n + 2), mk(n + 3)}
					if err := s.Write(ctx, batch); err != nil {
						errs <- err
						return
					}
					mu.Lock()
					done = max(done, n+4)
					mu.Unlock()
				}
			}()
		}
		writers.Wait()
	}
	write(0, total/2)
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	write(total/2, total)
	close(stop)
	written.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for n := total - 40; n < total; n++ {
		r, err := s.Get(ctx, mk(n).ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := check(n, r); err != nil {
			t.Error(err)
		}
	}
}

func errorsIsNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
