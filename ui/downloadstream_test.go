package ui_test

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// writesRecorder is a ResponseWriter that keeps the body and the length
// of its largest Write.
type writesRecorder struct {
	*httptest.ResponseRecorder
	largest int
	writes  int
}

func (w *writesRecorder) Write(b []byte) (int, error) {
	w.largest = max(w.largest, len(b))
	w.writes++
	return w.ResponseRecorder.Write(b)
}

func downloadRecord(h http.Handler, id recording.ID, w http.ResponseWriter) {
	r := httptest.NewRequestWithContext(context.Background(), "GET", "/stats/api/records/"+id.String()+"?download=1", nil)
	r.RemoteAddr, r.Host = local, local
	h.ServeHTTP(w, r)
}

// The download of a record of 2,000 calls (?download=1, every call, more
// than a page's 1,000) is written a call at a time, through a buffer of
// 32 KiB: no write is larger, where the handler built the JSON of every
// call, then the whole answer (1.1 MB here), and wrote it at once; and
// the bytes, NaN and infinite costs and invalid UTF-8 among them (what a
// call's JSON cannot fail to encode), are those of
// ui.MarshalRecord, which appstats import reads, as before.
func TestAPIRecordDownloadStreamed(t *testing.T) {
	st := memstore.New(0)
	defer st.Close()
	const n = 2000
	r := makeRecord(time.Now().Add(-time.Minute), 1, "/big", 200, n)
	r.Headers = map[string][]string{"calls": {}} // a key the split must not take for the field
	r.Calls[7].Method = `"calls":[] </script>` + "\u2028"
	// What the JSON of a call makes of what encoding/json refuses.
	r.Calls[8].Cost, r.Calls[9].Cost, r.Calls[10].Method = math.NaN(), math.Inf(-1), "bad \xff UTF-8"
	writeRecs(t, st, r)
	h := ui.NewHandler(st)
	w := &writesRecorder{ResponseRecorder: httptest.NewRecorder()}
	downloadRecord(h, r.ID, w)
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body.String()[:min(w.Body.Len(), 300)])
	}
	got, _ := st.Get(context.Background(), r.ID)
	want, err := ui.MarshalRecord(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(w.Body.Bytes(), append(want, '\n')) {
		t.Errorf("the download (%d bytes) is not MarshalRecord's JSON (%d bytes)", w.Body.Len(), len(want)+1)
	}
	back, err := ui.UnmarshalRecord(w.Body.Bytes())
	if err != nil {
		t.Errorf("UnmarshalRecord: %v", err)
	} else if len(back.Calls) != n {
		t.Errorf("UnmarshalRecord: %d calls, want %d", len(back.Calls), n)
	}
	if w.largest > 32<<10 {
		t.Errorf("the download of %d bytes was written in %d writes, the largest %d bytes; want none over 32 KiB",
			w.Body.Len(), w.writes, w.largest)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := w.Header().Get("Content-Disposition"); cd != `attachment; filename="appstats-`+r.ID.String()+`.json"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
}

// TestMeasureDownloadHeap is not a test but a measurement (set
// APPSTATS_MEASURE=1): the peak heap in use while the handler answers the
// download of a record of DOWNLOAD_CALLS calls (default 100,000), sampled
// every 200 µs, and what the store's copy of the record (Get) takes of it.
// It asserts nothing.
func TestMeasureDownloadHeap(t *testing.T) {
	if os.Getenv(measureEnv) != "1" {
		t.Skipf("a measurement: set %s=1 to run it", measureEnv)
	}
	n := 100000
	if s := os.Getenv("DOWNLOAD_CALLS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	st := memstore.New(0)
	defer st.Close()
	r := makeRecord(time.Now().Add(-time.Minute), 1, "/big", 200, n)
	writeRecs(t, st, r)
	h := ui.NewHandler(st)
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	runtime.GC()
	before := heap()
	got, err := st.Get(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the record as the store gives it: +%.1f MB of heap", (float64(heap())-float64(before))/1e6)
	runtime.KeepAlive(got)
	got = nil
	for range 3 {
		runtime.GC()
		base := heap()
		var peak atomic.Uint64
		done := make(chan struct{})
		stopped := make(chan struct{})
		go func() {
			defer close(stopped)
			for {
				if v := heap(); v > peak.Load() {
					peak.Store(v)
				}
				select {
				case <-done:
					return
				case <-time.After(200 * time.Microsecond):
				}
			}
		}()
		w := &writesRecorder{ResponseRecorder: httptest.NewRecorder()}
		w.Body = nil // the body discarded: only the handler's own memory
		downloadRecord(h, r.ID, w)
		close(done)
		<-stopped
		t.Logf("calls %d: status %d, %d writes, the largest %d bytes; heap %.1f MB before, peak %.1f MB (+%.1f MB)",
			n, w.Code, w.writes, w.largest, float64(base)/1e6, float64(peak.Load())/1e6, (float64(peak.Load())-float64(base))/1e6)
	}
}
