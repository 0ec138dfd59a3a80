package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// A Redis that is full (maxmemory reached, policy noeviction) refuses the
// store's writes; retention, which frees memory, still deletes what the
// limits say: whole hours, and the oldest records of an hour.
func TestRetentionFreesAFullRedis(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()
	c := clientOf(t, r.Addr)
	setMax := func(v string) {
		t.Helper()
		if err := c.ConfigSet(ctx, "maxmemory", v).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		maxRecords   int64
		deleted, hrs int64
	}{
		{maxRecords: 100, deleted: 100, hrs: 1}, // the old hour goes whole
		{maxRecords: 150, deleted: 50, hrs: 0},  // half of it goes
	} {
		setMax("0")
		s := openAt(t, "redis://"+r.Addr, redisstore.Options{FoldInterval: -1, RetentionInterval: -1, MaxRecords: tc.maxRecords})
		now := time.Now()
		// Two hours apart, and the newer in the middle of its hour.
		if err := s.Write(ctx, storetest.Records(1, now.Add(-3*time.Hour), time.Millisecond, 100)); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(ctx, storetest.Records(2, now.Add(-time.Minute), time.Millisecond, 100)); err != nil {
			t.Fatal(err)
		}
		setMax("1") // Redis is now over its limit
		err := s.Write(ctx, storetest.Records(3, now, time.Millisecond, 10))
		if !errors.Is(err, redisstore.ErrUnavailable) || !strings.Contains(err.Error(), "OOM") {
			t.Fatalf("Write to a full Redis = %v, want ErrUnavailable for OOM", err)
		}
		res, err := s.Retain(ctx)
		if !res.Ran || res.Deleted != tc.deleted || res.Hours != tc.hrs {
			t.Errorf("MaxRecords %d: Retain in a full Redis = %+v, %v; want %d records deleted, %d hours whole",
				tc.maxRecords, res, err, tc.deleted, tc.hrs)
		}
		// Trimming an hour rebuilds its rollups, a write a full Redis may
		// refuse (EXECABORT for OOM): the records are gone all the same.
		if err != nil && (tc.hrs != 0 || !strings.Contains(err.Error(), "EXECABORT")) {
			t.Errorf("MaxRecords %d: Retain = %v", tc.maxRecords, err)
		}
		setMax("0")
		if u, err := s.Usage(ctx); err != nil || u.Records != tc.maxRecords {
			t.Errorf("MaxRecords %d: after retention in a full Redis the store holds %d records, %v", tc.maxRecords, u.Records, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
