package badgerstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// TestScanAnyOrder: a reader's scans of one prefix, which share one
// iterator and skip their Seek when it already stands where they start
// (reader.scan), visit the keys a scan of its own would, whatever the
// order of their ranges: ascending, descending, overlapping, empty,
// reversed (from past to), at the prefix's ends and past them, and after
// a scan stopped by its function's error. (placed without its test of
// past against from, scan without emptying past before it moves the
// iterator, or scan keeping past after a reversed range, fails it.)
func TestScanAnyOrder(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{FoldInterval: -1, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now().Add(-5 * time.Hour).Truncate(time.Hour)
	// Minutes with rollups, apart: groups of minutes with gaps between.
	for i, at := range []time.Duration{0, 3 * time.Minute, 4 * time.Minute, 40 * time.Minute, 61 * time.Minute, 62 * time.Minute, 3*time.Hour + 7*time.Minute} {
		if err := s.Write(ctx, storetest.Records(uint64(i+1), start.Add(at), 10*time.Second, 3)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.fold(); err != nil {
		t.Fatal(err)
	}
	m0 := start.UnixNano() / int64(time.Minute)
	// keys returns the minutes of p's keys in [from, to), each scan
	// with an iterator of its own.
	keys := func(p byte, from, to int64) []int64 {
		r := s.newReader()
		defer r.close()
		var got []int64
		if err := r.scan(p, bucketKey(p, from), bucketKey(p, to), func(k, _ []byte, _ error) error {
			got = append(got, keyTime(k[1:]))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if all := keys(pMinute, m0-10, m0+300); len(all) < 7 {
		t.Fatalf("%d minute rollups, want at least 7", len(all))
	}
	// A reversed scan leaves the iterator at the first key at or past its
	// from, beyond its to: the next scan, starting between the two, must
	// Seek. Minutes 50 down to 35 leave it at minute 61; 38 to 45 must
	// still visit minute 40.
	{
		r := s.newReader()
		for _, sc := range []struct{ from, to int64 }{{50, 35}, {38, 45}} {
			want := keys(pMinute, m0+sc.from, m0+sc.to)
			var got []int64
			if err := r.scan(pMinute, bucketKey(pMinute, m0+sc.from), bucketKey(pMinute, m0+sc.to), func(k, _ []byte, _ error) error {
				got = append(got, keyTime(k[1:])-m0)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			for j := range want {
				want[j] -= m0
			}
			if !slices.Equal(got, want) {
				t.Fatalf("scan of minutes [%d, %d) after [50, 35): %v, want %v (from the first hour's start)", sc.from, sc.to, got, want)
			}
		}
		if want := keys(pMinute, m0+38, m0+45); !slices.Equal(want, []int64{m0 + 40}) {
			t.Fatalf("minutes [38, 45) hold %v, want minute 40 (%d)", want, m0+40)
		}
		r.close()
	}
	rnd := rand.New(rand.NewPCG(36, 1))
	stop := errors.New("stop")
	for round := range 200 {
		r := s.newReader()
		for i := range 12 {
			p := byte(pMinute)
			if rnd.IntN(4) == 0 {
				p = pHour
			}
			unit := int64(1)
			if p == pHour {
				unit = 60
			}
			from := (m0 + int64(rnd.IntN(260)) - 20) / unit
			to := from + int64(rnd.IntN(90)-10)
			if p == pHour {
				// Hours too run backwards, by up to two.
				to = from + int64(rnd.IntN(5)-2)
			}
			want := keys(p, from, to)
			var got []int64
			halt := -1
			if rnd.IntN(5) == 0 {
				halt = rnd.IntN(3)
			}
			err := r.scan(p, bucketKey(p, from), bucketKey(p, to), func(k, _ []byte, _ error) error {
				if len(got) == halt {
					return stop
				}
				got = append(got, keyTime(k[1:]))
				return nil
			})
			if halt >= 0 && halt < len(want) {
				want = want[:halt]
				if !errors.Is(err, stop) {
					t.Fatalf("round %d, scan %d: err = %v, want the function's", round, i, err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				rel := func(ks []int64) []int64 {
					out := make([]int64, len(ks))
					for j, k := range ks {
						out[j] = k - m0/unit
					}
					return out
				}
				t.Fatalf("round %d, scan %d of %c [%d, %d): %v, want %v (from the first hour's start)", round, i, p, from-m0/unit, to-m0/unit, rel(got), rel(want))
			}
		}
		r.close()
	}
}

// TestSeriesWhileClosing: Series and Stats from several goroutines at
// once, while records are written and folded, and the store closed under
// them once each has answered a query: each answers, or fails with
// store.ErrClosed once the store is closing, never another error nor a
// panic, and each goes on until it is told ErrClosed, which the other
// query then tells it too. (rlock failing with another error once closed
// fails it, as does Stats alone doing so.)
func TestSeriesWhileClosing(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{FoldInterval: time.Millisecond, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	if err := s.Write(ctx, storetest.Records(1, start, 30*time.Second, 200)); err != nil {
		t.Fatal(err)
	}
	w := store.Window{Since: start.Add(-time.Hour), Until: time.Now().Add(time.Minute)}
	// A reader that never gets ErrClosed stops after this many queries
	// (far more than run before Close), and fails the test.
	const maxQueries = 100000
	const readers = 4
	var wg, answered sync.WaitGroup
	errs := make(chan error, 64)
	closed := make([]bool, readers) // each reader's own
	for g := range readers {
		wg.Add(1)
		answered.Add(1)
		go func() {
			defer wg.Done()
			first := true
			for i := range maxQueries {
				var err error
				if (g+i)%3 == 0 {
					_, err = s.Stats(ctx, w)
				} else {
					_, err = s.Series(ctx, w, time.Duration(1+i%7)*time.Minute)
				}
				if first {
					first = false
					answered.Done()
				}
				if errors.Is(err, store.ErrClosed) {
					closed[g] = true
					// Closed: the other query too.
					if (g+i)%3 == 0 {
						_, err = s.Series(ctx, w, time.Minute)
					} else {
						_, err = s.Stats(ctx, w)
					}
					if !errors.Is(err, store.ErrClosed) {
						errs <- fmt.Errorf("reader %d, after ErrClosed: %v, want ErrClosed", g, err)
					}
					return
				}
				if err != nil {
					errs <- fmt.Errorf("reader %d, query %d: %w", g, i, err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 20 {
			err := s.Write(ctx, storetest.Records(uint64(i+2), start.Add(time.Duration(i)*time.Minute), time.Second, 10))
			if errors.Is(err, store.ErrClosed) {
				return
			}
			if err != nil {
				errs <- fmt.Errorf("write %d: %w", i, err)
				return
			}
		}
	}()
	answered.Wait() // every reader has answered a query: the store is closed under them
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for g, ok := range closed {
		if !ok {
			t.Errorf("reader %d never got ErrClosed", g)
		}
	}
	if _, err := s.Series(ctx, w, time.Minute); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Series after Close: %v, want ErrClosed", err)
	}
}
