package ui_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
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
