package badgerstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// TestRetainRacingRewrite: a record written again (at the same start)
// while a retention pass that deletes it, one by one (MaxRecords) or
// with its whole index block (MaxAge), has read what it deletes but not
// yet deleted it (before or after it took them, see claims): afterwards
// Len counts what List lists, Get reads a record if and only if List
// lists it, and a recount at Open agrees.
func TestRetainRacingRewrite(t *testing.T) {
	for _, c := range []struct {
		byAge bool
		at    string
	}{{false, "read"}, {true, "read"}, {false, "claimed"}, {true, "claimed"}} {
		byAge := c.byAge
		ctx := context.Background()
		s, dir := openBlockDir(t)
		recs := noisyRecords(1, time.Now().Add(-time.Hour), 50, 300)
		if err := s.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
		again := *recs[0]
		again.Status = 503
		if byAge {
			s.opts.MaxAge = time.Minute
		} else {
			s.opts.MaxRecords = int64(len(recs) - 1)
		}
		written, _ := writeDuringPass(t, s, &again, c.at, c.at == "claimed", fmt.Sprintf("byAge %v, at %s", byAge, c.at))
		if _, err := s.Retain(ctx); err != nil {
			t.Fatal(err)
		}
		<-written
		s.trimHook = nil
		ids := listIDs(t, s, store.Query{})
		listed := slices.Contains(ids, again.ID)
		_, err := s.Get(ctx, again.ID)
		if listed != (err == nil) || err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("byAge %v, at %s: the record written again is listed: %v; Get: %v", byAge, c.at, listed, err)
		}
		if s.Len() != len(ids) {
			t.Errorf("byAge %v, at %s: Len %d, List %d records", byAge, c.at, s.Len(), len(ids))
		}
		size, n := s.Size(), s.Len()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = recount(t, dir, blockOpts())
		if s.Size() != size || s.Len() != n {
			t.Errorf("byAge %v, at %s: Size %d, Len %d; recounted %d, %d", byAge, c.at, size, n, s.Size(), s.Len())
		}
		s.Close()
	}
}

// writeDuringPass sets s's trimHook to give rec to Write once, when the
// pass reaches the point at: while the pass is between its read and its
// deletion. It checks that the Write waits for the pass (for a batch to
// end) if waits — the pass has taken its records — and returns without
// waiting otherwise; errors name where. It returns a channel closed once
// the Write has returned, and whether the hook ran.
func writeDuringPass(t *testing.T, s *Store, rec *recording.Record, at string, waits bool, where string) (written <-chan struct{}, reached func() bool) {
	once := false
	done := make(chan struct{})
	s.trimHook = func(h string) {
		if once || h != at {
			return
		}
		once = true
		go func() {
			defer close(done)
			if err := s.Write(context.Background(), []*recording.Record{rec}); err != nil {
				t.Error(err)
			}
		}()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			select {
			case <-done:
				if waits {
					t.Errorf("%s: the Write did not wait for the pass", where)
				}
				return
			default:
			}
			if waited(&s.flights) {
				if !waits {
					t.Errorf("%s: the Write waited", where)
				}
				return
			}
		}
		t.Error("the Write neither returned nor waited")
	}
	return done, func() bool { return once }
}

// waited reports whether a Write waits for a batch to end.
func waited(fl *flights) bool {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	for _, f := range fl.list {
		if f.done != nil && f.end == 0 {
			return true
		}
	}
	return false
}
