package httpstats_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
)

type plainW struct{ h http.Header }

func (w *plainW) Header() http.Header         { return w.h }
func (w *plainW) Write(p []byte) (int, error) { return len(p), nil }
func (w *plainW) WriteHeader(int)             {}

type flushW struct{ plainW }

func (*flushW) Flush() {}

type hijackW struct{ plainW }

func (*hijackW) Hijack() (net.Conn, *bufio.ReadWriter, error) { return nil, nil, http.ErrNotSupported }

type readFromW struct{ plainW }

func (*readFromW) ReadFrom(r io.Reader) (int64, error) { return io.Copy(io.Discard, r) }

type pushW struct{ plainW }

func (*pushW) Push(string, *http.PushOptions) error { return http.ErrNotSupported }

type stringW struct{ plainW }

func (*stringW) WriteString(s string) (int, error) { return len(s), nil }

// TestWriterTypesAlternate serves one handler with writers of six types in
// turn, more than the handler remembers, and checks that the writer the
// handler is given has exactly the optional interfaces of the one it
// wraps each time: types are told apart, and a forgotten one found again.
func TestWriterTypesAlternate(t *testing.T) {
	rec, _ := newRecorder(t)
	type ifaces struct{ flush, hijack, readFrom, push, str bool }
	var got ifaces
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, got.flush = w.(http.Flusher)
		_, got.hijack = w.(http.Hijacker)
		_, got.readFrom = w.(io.ReaderFrom)
		_, got.push = w.(http.Pusher)
		_, got.str = w.(io.StringWriter)
	}))
	cases := []struct {
		name string
		w    func() http.ResponseWriter
		want ifaces
	}{
		{"plain", func() http.ResponseWriter { return &plainW{h: http.Header{}} }, ifaces{}},
		{"flush", func() http.ResponseWriter { return &flushW{plainW{h: http.Header{}}} }, ifaces{flush: true}},
		{"hijack", func() http.ResponseWriter { return &hijackW{plainW{h: http.Header{}}} }, ifaces{hijack: true}},
		{"readFrom", func() http.ResponseWriter { return &readFromW{plainW{h: http.Header{}}} }, ifaces{readFrom: true}},
		{"push", func() http.ResponseWriter { return &pushW{plainW{h: http.Header{}}} }, ifaces{push: true}},
		{"string", func() http.ResponseWriter { return &stringW{plainW{h: http.Header{}}} }, ifaces{str: true}},
	}
	for round := range 3 {
		for _, c := range cases {
			got = ifaces{}
			h.ServeHTTP(c.w(), httptest.NewRequest("GET", "/w", nil))
			if got != c.want {
				t.Errorf("round %d, %s writer: the handler's writer has %+v, want %+v", round, c.name, got, c.want)
			}
		}
	}
}
