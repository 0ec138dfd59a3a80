package redisstore_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// A record whose encoding is larger than the store reads back (64 MiB;
// lowered here with SetMaxValue, which sets the bound of writes and reads
// alike) is refused at Write: dropped and counted, with an error that says
// why and does not wrap ErrUnavailable, while the other records of the
// Write are stored. Before, it was stored, and then every read left it out
// as another program's value (Get said it was not found or damaged).
func TestRecordLargerThanReadsTake(t *testing.T) {
	s, _, ctx := startStore(t, redisstore.Options{FoldInterval: -1, RetentionInterval: -1})
	s.SetMaxValue(16 << 10)
	recs := storetest.Records(1, time.Now().Add(-time.Minute), time.Millisecond, 3)
	big := recs[1]
	big.Calls = nil
	pad := strings.Repeat("x", 480)
	for i := range 100 {
		big.Calls = append(big.Calls, recording.Call{Service: "sql", Method: "SELECT", Request: fmt.Sprintf("%d %s", i, pad), Duration: time.Millisecond})
	}
	err := s.Write(ctx, recs)
	if err == nil || errors.Is(err, redisstore.ErrUnavailable) || !strings.Contains(err.Error(), "larger") {
		t.Errorf("Write = %v; want an error saying a record is too large, not ErrUnavailable", err)
	}
	if ws := s.WriteStats(); ws.Written != 2 || ws.Dropped != 1 || ws.Down {
		t.Errorf("WriteStats = %+v; want 2 written, 1 dropped, not down", ws)
	}
	p, err := s.List(ctx, store.Query{Limit: 100})
	if err != nil || len(p.Records) != 2 {
		t.Errorf("List = %d records, %v; want the 2 stored", len(p.Records), err)
	}
	for _, rec := range []*recording.Record{recs[0], recs[2]} {
		if _, err := s.Get(ctx, rec.ID); err != nil {
			t.Errorf("Get of a stored record: %v", err)
		}
	}
	if h := s.Health(); h.Skipped != 0 {
		t.Errorf("Health = %+v; want nothing skipped (nothing unreadable stored)", h)
	}
}
