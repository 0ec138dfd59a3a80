package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store/storetest"
)

// TestImportKeepsEveryRecord imports an export of one busy route (hundreds
// of records within a second, far over badgerstore's default storage
// budget): every record it reports imported is persisted, and a second
// import of the same export finds them all and counts none twice.
func TestImportKeepsEveryRecord(t *testing.T) {
	recs := storetest.Records(3, time.Now().Add(-time.Hour).Truncate(time.Second), time.Millisecond, 300)
	dir := dataDir(t, recs)
	out := filepath.Join(t.TempDir(), "records.jsonl")
	appstats(t, "", "export", "-data", dir, "-o", out)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	n := bytes.Count(b, []byte("\n"))
	if n < 100 {
		t.Fatalf("exported %d records, want at least 100", n)
	}
	target := filepath.Join(t.TempDir(), "new")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	appstats(t, string(b), "import", "-data", target)
	_, mid, _ := appstats(t, "", "export", "-data", target)
	if got := strings.Count(mid, "\n"); got != n {
		t.Errorf("first import persisted %d of %d records", got, n)
	}
	_, again, _ := appstats(t, string(b), "import", "-data", target)
	if !strings.Contains(again, "imported 0 records") {
		t.Errorf("second import: %q, want nothing imported", strings.TrimSpace(again))
	}
}
