package badgerstore

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// TestRetainRacingRewrite: a record written again (at the same start)
// while a retention pass that deletes it, one by one (MaxRecords) or
// with its whole index block (MaxAge), has read what it deletes but not
// yet deleted it: afterwards Len counts what List lists, Get reads a
// record if and only if List lists it, and a recount at Open agrees.
func TestRetainRacingRewrite(t *testing.T) {
	for _, byAge := range []bool{false, true} {
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
		once := false
		s.trimHook = func() {
			if !once {
				once = true
				if err := s.Write(ctx, []*recording.Record{&again}); err != nil {
					t.Error(err)
				}
			}
		}
		if _, err := s.Retain(ctx); err != nil {
			t.Fatal(err)
		}
		s.trimHook = nil
		ids := listIDs(t, s, store.Query{})
		listed := slices.Contains(ids, again.ID)
		_, err := s.Get(ctx, again.ID)
		if listed != (err == nil) || err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Errorf("byAge %v: the record written again is listed: %v; Get: %v", byAge, listed, err)
		}
		if s.Len() != len(ids) {
			t.Errorf("byAge %v: Len %d, List %d records", byAge, s.Len(), len(ids))
		}
		size, n := s.Size(), s.Len()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		s = recount(t, dir, blockOpts())
		if s.Size() != size || s.Len() != n {
			t.Errorf("byAge %v: Size %d, Len %d; recounted %d, %d", byAge, size, n, s.Size(), s.Len())
		}
		s.Close()
	}
}
