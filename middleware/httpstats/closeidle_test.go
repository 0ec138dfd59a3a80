package httpstats_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// TestTransportCloseIdleConnections checks that [http.Client.CloseIdleConnections]
// reaches the base transport through the recording one, as it does without
// it: the next request dials a new connection rather than reusing the idle
// one. Over HTTP/1.1 and HTTP/2.
func TestTransportCloseIdleConnections(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		name := "http1"
		if h2 {
			name = "http2"
		}
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "ok")
			}))
			srv.EnableHTTP2 = h2
			srv.StartTLS()
			defer srv.Close()
			base := srv.Client().Transport
			for _, wrapped := range []bool{false, true} {
				client := &http.Client{Transport: base}
				if wrapped {
					client.Transport = httpstats.NewTransport(base)
				}
				get := func() (reused bool) {
					t.Helper()
					ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
						GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused },
					})
					req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
					resp, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if h2 && resp.ProtoMajor != 2 {
						t.Fatalf("protocol %s", resp.Proto)
					}
					return reused
				}
				get()
				if !get() {
					t.Fatalf("wrapped %v: the second request did not reuse the connection", wrapped)
				}
				client.CloseIdleConnections()
				if get() {
					t.Errorf("wrapped %v: a request after CloseIdleConnections reused an idle connection", wrapped)
				}
				client.CloseIdleConnections()
			}
		})
	}
}
