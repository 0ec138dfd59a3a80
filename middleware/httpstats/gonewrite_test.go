package httpstats_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// TestHTTP1WriteToGoneClient documents what the record says of an HTTP/1
// response written after the client left (its connection closed, the
// request's context done): the client got none of it. net/http takes a
// small body (2,000 bytes here) into its buffers, answers the write with
// no error, and flushes the buffers after the handler returned, dropping
// that flush's error: the record, which has what the writer answered, says
// 200 with the 2,000 bytes and no error. A body past the buffers (1 MiB)
// reaches the connection while the handler writes: the write fails, and
// the record has the error and the bytes net/http took before it failed
// — more than the client got (none), fewer than the handler wrote.
func TestHTTP1WriteToGoneClient(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int
		wantErr bool
	}{
		{"buffered", 2000, false},
		{"past-the-buffers", 1 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			var wrote int
			var werr error
			srv := httptest.NewServer(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				<-r.Context().Done() // the client closed its connection
				wrote, werr = w.Write([]byte(strings.Repeat("x", tc.size)))
			})))
			defer srv.Close()
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			c.Close()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			r := recs[0]
			if (werr != nil) != tc.wantErr || r.Status != http.StatusOK || r.ResponseBytes != int64(wrote) || (r.Error != "") != tc.wantErr {
				t.Errorf("the handler's write: %d bytes, error %v; recorded status %d, %d bytes, error %q; want 200, the bytes the write took, an error %v",
					wrote, werr, r.Status, r.ResponseBytes, r.Error, tc.wantErr)
			}
			if tc.wantErr && (wrote == 0 || wrote >= tc.size) {
				t.Errorf("the failed write took %d of %d bytes, want some, not all", wrote, tc.size)
			}
			t.Logf("write took %d of %d bytes, error %v; recorded %d bytes, error %q", wrote, tc.size, werr, r.ResponseBytes, r.Error)
		})
	}
}
