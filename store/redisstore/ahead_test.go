package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Records that start more than MaxAhead after Redis's clock (a writer
// whose clock runs ahead) are refused at write and counted, so that they
// do not stay on top of every listing until the fleet's time catches up
// with them; the records of the same Write that are not ahead are stored,
// and so are records a little ahead (within MaxAhead). Before, they were
// stored, and List's first page was the future's.
func TestRecordsFromTheFuture(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	s := openAt(t, "redis://"+r.Addr, redisstore.Options{FoldInterval: -1, RetentionInterval: -1})
	now := time.Now()
	recs := append(storetest.Records(1, now.Add(-time.Minute), time.Millisecond, 10),
		storetest.Records(2, now.Add(24*time.Hour), time.Millisecond, 10)...)
	recs = append(recs, storetest.Records(3, now.Add(redisstore.MaxAhead/2), time.Millisecond, 1)...)
	err := s.Write(ctx, recs)
	if err == nil || errors.Is(err, redisstore.ErrUnavailable) || !strings.Contains(err.Error(), "ahead") {
		t.Errorf("Write = %v; want an error saying the records are ahead, not ErrUnavailable", err)
	}
	if ws := s.WriteStats(); ws.Written != 11 || ws.Dropped != 10 || ws.Ahead != 10 || ws.Down {
		t.Errorf("WriteStats = %+v; want 11 written, 10 dropped as ahead, not down", ws)
	}
	p, err := s.List(ctx, store.Query{Limit: 100})
	if err != nil || len(p.Records) != 11 {
		t.Fatalf("List = %d records, %v; want 11", len(p.Records), err)
	}
	if top := p.Records[0].Start; top.After(now.Add(redisstore.MaxAhead)) {
		t.Errorf("List's first record starts at %v, from the future", top)
	}
	// A write of none but records from the future stores nothing.
	if err := s.Write(ctx, storetest.Records(4, now.Add(time.Hour), time.Millisecond, 3)); err == nil || errors.Is(err, redisstore.ErrUnavailable) {
		t.Errorf("Write of records from the future alone = %v", err)
	}
	if ws := s.WriteStats(); ws.Written != 11 || ws.Ahead != 13 || ws.Down {
		t.Errorf("WriteStats = %+v; want 11 written, 13 ahead, not down", ws)
	}
}
