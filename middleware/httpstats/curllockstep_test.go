package httpstats_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// lockstepHandlers is an application whose handlers send their response
// in steps, each pushed out (a flush, a 1xx, a full-duplex response begun before the body is read) and then
// waiting, up to 20 s, for the client to say it got it (ack): a step held
// back anywhere on the way makes the handler give up and write "stalled".
func lockstepHandlers(ack <-chan struct{}) http.Handler {
	wait := func(r *http.Request) bool {
		select {
		case <-ack:
			return true
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
		return false
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/flusher", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		for i := range 3 {
			fmt.Fprintf(w, "step %d\n", i)
			w.(http.Flusher).Flush()
			if !wait(r) {
				io.WriteString(w, "stalled\n")
				return
			}
		}
	})
	mux.HandleFunc("/controller", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Trailer", "X-Steps")
		rc := http.NewResponseController(w)
		for i := range 3 {
			fmt.Fprintf(w, "step %d\n", i)
			if err := rc.Flush(); err != nil {
				fmt.Fprintf(w, "flush: %v\n", err)
				return
			}
			if !wait(r) {
				io.WriteString(w, "stalled\n")
				return
			}
		}
		w.Header().Set("X-Steps", "3")
	})
	mux.HandleFunc("/hints", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload; as=style")
		w.WriteHeader(http.StatusEarlyHints)
		if !wait(r) {
			io.WriteString(w, "stalled\n")
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "step final\n")
	})
	mux.HandleFunc("/duplex", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "full duplex: %v\n", rc.EnableFullDuplex())
		fmt.Fprintf(w, "read deadline: %v\n", rc.SetReadDeadline(time.Now().Add(time.Minute)))
		io.WriteString(w, "step ready\n")
		if err := rc.Flush(); err != nil || !wait(r) {
			io.WriteString(w, "stalled\n")
			return
		}
		n, err := io.Copy(io.Discard, r.Body) // after the response began
		fmt.Fprintf(w, "read %d bytes, %v\n", n, err)
	})
	return mux
}

// TestCurlLockstep runs real curl (--no-buffer, its output read as it
// comes) against lockstepHandlers bare and wrapped by NewHandler, over
// HTTP/1.1, HTTP/1.1 over TLS, h2c and TLS h2: each step the handler
// pushes out (Flush, ResponseController.Flush, a 103 Early Hints, a full
// duplex response begun before the handler reads the upload) must reach curl
// before the handler goes on — it waits for the test to see the step in
// curl's output — and what curl printed (status lines, headers but Date,
// bodies, trailers) must be the same bare and wrapped. The wrapped run's
// records have the status and the body bytes curl got.
func TestCurlLockstep(t *testing.T) {
	curl, body := curlAndBody(t)
	type lockCase struct {
		path   string
		args   []string
		steps  []string // substrings of curl's output lines, in order: each acked
		status int
		body   string // the response body, as recorded
	}
	cases := []lockCase{
		{path: "/flusher", steps: []string{"step 0", "step 1", "step 2"}, status: 200, body: "step 0\nstep 1\nstep 2\n"},
		{path: "/controller", steps: []string{"step 0", "step 1", "step 2"}, status: 200, body: "step 0\nstep 1\nstep 2\n"},
		{path: "/hints", steps: []string{" 103"}, status: 201, body: "step final\n"},
		{path: "/duplex", args: []string{"--data-binary", "@BODY"}, steps: []string{"step ready"}, status: 200,
			body: "full duplex: <nil>\nread deadline: <nil>\nstep ready\nread 5000 bytes, <nil>\n"},
	}
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			rec, sink := newRecorder(t, recording.WithMaxStack(0))
			run := func(wrap bool, c lockCase) string {
				ack := make(chan struct{})
				var h http.Handler = lockstepHandlers(ack)
				if wrap {
					h = httpstats.NewHandler(rec, h)
				}
				srv, _ := startServer(t, h, p.tls, p.http2, true)
				args := append([]string{"-sS", "-D", "-", "--raw", "--no-buffer", "--max-time", "60"}, p.curl...)
				args = append(append(args, c.args...), srv.URL+c.path)
				cmd := exec.Command(curl, args...)
				stdout, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				var errOut strings.Builder
				cmd.Stderr = &errOut
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				var out strings.Builder
				br := bufio.NewReader(stdout)
				for _, step := range c.steps {
					for {
						line, err := br.ReadString('\n')
						out.WriteString(line)
						if strings.Contains(line, step) {
							break
						}
						if err != nil {
							t.Errorf("%s wrapped=%v: curl's output ended before %q: %v", c.path, wrap, step, err)
							break
						}
					}
					select {
					case ack <- struct{}{}:
					case <-time.After(30 * time.Second):
						t.Errorf("%s wrapped=%v: the handler did not wait for step %q", c.path, wrap, step)
					}
				}
				rest, _ := io.ReadAll(br)
				out.Write(rest)
				cmd.Wait()
				s := out.String() + "[stderr] " + errOut.String()
				s = dateHeader.ReplaceAllString(s, "")
				return strings.ReplaceAll(s, srv.URL, "BASE")
			}
			for _, c := range cases {
				for i, a := range c.args {
					if a == "@BODY" {
						c.args = slices.Clone(c.args)
						c.args[i] = "@" + body
					}
				}
				b, w := run(false, c), run(true, c)
				if strings.Contains(b, "stalled") || strings.Contains(w, "stalled") {
					t.Errorf("%s: a step stalled\n--- bare\n%s\n--- wrapped\n%s", c.path, b, w)
				}
				if b != w {
					t.Errorf("%s: transcripts differ\n--- bare\n%s\n--- wrapped\n%s", c.path, b, w)
				}
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, len(cases))
			if len(recs) != len(cases) {
				t.Fatalf("%d records, want %d", len(recs), len(cases))
			}
			for _, r := range recs {
				for _, c := range cases {
					if c.path != r.Path {
						continue
					}
					if r.Status != c.status || r.Error != "" {
						t.Errorf("%s: recorded status %d, error %q; want %d, none", c.path, r.Status, r.Error, c.status)
					}
					if c.body != "" && r.ResponseBytes != int64(len(c.body)) {
						t.Errorf("%s: recorded %d response bytes, want %d", c.path, r.ResponseBytes, len(c.body))
					}
				}
			}
		})
	}
}
