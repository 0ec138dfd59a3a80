package recording_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/memstore"
)

// borrowingDiscard drops records and keeps none of them: a
// recording.Borrower, as the stores that persist are, so the recorder
// reuses records.
type borrowingDiscard struct{}

func (borrowingDiscard) Write(context.Context, []*recording.Record) error { return nil }
func (borrowingDiscard) BorrowsRecords() bool                             { return true }

// BenchmarkPipeline is the load test's request (cmd/appstats-bench's hello
// scenario: GET /hello from Go's HTTP client, through httpstats and a
// ServeMux) end to end, the recorder's writer included: the goroutine
// yields after each request, so that the preparer and the sink's goroutine
// run as they would on another core, a batch at a time. Instructions per
// request (callgrind, as scripts/callgrind-middleware.sh counts them) cover
// the request path, the writer's preparation, the hand-offs and the sink:
// borrowed, into a sink that keeps nothing (the recorder reuses records, as
// with badgerstore); kept, into a sink that keeps records (none reused);
// memstore, into package memstore's store (full: each record evicts one;
// a Borrower, which encodes the records it keeps);
// badger, into package badgerstore's store with a budget of one record a
// second (so that nearly every record goes over it, as in the load test at
// thousands of requests a second: counted in the rollups and held in the
// ring), Badger's own goroutines included.
func BenchmarkPipeline(b *testing.B) {
	kept := recording.SinkFunc(func(context.Context, []*recording.Record) error { return nil })
	for _, c := range []struct {
		name string
		sink func(*testing.B) recording.Sink
	}{
		{"borrowed", func(*testing.B) recording.Sink { return borrowingDiscard{} }},
		{"kept", func(*testing.B) recording.Sink { return kept }},
		{"memstore", func(*testing.B) recording.Sink { return memstore.New(0) }},
		{"badger", func(b *testing.B) recording.Sink {
			st, err := badgerstore.Open(b.TempDir(), badgerstore.Options{RecordBudget: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			rec := recording.New(recording.WithSinks(c.sink(b)))
			app := http.NewServeMux()
			app.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "hello")
			})
			h := httpstats.NewHandler(rec, app)
			req := httptest.NewRequest("GET", "/hello", nil)
			u := *req.URL
			serve := func() {
				// As a server parses each request into new strings, so
				// that nothing is found by its address alone.
				r := *req
				r.URL, u.Path = &u, strings.Clone("/hello")
				r.RequestURI = u.Path
				r.Header = http.Header{
					"User-Agent":      {strings.Clone("Go-http-client/1.1")},
					"Accept-Encoding": {strings.Clone("gzip")},
				}
				h.ServeHTTP(httptest.NewRecorder(), &r)
				runtime.Gosched()
			}
			// Warm up: the pool and the caches filled, memstore full.
			for range 6000 {
				serve()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				serve()
			}
			b.StopTimer()
			if err := rec.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
			// A record dropped (a queue full) would leave its work out.
			b.ReportMetric(float64(rec.Stats().Dropped), "dropped")
		})
	}
}
