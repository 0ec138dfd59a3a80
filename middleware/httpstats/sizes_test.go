package httpstats_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// callAndServe makes one request, recorded as a call of a record of rec,
// to a server whose handler rec records too, and returns the server's
// record and the client's call.
func callAndServe(t *testing.T, rec *recording.Recorder, client *http.Client, req *http.Request) (resp *http.Response, body string) {
	t.Helper()
	ctx, ar := rec.StartRecord(req.Context(), recording.RequestInfo{Method: "GET", Path: "/client"})
	resp, err := client.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ar.Finish()
	return resp, string(b)
}

// serverAndCall splits the records of one callAndServe.
func serverAndCall(t *testing.T, recs []*recording.Record, path string) (*recording.Record, recording.Call) {
	t.Helper()
	var server, client *recording.Record
	for _, r := range recs {
		switch r.Path {
		case path:
			server = r
		case "/client":
			client = r
		}
	}
	if server == nil || client == nil || len(client.Calls) != 1 {
		t.Fatalf("records %+v: want the server's record of %s and a client record with one call", recs, path)
	}
	return server, client.Calls[0]
}

// TestSizesHEAD checks that a HEAD response records 0 body bytes, in the
// server's record and in the client's call, although the handler wrote the
// body (which the server drops) and the response says Content-Length: 24.
func TestSizesHEAD(t *testing.T) {
	const body = "twenty-four bytes of it!"
	for _, p := range protocols {
		for _, method := range []string{"GET", "HEAD"} {
			t.Run(p.name+"/"+method, func(t *testing.T) {
				rec, sink := newRecorder(t)
				srv, client := startServer(t, httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Length", fmt.Sprint(len(body)))
					io.WriteString(w, body)
				})), p.tls, p.http2)
				client.Transport = httpstats.NewTransport(client.Transport)
				req, _ := http.NewRequest(method, srv.URL+"/doc", nil)
				resp, got := callAndServe(t, rec, client, req)
				want := int64(len(body))
				if method == "HEAD" {
					want = 0
				}
				if int64(len(got)) != want || resp.ContentLength != int64(len(body)) {
					t.Fatalf("client read %d bytes, Content-Length %d", len(got), resp.ContentLength)
				}
				server, call := serverAndCall(t, flush(t, rec, sink), "/doc")
				if server.ResponseBytes != want || call.ResponseSize != want {
					t.Errorf("%s: server recorded %d response bytes, the call %d; want %d", method, server.ResponseBytes, call.ResponseSize, want)
				}
			})
		}
	}
}

// TestSizesExpectContinue sends a 5,000-byte body with "Expect:
// 100-continue" to a handler that answers 417 without reading it (so the
// client never sends it) and to one that reads it: the server's record and
// the client's call count 0 and 5,000 request bytes.
func TestSizesExpectContinue(t *testing.T) {
	payload := strings.Repeat("x", 5000)
	for _, p := range protocols {
		for _, path := range []string{"/reject", "/accept"} {
			t.Run(p.name+path, func(t *testing.T) {
				rec, sink := newRecorder(t)
				mux := http.NewServeMux()
				mux.HandleFunc("/reject", func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, "no uploads here", http.StatusExpectationFailed)
				})
				mux.HandleFunc("/accept", func(w http.ResponseWriter, r *http.Request) {
					n, _ := io.Copy(io.Discard, r.Body)
					fmt.Fprint(w, n)
				})
				srv, client := startServer(t, httpstats.NewHandler(rec, mux), p.tls, p.http2)
				tr := client.Transport.(*http.Transport)
				tr.ExpectContinueTimeout = time.Minute // the client waits for the server's word
				client.Transport = httpstats.NewTransport(tr)
				req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(payload))
				req.Header.Set("Expect", "100-continue")
				resp, got := callAndServe(t, rec, client, req)
				want := int64(len(payload))
				if path == "/reject" {
					want = 0
					if resp.StatusCode != http.StatusExpectationFailed {
						t.Fatalf("status %d", resp.StatusCode)
					}
				} else if got != fmt.Sprint(len(payload)) {
					t.Fatalf("the handler read %s bytes", got)
				}
				server, call := serverAndCall(t, flush(t, rec, sink), path)
				if call.RequestSize != want {
					t.Errorf("the call recorded %d request bytes, want %d", call.RequestSize, want)
				}
				serverWant := want
				if p.http2 {
					// The HTTP/2 server takes Expect out of the request it
					// hands over: the handler cannot know the body never came.
					serverWant = int64(len(payload))
				}
				if server.RequestBytes != serverWant {
					t.Errorf("the server recorded %d request bytes, want %d", server.RequestBytes, serverWant)
				}
			})
		}
	}
}
