package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store/storetest"
	"github.com/goappstats/appstats/ui"
)

// Records older than Redis keeps them (its keys expire MaxAge after their
// hour) are not imported into Redis, and the count says so: before, they
// were counted as imported and were gone at once.
func TestImportIntoRedisSkipsExpired(t *testing.T) {
	r := testservers.StartRedis(t)
	recs := append(storetest.Records(1, time.Now().Add(-10*24*time.Hour), time.Second, 3),
		storetest.Records(2, time.Now().Add(-time.Hour), time.Second, 2)...)
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
	if code != 0 || !strings.Contains(stdout, "imported 2 records (0 already stored; 3 skipped: older than Redis keeps records, 168h0m0s)") {
		t.Fatalf("import = %d, %q %q", code, stdout, stderr)
	}
	code, out, _ := appstats(t, "", append([]string{"export"}, target...)...)
	if got := strings.Count(out, "\n"); code != 0 || got != 2 {
		t.Errorf("export after import = %d, %d records; want the 2 recent", code, got)
	}
}
