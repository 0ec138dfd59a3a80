//lint:file-ignore SA1019 the transcripts cover handlers that still use http.CloseNotifier.

package httpstats_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// curlHandlers is an application whose handlers use what a ResponseWriter
// and a request offer: optional interfaces, ResponseController, 1xx
// responses, trailers, HEAD, Expect: 100-continue, hijacking, panics.
func curlHandlers(t *testing.T) http.Handler {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 8192) // 128 KiB
	file := filepath.Join(dir, "big.bin")
	if err := os.WriteFile(file, big, 0o644); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello\n") })
	mux.HandleFunc("/interfaces", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s\n", maskNames(claims(w)))
	})
	mux.HandleFunc("/closenotify", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.CloseNotifier); !ok {
			http.Error(w, "no CloseNotifier", http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "CloseNotifier ok\n")
	})
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "no Flusher", http.StatusInternalServerError)
			return
		}
		for i := range 3 {
			fmt.Fprintf(w, "part %d\n", i)
			f.Flush()
		}
	})
	mux.HandleFunc("/controller", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		res := []string{
			fmt.Sprint("read deadline: ", rc.SetReadDeadline(time.Now().Add(time.Minute))),
			fmt.Sprint("write deadline: ", rc.SetWriteDeadline(time.Now().Add(time.Minute))),
			fmt.Sprint("full duplex: ", rc.EnableFullDuplex()),
		}
		io.WriteString(w, strings.Join(res, "\n")+"\n")
		fmt.Fprintln(w, "flush:", rc.Flush())
	})
	mux.HandleFunc("/stringwriter", func(w http.ResponseWriter, r *http.Request) {
		if sw, ok := w.(io.StringWriter); ok {
			sw.WriteString("through WriteString\n")
			return
		}
		io.WriteString(w, "through Write\n")
	})
	mux.HandleFunc("/readfrom", func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(file)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		io.Copy(w, f) // ReadFrom (sendfile) over HTTP/1
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(big) })
	mux.HandleFunc("/doc", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "24")
		io.WriteString(w, "twenty-four bytes of it!")
	})
	mux.HandleFunc("/nocontent", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/notmodified", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "v1\n")
	})
	mux.HandleFunc("/accepted", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	mux.HandleFunc("/early-hints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "after the hints\n")
	})
	mux.HandleFunc("/trailers", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		io.WriteString(w, "body with a trailer\n")
		w.Header().Set("X-Sum", "42")
	})
	mux.HandleFunc("/sniff", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html><body>sniffed</body></html>") })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/hello", http.StatusFound) })
	mux.HandleFunc("/range", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "big.bin", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), bytes.NewReader(big))
	})
	// More paths of the same, so that each case's record is told apart.
	for _, path := range []string{"/range-stale", "/range-416"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			http.ServeContent(w, r, "big.bin", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), bytes.NewReader(big))
		})
	}
	for _, path := range []string{"/range-etag", "/range-etag-stale"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("ETag", `"v2"`)
			http.ServeContent(w, r, "big.bin", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), bytes.NewReader(big))
		})
	}
	mux.HandleFunc("/controller-hijack", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			http.Error(w, fmt.Sprint("hijack: ", err, ", not supported: ", errors.Is(err, http.ErrNotSupported)), http.StatusNotImplemented)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nraw ok\n")
		brw.Flush()
	})
	mux.HandleFunc("/read-deadline-past", func(w http.ResponseWriter, r *http.Request) {
		err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(-time.Second))
		_, rerr := io.ReadAll(r.Body)
		fmt.Fprintf(w, "set: %v; read timed out: %v\n", err, errors.Is(rerr, os.ErrDeadlineExceeded))
	})
	mux.HandleFunc("/write-deadline-past", func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Write(big)
	})
	mux.HandleFunc("/duplex", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		fmt.Fprintln(w, "full duplex:", rc.EnableFullDuplex())
		fmt.Fprintln(w, "flush:", rc.Flush())
		n, err := io.Copy(io.Discard, r.Body) // after the header went out: full duplex
		fmt.Fprintf(w, "read %d bytes, %v\n", n, err)
	})
	mux.HandleFunc("/early-hints-twice", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</a.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Add("Link", "</b.js>; rel=preload; as=script")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "created after two hints\n")
	})
	mux.HandleFunc("/trailers-flushed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum, X-Count")
		io.WriteString(w, "part one\n")
		http.NewResponseController(w).Flush()
		io.WriteString(w, "part two\n")
		w.Header().Set("X-Sum", "42")
		w.Header().Set("X-Count", "2")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	})
	mux.HandleFunc("/reject", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no uploads here", http.StatusExpectationFailed)
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "read %d bytes, %v\n", n, err)
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		h, ok := w.(http.Hijacker)
		if !ok {
			http.Error(w, "no Hijacker", http.StatusNotImplemented)
			return
		}
		conn, brw, err := h.Hijack()
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nraw ok\n")
		brw.Flush()
	})
	mux.HandleFunc("/push", func(w http.ResponseWriter, r *http.Request) {
		p, ok := w.(http.Pusher)
		if !ok {
			io.WriteString(w, "no Pusher\n")
			return
		}
		fmt.Fprintln(w, "push:", p.Push("/hello", nil))
	})
	mux.HandleFunc("/abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	mux.HandleFunc("/abort-partial", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) { panic("handler bug") })
	mux.HandleFunc("/panic-after-write", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "written before the panic\n")
		panic("handler bug after a write")
	})
	mux.HandleFunc("/status-twice", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusInternalServerError) // superfluous: logged, dropped
		io.WriteString(w, "created\n")
	})
	mux.HandleFunc("/status-after-write", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "body first\n")
		w.WriteHeader(http.StatusNotFound) // superfluous
	})
	for _, code := range []int{0, 99, 1000, -1} {
		mux.HandleFunc(fmt.Sprintf("/status-invalid-%d", code), func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code) // net/http panics
		})
	}
	mux.HandleFunc("/status-invalid-recovered", func(w http.ResponseWriter, r *http.Request) {
		func() {
			defer func() { recover() }()
			w.WriteHeader(1000)
		}()
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "teapot\n")
	})
	mux.HandleFunc("/continue", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusContinue)
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "read %d bytes\n", n)
	})
	mux.HandleFunc("/trailer-prefix", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "undeclared trailer\n")
		w.Header().Set(http.TrailerPrefix+"X-Late", "late")
	})
	mux.HandleFunc("/sse", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		rc := http.NewResponseController(w)
		for i := range 200 {
			fmt.Fprintf(w, "id: %d\ndata: event %d\n\n", i, i)
			if err := rc.Flush(); err != nil {
				return
			}
		}
	})
	// A Content-Length the body does not match (TestContentLengthWrong).
	for path, decl := range map[string]string{"/cl-long": "10", "/cl-short": "3", "/cl-none": "4"} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", decl)
			if path != "/cl-none" {
				io.WriteString(w, "hello")
			}
		})
	}
	mux.HandleFunc("/unread", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "body not read\n") })
	mux.HandleFunc("/maxbytes", func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 100))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		io.WriteString(w, "small enough\n")
	})
	return mux
}

// curlCase is one curl command line (after the protocol's flags), run
// against the path.
type curlCase struct {
	name string
	args []string
	path string
	only string // "http1" or "http2": the case is for that protocol only
	// lost is a header line of the bare application's answer, over
	// HTTP/1, that the wrapped one's lacks: a known difference, the
	// test checks it is the only one.
	lost string
}

var curlCases = []curlCase{
	{name: "hello", path: "/hello"},
	{name: "interfaces", path: "/interfaces"},
	{name: "closenotify", path: "/closenotify"},
	{name: "flush", path: "/flush"},
	{name: "controller", path: "/controller"},
	{name: "stringwriter", path: "/stringwriter"},
	{name: "readfrom", path: "/readfrom"},
	{name: "big", path: "/big"},
	{name: "get doc", path: "/doc"},
	{name: "head doc", args: []string{"-I"}, path: "/doc"},
	{name: "nocontent", path: "/nocontent"},
	{name: "notmodified", args: []string{"-H", `If-None-Match: "v1"`}, path: "/notmodified"},
	{name: "accepted", path: "/accepted"},
	{name: "early hints", path: "/early-hints"},
	{name: "trailers", path: "/trailers"},
	{name: "sniff", path: "/sniff"},
	{name: "redirect", args: []string{"-L"}, path: "/redirect"},
	{name: "range", args: []string{"-r", "16-47"}, path: "/range"},
	{name: "if-range date", args: []string{"-r", "16-47", "-H", "If-Range: Fri, 02 Jan 2026 03:04:05 GMT"}, path: "/range"},
	{name: "if-range stale date", args: []string{"-r", "16-47", "-H", "If-Range: Thu, 01 Jan 2026 00:00:00 GMT"}, path: "/range-stale"},
	{name: "if-range etag", args: []string{"-r", "0-9", "-H", `If-Range: "v2"`}, path: "/range-etag"},
	{name: "if-range stale etag", args: []string{"-r", "0-9", "-H", `If-Range: "v1"`}, path: "/range-etag-stale"},
	{name: "range unsatisfiable", args: []string{"-r", "200000-"}, path: "/range-416"},
	{name: "controller hijack", path: "/controller-hijack"},
	{name: "read deadline past", args: []string{"--data-binary", "@BODY"}, path: "/read-deadline-past"},
	{name: "write deadline past", path: "/write-deadline-past"},
	{name: "full duplex", args: []string{"--data-binary", "@BODY"}, path: "/duplex"},
	{name: "early hints twice", path: "/early-hints-twice"},
	{name: "trailers flushed", path: "/trailers-flushed"},
	{name: "expect continue read", args: []string{"-H", "Expect: 100-continue", "--data-binary", "@BODY"}, path: "/continue"},
	// curl waits for 100 Continue over HTTP/1.1 only; over HTTP/2 it sends
	// the body at once, and how a stream reset by a 417 ends is a race.
	{name: "expect 417", args: []string{"-H", "Expect: 100-continue", "--data-binary", "@BODY"}, path: "/reject", only: "http1"},
	{name: "expect upload", args: []string{"-H", "Expect: 100-continue", "--data-binary", "@BODY"}, path: "/upload"},
	{name: "chunked upload", args: []string{"-H", "Transfer-Encoding: chunked", "--data-binary", "@BODY"}, path: "/upload", only: "http1"},
	{name: "hijack", path: "/hijack"},
	{name: "push", path: "/push"},
	{name: "abort", path: "/abort"},
	// Over HTTP/2, whether the flushed part reaches curl before the stream
	// is reset is a race.
	{name: "abort after a flush", path: "/abort-partial", only: "http1"},
	{name: "panic", path: "/panic"},
	{name: "panic after a write", path: "/panic-after-write", only: "http1"},
	{name: "status twice", path: "/status-twice"},
	{name: "status after write", path: "/status-after-write"},
	{name: "status 0", path: "/status-invalid-0"},
	{name: "status 99", path: "/status-invalid-99"},
	{name: "status 1000", path: "/status-invalid-1000"},
	{name: "status -1", path: "/status-invalid--1"},
	{name: "status invalid recovered", path: "/status-invalid-recovered"},
	{name: "continue", args: []string{"--data-binary", "@BODY"}, path: "/continue"},
	{name: "trailer prefix", path: "/trailer-prefix"},
	{name: "sse", path: "/sse"},
	{name: "content-length too long", path: "/cl-long"},
	{name: "content-length too short", path: "/cl-short"},
	{name: "content-length, no body", path: "/cl-none"},
	{name: "unread body", args: []string{"--data-binary", "@BIG"}, path: "/unread"},
	// http.MaxBytesReader tells the server to close the connection after
	// the answer through an unexported method of net/http's writer, which
	// no wrapper can have: over HTTP/1 the wrapped answer lacks the
	// "Connection: close" (and the server reads on; see "What the wrapped
	// ResponseWriter keeps" in the package documentation).
	{name: "max bytes", args: []string{"--data-binary", "@BODY"}, path: "/maxbytes", lost: "Connection: close\r\n"},
}

// curlAndBody finds curl, and writes a request body of 5,000 bytes for it
// to send (--data-binary @body): it returns curl's path and the body's.
func curlAndBody(t *testing.T) (curl, body string) {
	t.Helper()
	curl = testservers.Curl(t)
	body = filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(body, bytes.Repeat([]byte("u"), 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	return curl, body
}

// maxBareRuns bounds the runs of the bare application TestCurlTranscripts
// makes to find the wrapped one's answer among its own.
const maxBareRuns = 200

// TestCurlTranscripts runs real curl against the same application bare and
// wrapped by NewHandler, over HTTP/1.1, HTTP/1.1 over TLS, h2c and TLS h2,
// and compares what curl saw: status lines, headers (but Date), bodies,
// chunking (--raw), curl's exit status and error. The wrapper must not
// change a byte of it.
func TestCurlTranscripts(t *testing.T) {
	curl, body := curlAndBody(t)
	// Past what the server reads of a body its handler left (256 KiB).
	bigBody := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(bigBody, bytes.Repeat([]byte("b"), 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	app := curlHandlers(t)
	total, same, raced := 0, 0, 0
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t, recording.WithMaxStack(0))
			bare, _ := startServer(t, app, p.tls, p.http2, true)
			// Requests reaching the wrapped application, to be recorded
			// (curl may make more than one: -L, a retry after 417).
			var served atomic.Int64
			wrappedApp := httpstats.NewHandler(rec, app)
			wrapped, _ := startServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				served.Add(1)
				wrappedApp.ServeHTTP(w, r)
			}), p.tls, p.http2, true)
			n, ok, race := 0, 0, 0
			for _, c := range curlCases {
				if c.only == "http1" && p.http2 || c.only == "http2" && !p.http2 {
					continue
				}
				run := func(base string) string {
					args := append([]string{"-sS", "-i", "--raw", "--max-time", "20"}, p.curl...)
					for _, a := range c.args {
						a = strings.ReplaceAll(a, "@BODY", "@"+body)
						args = append(args, strings.ReplaceAll(a, "@BIG", "@"+bigBody))
					}
					args = append(args, base+c.path)
					return curlTranscript(t, curl, base, args)
				}
				n++
				b, w := run(bare.URL), run(wrapped.URL)
				if c.lost != "" && !p.http2 {
					if !strings.Contains(b, c.lost) {
						t.Errorf("%s: the bare answer lacks %q", c.name, c.lost)
					}
					b = strings.Replace(b, c.lost, "", 1)
				}
				if b == w {
					ok++
					continue
				}
				// A difference is the wrapper's only if the bare application
				// never answers so: some answers race (how much of a response
				// gets out before a stream is reset), bare too. How often
				// each answer comes depends on the machine's load: over TLS
				// h2, curl 7.88 failed 142 of 150 uploads the server answered
				// without reading them (exit 92, on the server's RST_STREAM
				// NO_ERROR) at a load average of 25, and answered 200 to the
				// others; 20 runs then missed the rarer answer a third of
				// the time. So the bare application is run until it answers
				// as the wrapped one did, up to maxBareRuns times.
				seen := map[string]int{b: 1}
				reruns := 0
				for ; reruns < maxBareRuns && seen[w] == 0; reruns++ {
					seen[run(bare.URL)]++
				}
				if seen[w] > 0 {
					race++
					t.Logf("%s: transcripts differ, as the bare application's differ from one run to the next (the bare one answered as the wrapped one did after %d more runs)", c.name, reruns)
					continue
				}
				t.Errorf("%s: transcripts differ, and %d more runs of the bare application never answered as the wrapped one did (%d different answers)\n--- bare\n%s\n--- wrapped\n%s",
					c.name, maxBareRuns, len(seen), b, w)
			}
			t.Logf("%s: %d of %d transcripts identical bare and wrapped, %d more differ as bare ones do between runs", p.name, ok, n, race)
			total, same, raced = total+n, same+ok, raced+race
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			want := int(served.Load())
			recs := sink.Wait(ctx, want)
			if len(recs) != want {
				t.Errorf("%d records of %d requests", len(recs), want)
			}
			// What crossed the wire, as recorded.
			type sizes struct {
				status         int
				request, reply int64
			}
			wantSizes := map[string]sizes{
				"GET /doc":               {200, 0, 24},
				"HEAD /doc":              {200, 0, 0},
				"POST /upload":           {200, 5000, int64(len("read 5000 bytes, <nil>\n"))},
				"GET /closenotify":       {200, 0, int64(len("CloseNotifier ok\n"))},
				"GET /readfrom":          {200, 0, 128 << 10},
				"GET /early-hints":       {200, 0, int64(len("after the hints\n"))}, // 103 is not the status
				"GET /early-hints-twice": {201, 0, int64(len("created after two hints\n"))},
				// (The stale If-Range cases' 128 KiB bodies are left out:
				// over HTTP/2 net/http may answer their last write with an
				// error though curl got it, as the package doc says.)
				"GET /range":            {206, 0, 32},
				"GET /range-etag":       {206, 0, 10},
				"GET /range-416":        {416, 0, int64(len("invalid range: failed to overlap\n"))},
				"GET /trailers-flushed": {200, 0, int64(len("part one\npart two\n"))},
				"GET /notmodified":      {304, 0, 0},
				// The first status written is the one sent.
				"GET /status-twice":       {201, 0, int64(len("created\n"))},
				"GET /status-after-write": {200, 0, int64(len("body first\n"))},
				// net/http panics at an invalid code and sends nothing: the
				// panicking handler's 500.
				"GET /status-invalid-0":         {500, 0, 0},
				"GET /status-invalid-99":        {500, 0, 0},
				"GET /status-invalid-1000":      {500, 0, 0},
				"GET /status-invalid--1":        {500, 0, 0},
				"GET /status-invalid-recovered": {418, 0, int64(len("teapot\n"))},
				"POST /continue":                {200, 5000, int64(len("read 5000 bytes\n"))},
				// Its body sat in net/http's buffer, which a panic drops:
				// curl got an empty reply (HTTP/1: "(52) Empty reply from
				// server"), the 500 of a response never sent.
				"GET /panic-after-write": {500, 0, 0},
			}
			var sse int64
			for i := range 200 {
				sse += int64(len(fmt.Sprintf("id: %d\ndata: event %d\n\n", i, i)))
			}
			wantSizes["GET /sse"] = sizes{200, 0, sse}
			if !p.http2 {
				wantSizes["POST /reject"] = sizes{417, 0, int64(len("no uploads here\n"))}
				// The status line the handler wrote through the
				// hijack's bufio.ReadWriter; the bytes after it are no
				// HTTP body of the record's.
				wantSizes["GET /hijack"] = sizes{200, 0, 0}
				wantSizes["GET /controller-hijack"] = sizes{200, 0, 0}
			}
			for _, r := range recs {
				key := r.Method + " " + r.Path
				if w, ok := wantSizes[key]; ok {
					if got := (sizes{r.Status, r.RequestBytes, r.ResponseBytes}); got != w {
						t.Errorf("%s: recorded status %d, %d request bytes, %d response bytes; want %+v", key, got.status, got.request, got.reply, w)
					}
				}
				if (strings.HasPrefix(key, "GET /status-invalid-") && key != "GET /status-invalid-recovered" || key == "GET /panic-after-write") && r.Attr("appstats.http.no_response") != "true" {
					t.Errorf("%s: appstats.http.no_response=%q, want true (nothing was sent)", key, r.Attr("appstats.http.no_response"))
				}
				if strings.HasPrefix(key, "GET /cl-") {
					// The client's body was cut short (or, over HTTP/2,
					// refused for being longer than declared).
					want := "response failed: body cut short: "
					if key == "GET /cl-short" {
						want = "response failed: "
					}
					if !strings.HasPrefix(r.Error, want) {
						t.Errorf("%s: record error %q, want %q…", key, r.Error, want)
					}
				}
				// The write deadline passed: curl got no response (HTTP/1),
				// or a reset stream (HTTP/2); the record says it failed.
				if key == "GET /write-deadline-past" && !strings.HasPrefix(r.Error, "response failed: write: ") {
					t.Errorf("%s: record error %q, want response failed: write: …", key, r.Error)
				}
				if key == "GET /hijack" && (r.Attr("appstats.http.hijacked") == "true") == p.http2 {
					t.Errorf("%s: appstats.http.hijacked=%q over %s", key, r.Attr("appstats.http.hijacked"), p.name)
				}
			}
		})
	}
	t.Logf("all protocols: %d of %d transcripts identical, %d more differ as bare ones do between runs", same, total, raced)
}

var (
	dateHeader = regexp.MustCompile(`(?mi)^date: .*\r?\n`)
	timeStamp  = regexp.MustCompile(`\b\d{4}-\d\d-\d\dT[0-9:.]+Z?\b`)
)

// curlTranscript runs curl and returns what it printed, its error output
// and exit status, with the Date header left out and the server's address
// spelled BASE.
func curlTranscript(t *testing.T, curl, base string, args []string) string {
	t.Helper()
	cmd := exec.Command(curl, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("curl: %v", err)
	}
	s := fmt.Sprintf("%s\n[stderr] %s[exit %d]", out.String(), errOut.String(), code)
	s = dateHeader.ReplaceAllString(s, "")
	s = timeStamp.ReplaceAllString(s, "TIME")
	return strings.ReplaceAll(s, base, "BASE")
}
