package main

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/badgerstore"
)

// TestServeExecTrace: serve offers a record's execution trace for download
// when the data directory keeps it, as the service's own dashboard does:
// over a directory it opens read-only, and over copies of one a running
// service holds. The details page links to the download either way.
func TestServeExecTrace(t *testing.T) {
	recs := testRecords(7, 5)
	data := bytes.Repeat([]byte("go 1.25 trace\x00"), 100)
	traced := recs[4]
	traced.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: traced.Start.Add(traced.Duration), Reason: "slow"}

	get := func(t *testing.T, url string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	check := func(t *testing.T, args ...string) {
		t.Helper()
		stdout, _, stop := background(t, append([]string{"serve", "-addr", "127.0.0.1:0"}, args...)...)
		base := dashboardURL(t, stdout)
		if code, page := get(t, base+"records/"+traced.ID.String()); code != 200 || !bytes.Contains(page, []byte("/trace\" download=")) {
			t.Fatalf("details page: %d, a download link: %v", code, bytes.Contains(page, []byte("download=")))
		}
		if code, b := get(t, base+"api/records/"+traced.ID.String()+"/trace"); code != 200 || !bytes.Equal(b, data) {
			t.Errorf("the trace download: %d, %.100s; want 200 and the %d bytes stored", code, b, len(data))
		}
		if code := stop(); code != 0 {
			t.Errorf("serve exit status %d", code)
		}
	}
	t.Run("read-only", func(t *testing.T) { check(t, "-data", dataDir(t, recs)) })
	t.Run("held", func(t *testing.T) {
		t.Setenv("TMPDIR", t.TempDir())
		dir := dataDir(t, recs)
		w, err := badgerstore.Open(dir, badgerstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		check(t, "-data", dir, "-refresh", time.Hour.String())
	})
}
