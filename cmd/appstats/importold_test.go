package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
	"github.com/goappstats/appstats/ui"
)

// Records older than Redis keeps them (its keys expire MaxAge after their
// hour) are not imported into Redis, and the count says so: before, they
// were counted as imported and were gone at once.
func TestImportIntoRedisSkipsExpired(t *testing.T) {
	r := testservers.StartRedis(t)
	// The cutoff: a record whose hour ends MaxAge or more before now is
	// skipped, so one a minute before the start of the hour that holds
	// now - MaxAge is, and one a minute after it is not. Should an hour
	// begin while the test runs, the cutoff would move: then it waits.
	now := time.Now()
	if next := now.Truncate(time.Hour).Add(time.Hour); next.Sub(now) < 30*time.Second {
		time.Sleep(next.Sub(now) + time.Second)
		now = time.Now()
	}
	cutoff := now.Add(-redisstore.DefaultMaxAge).Truncate(time.Hour)
	recs := append(storetest.Records(1, now.Add(-10*24*time.Hour), time.Second, 3),
		storetest.Records(2, now.Add(-time.Hour), time.Second, 2)...)
	recs = append(recs, storetest.Records(3, cutoff.Add(-time.Minute), time.Second, 1)...)
	recs = append(recs, storetest.Records(4, cutoff.Add(time.Minute), time.Second, 1)...)
	var in bytes.Buffer
	for _, rec := range recs {
		b, err := ui.MarshalRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		in.Write(append(b, '\n'))
	}
	target := []string{"-redis", "redis://" + r.Addr, "-prefix", "old"}
	code, stdout, stderr := appstats(t, in.String(), append([]string{"import"}, target...)...)
	if code != 0 || !strings.Contains(stdout, "imported 3 records (0 already stored; 4 skipped: older than Redis keeps records, 168h0m0s)") {
		t.Fatalf("import = %d, %q %q", code, stdout, stderr)
	}
	code, out, _ := appstats(t, "", append([]string{"export"}, target...)...)
	if got := strings.Count(out, "\n"); code != 0 || got != 3 {
		t.Errorf("export after import = %d, %d records; want the 2 recent and the one after the cutoff", code, got)
	}
}
