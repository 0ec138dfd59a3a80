package httpstats

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// fakeFlusher is a writer of no net/http type that has both Flush and
// FlushError, which may differ: its Flush is called as it is.
type fakeFlusher struct {
	http.ResponseWriter
	flushes, flushErrors int
}

func (f *fakeFlusher) Flush()            { f.flushes++ }
func (f *fakeFlusher) FlushError() error { f.flushErrors++; return nil }

// BenchmarkFlush measures the observed Flush path (respWriter.flush) on
// net/http's HTTP/1 writer, whose Flush is its FlushError (called for its
// error), and on a writer of another type, whose Flush is called as it is.
func BenchmarkFlush(b *testing.B) {
	b.Run("net/http", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rw := &respWriter{w: w}
			rw.flush() // the header goes out
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				rw.flush()
			}
			b.StopTimer()
			if rw.sendErr != nil {
				b.Error(rw.sendErr)
			}
		}))
		defer srv.Close()
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	})
	b.Run("other", func(b *testing.B) {
		f := &fakeFlusher{ResponseWriter: httptest.NewRecorder()}
		rw := &respWriter{w: f}
		b.ReportAllocs()
		for range b.N {
			rw.flush()
		}
		if f.flushes != b.N || f.flushErrors != 0 {
			b.Errorf("Flush called %d times, FlushError %d, for %d flushes", f.flushes, f.flushErrors, b.N)
		}
	})
}
