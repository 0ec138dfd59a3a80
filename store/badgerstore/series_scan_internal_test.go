package badgerstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/storekit"
	"github.com/goappstats/appstats/store/storetest"
)

// TestSeriesOverScatteredRollups: Series counts every bucket as the
// records say when the stored minute and hour rollups it reads lie apart,
// with buckets between them that have none, and when some minutes hold
// pending deltas only. Series' buckets read the rollups of one prefix in
// ascending ranges from one iterator, seeking only when it does not
// already stand at the first key of the next range (reader.scan): a bucket
// that took the iterator's place for its own would count another bucket's
// rollup, or miss its own.
func TestSeriesOverScatteredRollups(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{FoldInterval: -1, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	start := time.Now().Add(-6 * time.Hour).Truncate(time.Hour)
	var sums []*recording.Summary
	write := func(seed uint64, at time.Duration, n int) {
		t.Helper()
		recs := storetest.Records(seed, start.Add(at), 10*time.Second, n)
		if err := s.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			sum := r.Summary()
			sums = append(sums, &sum)
		}
	}
	// Folded into minute and hour rollups: groups of minutes with gaps
	// of empty minutes, and an hour with nothing.
	write(1, 0, 18)                            // minutes 0–2
	write(2, 7*time.Minute, 6)                 // minute 7
	write(3, 30*time.Minute+20*time.Second, 3) // minute 30
	write(4, 61*time.Minute, 30)               // minutes 61–65
	write(5, 3*time.Hour+10*time.Minute, 12)   // minutes 190–191
	if err := s.fold(); err != nil {
		t.Fatal(err)
	}
	// Pending, not folded: a minute with a rollup and one without.
	write(6, 7*time.Minute+30*time.Second, 2)
	write(7, 45*time.Minute, 6)

	for _, tt := range []struct {
		from, to time.Duration
		step     time.Duration
	}{
		{-time.Hour, 4 * time.Hour, time.Minute},
		{0, 4 * time.Hour, 3 * time.Minute},
		{0, 4 * time.Hour, 7 * time.Minute},
		{-time.Hour, 5 * time.Hour, time.Hour},
		{-90 * time.Minute, 5 * time.Hour, 20 * time.Minute},
		{5 * time.Minute, 200 * time.Minute, 7*time.Minute + 13*time.Second},
		{0, 10 * time.Minute, 90 * time.Second},
	} {
		w := store.Window{Since: start.Add(tt.from), Until: start.Add(tt.to)}
		t.Run(fmt.Sprintf("%v-%v/%v", tt.from, tt.to, tt.step), func(t *testing.T) {
			got, err := s.Series(ctx, w, tt.step)
			if err != nil {
				t.Fatal(err)
			}
			want := storekit.ExactSeries(w, tt.step, sums)
			if len(got) != len(want) {
				t.Fatalf("%d buckets, want %d", len(got), len(want))
			}
			var total int64
			for i := range want {
				g, w := got[i], want[i]
				total += g.Requests
				if !g.Start.Equal(w.Start) || g.Requests != w.Requests || g.Errors != w.Errors || g.Calls != w.Calls {
					t.Errorf("bucket %d (%v) = %d requests, %d errors, %d calls; want %d, %d, %d",
						i, g.Start.Sub(start), g.Requests, g.Errors, g.Calls, w.Requests, w.Errors, w.Calls)
				}
			}
			if total == 0 {
				t.Error("the series counts nothing")
			}
		})
	}
}
