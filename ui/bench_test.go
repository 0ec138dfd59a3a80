package ui_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/ui"
)

// BenchmarkDetails renders the details page of a record with 1,000 calls.
func BenchmarkDetails(b *testing.B) {
	st, _ := newStore(b, 0)
	rec := makeRecord(time.Now(), 1, "/big", 200, 1000)
	if err := st.Write(context.Background(), []*recording.Record{rec}); err != nil {
		b.Fatal(err)
	}
	h := ui.NewHandler(st)
	target := "/stats/records/" + rec.ID.String()
	b.ReportAllocs()
	b.ResetTimer()
	var size int
	for b.Loop() {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", target, nil)
		r.RemoteAddr, r.Host = local, local
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/page")
}

// BenchmarkDetailsBig renders the details page of a record with 10,000
// calls, above the recorder's default cap (recording.WithMaxCalls): its
// first page.
func BenchmarkDetailsBig(b *testing.B) {
	st, _ := newStore(b, 0)
	rec := makeRecord(time.Now(), 1, "/big", 200, 10000)
	if err := st.Write(context.Background(), []*recording.Record{rec}); err != nil {
		b.Fatal(err)
	}
	h := ui.NewHandler(st)
	target := "/stats/records/" + rec.ID.String()
	b.ReportAllocs()
	var size int
	for b.Loop() {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", target, nil)
		r.RemoteAddr, r.Host = local, local
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size), "bytes/page")
}

// BenchmarkDashboard renders the dashboard over a memstore of 5,000 records.
func BenchmarkDashboard(b *testing.B) {
	st, _ := newStore(b, 5000)
	h := ui.NewHandler(st)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/stats/?window=24h", nil)
		r.RemoteAddr, r.Host = local, local
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkAPIRecord encodes the JSON of a record with 1,000 calls.
func BenchmarkAPIRecord(b *testing.B) {
	st, _ := newStore(b, 0)
	rec := makeRecord(time.Now(), 1, "/big", 200, 1000)
	if err := st.Write(context.Background(), []*recording.Record{rec}); err != nil {
		b.Fatal(err)
	}
	h := ui.NewHandler(st)
	target := "/stats/api/records/" + rec.ID.String()
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", target, nil)
		r.RemoteAddr, r.Host = local, local
		h.ServeHTTP(w, r)
	}
}

// BenchmarkLiveWrite is the cost the recorder's writer pays per batch with
// ten subscribed dashboards that never read.
func BenchmarkLiveWrite(b *testing.B) {
	l := ui.NewLive()
	defer l.Close()
	st, _ := newStore(b, 0)
	srv := httptest.NewServer(ui.NewHandler(st, ui.WithLive(l), ui.WithPrefix("/")))
	defer srv.Close()
	for range 10 {
		resp, err := srv.Client().Get(srv.URL + "/events")
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
	}
	recs := []*recording.Record{makeRecord(time.Now(), 1, "/", 200, 1)}
	b.ReportAllocs()
	for b.Loop() {
		_ = l.Write(context.Background(), recs)
	}
}

// helloRecords returns n records of the load test's hello handler (GET
// /hello, 200, no calls) starting at from, every gap.
func helloRecords(from time.Time, gap time.Duration, n int, seq uint64) []*recording.Record {
	recs := make([]*recording.Record, n)
	for i := range recs {
		t := from.Add(time.Duration(i) * gap)
		recs[i] = &recording.Record{
			ID: recID(t, seq+uint64(i)), Kind: recording.KindHTTP, Start: t, Duration: 40 * time.Microsecond,
			Method: "GET", Path: "/hello", Route: "GET /hello", Status: 200, ResponseBytes: 5,
			Remote: "127.0.0.1:40000", Instance: "bench/1", Overhead: 3 * time.Microsecond,
		}
	}
	return recs
}

// BenchmarkLiveRefreshBadger is one refresh of an open dashboard (what
// the page's script fetches on news: part/refresh, the stats and history
// sections in one answer, and api/series) over a Badger
// store filled as the load test's ui scenario fills it: the hello handler's
// records, 10,000 a second for the last minute, written in batches of 128
// (the recorder's until recording.DefaultBatchSize became 256).
func BenchmarkLiveRefreshBadger(b *testing.B) {
	st, err := badgerstore.Open(b.TempDir(), badgerstore.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const rate, span, batch = 10_000, 60, 128
	from := time.Now().Add(-span * time.Second)
	all := helloRecords(from, time.Second/rate, rate*span, 1)
	for i := 0; i < len(all); i += batch {
		if err := st.Write(context.Background(), all[i:min(i+batch, len(all))]); err != nil {
			b.Fatal(err)
		}
	}
	h := ui.NewHandler(st)
	refresh := []string{"part/refresh?window=", "api/series?window="}
	parts := []string{"part/stats?window=", "part/history?window=", "part/refresh?window=", "api/series?window="}
	get := func(b *testing.B, p string) {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/stats/"+p, nil)
		r.RemoteAddr, r.Host = local, local
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			b.Fatal(p, w.Code, w.Body.String())
		}
	}
	b.Run("refresh", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range refresh {
				get(b, p)
			}
		}
	})
	for _, p := range parts {
		b.Run(strings.TrimSuffix(p, "?window="), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				get(b, p)
			}
		})
	}
}

// BenchmarkCompare serves the comparison of two records of 10,000 calls
// each (above the recorder's default cap, so their details pages are paged
// and the compare page links each call with its page): the page's first
// page of rows, and api/compare's first page of calls.
func BenchmarkCompare(b *testing.B) {
	st, _ := newStore(b, 0)
	now := time.Now()
	a, c := makeRecord(now, 1, "/big", 200, 10000), makeRecord(now.Add(time.Millisecond), 2, "/big", 200, 10000)
	if err := st.Write(context.Background(), []*recording.Record{a, c}); err != nil {
		b.Fatal(err)
	}
	h := ui.NewHandler(st)
	for _, bm := range []struct{ name, target string }{
		{"page", "/stats/compare?a=" + a.ID.String() + "&b=" + c.ID.String()},
		{"api", "/stats/api/compare?a=" + a.ID.String() + "&b=" + c.ID.String()},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				w := httptest.NewRecorder()
				r := httptest.NewRequest("GET", bm.target, nil)
				r.RemoteAddr, r.Host = local, local
				h.ServeHTTP(w, r)
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}
