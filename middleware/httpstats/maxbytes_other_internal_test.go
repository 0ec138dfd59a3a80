package httpstats

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestMaxBytesReaderOfAnotherWriter: a handler that puts in r.Body an
// http.MaxBytesReader made with another request's writer (another
// respWriter of the middleware's), which hit its limit, does not have the
// middleware close its own request's connection: bodyLimitHit tells the
// writer under rw only of a reader made with rw's writer, as net/http
// tells only the writer the reader was made with.
func TestMaxBytesReaderOfAnotherWriter(t *testing.T) {
	rec := recording.New(recording.WithSinks(recordingtest.NewSink()))
	defer rec.Close(t.Context())
	other := &respWriter{w: httptest.NewRecorder()}
	srv := httptest.NewServer(NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(wrapMask(other, 0), io.NopCloser(strings.NewReader("over the limit")), 1)
		if _, err := io.ReadAll(r.Body); err == nil {
			t.Error("the reader did not hit its limit")
		}
		io.WriteString(w, "ok")
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.Close || resp.Header.Get("Connection") == "close" {
		t.Errorf("the response closes the connection (Connection: %q): another writer's reader told this one", resp.Header.Get("Connection"))
	}
}
