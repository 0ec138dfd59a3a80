package ui_test

import (
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// TestSlowestTruncatedOnlyWhenMore: api/records?sort=duration says
// "truncated" only when more records match than the 10,000 it sorts; on
// main exactly 10,000 were said to be more.
func TestSlowestTruncatedOnlyWhenMore(t *testing.T) {
	type list struct {
		Records   []struct{ ID string }
		Truncated bool
	}
	now := time.Now()
	for n, want := range map[int]bool{9999: false, 10000: false, 10001: true} {
		st := memstore.New(n)
		recs := make([]*recording.Record, n)
		for i := range recs {
			recs[i] = makeRecord(now.Add(-time.Duration(n-i)*time.Millisecond), uint64(i+1), "/p", 200, 0)
		}
		writeRecs(t, st, recs...)
		got := decode[list](t, do(ui.NewHandler(st), "GET", "/stats/api/records?sort=duration&limit=5", nil))
		if len(got.Records) != 5 || got.Truncated != want {
			t.Errorf("%d records: %d listed, truncated %v; want 5, %v", n, len(got.Records), got.Truncated, want)
		}
	}
}
