package httpstats_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptrace"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// TestConnectionReuseSame: whether the client's next request reuses the
// connection after a request whose body the handler left unread, read in
// part, closed, read whole, or read after answering (full duplex) — of 5,000
// bytes or of 1 MiB, past what the server reads of a body left (256 KiB),
// sent at once, after "100 Continue" (not to the full-duplex handler), or
// chunked — is the same bare and wrapped, over each protocol: the server
// decides it on the body it keeps, which the wrapper does not replace.
// (http.MaxBytesReader is the known exception: see curlCases' "max
// bytes".)
func TestConnectionReuseSame(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/unread", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "x") })
	mux.HandleFunc("/part", func(w http.ResponseWriter, r *http.Request) {
		io.ReadFull(r.Body, make([]byte, 10))
		io.WriteString(w, "x")
	})
	mux.HandleFunc("/closed", func(w http.ResponseWriter, r *http.Request) {
		r.Body.Close()
		io.WriteString(w, "x")
	})
	mux.HandleFunc("/all", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "x")
	})
	mux.HandleFunc("/fullduplex", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		rc.EnableFullDuplex()
		io.WriteString(w, "x")
		rc.Flush()
		io.Copy(io.Discard, r.Body)
	})
	rec, _ := newRecorder(t)
	for _, p := range protocols {
		servers := [2]string{}
		clients := [2]*http.Client{}
		for i, h := range []http.Handler{mux, httpstats.NewHandler(rec, mux)} {
			srv, client := startServer(t, h, p.tls, p.http2, true)
			servers[i], clients[i] = srv.URL, client
		}
		for _, path := range []string{"/unread", "/part", "/closed", "/all", "/fullduplex"} {
			for _, size := range []int{5000, 1 << 20} {
				for _, mode := range []string{"plain", "expect", "chunked"} {
					if path == "/fullduplex" && mode == "expect" {
						// Answered before the body is read, an Expect
						// request may wait for good, bare too (1 in 30
						// over HTTP/1: the client sends no body, the
						// handler waits for it).
						continue
					}
					var got [2][2]bool
					for i := range 2 {
						for j := range 2 {
							var reused bool
							tr := &httptrace.ClientTrace{GotConn: func(ci httptrace.GotConnInfo) { reused = ci.Reused }}
							var body io.Reader = bytes.NewReader(make([]byte, size))
							if mode == "chunked" {
								body = io.MultiReader(body) // no length known: chunked over HTTP/1
							}
							req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), tr), "POST", servers[i]+path, body)
							if mode == "expect" {
								req.Header.Set("Expect", "100-continue")
							}
							if resp, err := clients[i].Do(req); err == nil {
								io.Copy(io.Discard, resp.Body)
								resp.Body.Close()
							}
							got[i][j] = reused
						}
					}
					if got[0] != got[1] {
						t.Errorf("%s %s, %d bytes, %s: connection reused bare %v, wrapped %v", p.name, path, size, mode, got[0], got[1])
					}
				}
			}
		}
	}
}
