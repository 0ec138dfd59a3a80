package httpstats_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// TestHijackStatusReadFrom: a status line sent first through the hijack's
// bufio.ReadWriter by its ReadFrom (io.Copy into it, the connection's own
// ReadFrom underneath: TCP's splice or sendfile) is the record's status,
// as one written by Write is (on main, 0: a ReadFrom's first bytes were
// not read for a status line) — from a string, from a file (sendfile),
// from a reader that yields the line in pieces, after a first piece
// written by Write. Every piece the reader yields reaches the client
// before the reader yields the next: the reader waits for the client to
// read each piece, so a watch that held bytes back for its parse would
// hang here (the connection's deadline ends it with an error). What the
// client reads is what the handler sent, byte for byte.
func TestHijackStatusReadFrom(t *testing.T) {
	const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"
	file := filepath.Join(t.TempDir(), "head")
	if err := os.WriteFile(file, []byte(head+"after the upgrade"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		// write is written and flushed before the ReadFrom, if not empty.
		write string
		// pieces are what the ReadFrom's reader yields, one a Read,
		// each once the client read the one before; none for file.
		pieces []string
		file   bool
		want   int
	}{
		{"whole", "", []string{head}, false, http.StatusSwitchingProtocols},
		{"file", "", nil, true, http.StatusSwitchingProtocols},
		{"10|rest", "", []string{head[:10], head[10:]}, false, http.StatusSwitchingProtocols},
		// A read that returns nothing (an empty write on the pipe),
		// then the rest: none of it lost, the status read.
		{"nothing|rest", "", []string{"", head}, false, http.StatusSwitchingProtocols},
		{"5|nothing|rest", "", []string{head[:5], "", head[5:]}, false, http.StatusSwitchingProtocols},
		{"bytes", "", strings.Split(head[:20], ""), false, http.StatusSwitchingProtocols},
		{"write 5|readfrom rest", head[:5], []string{head[5:]}, false, http.StatusSwitchingProtocols},
		{"write 5|readfrom 3|rest", head[:5], []string{head[5:8], head[8:]}, false, http.StatusSwitchingProtocols},
		{"403", "", []string{"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"}, false, http.StatusForbidden},
		{"not-http", "", []string{"hello world, not a status line"}, false, 0},
		{"not-a-status", "", []string{"HTTP/1.", "1 abc rest\r\n\r\n"}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, sink := newRecorder(t)
			read := make(chan struct{})
			sent := tc.write + strings.Join(tc.pieces, "")
			if tc.file {
				sent = head + "after the upgrade"
			}
			h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				c, brw, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				if tc.write != "" {
					brw.WriteString(tc.write)
					brw.Flush()
					select {
					case <-read:
					case <-time.After(30 * time.Second):
						t.Error("the client did not read the piece written")
						return
					}
				}
				if tc.file {
					f, err := os.Open(file)
					if err != nil {
						t.Error(err)
						return
					}
					defer f.Close()
					if n, err := brw.ReadFrom(f); err != nil || n != int64(len(sent)) {
						t.Errorf("ReadFrom(file) = %d, %v; want %d, nil", n, err, len(sent))
					}
					return
				}
				pr, pw := io.Pipe()
				go func() {
					for _, p := range tc.pieces {
						io.WriteString(pw, p)
						select { // the client read the piece
						case <-read:
						case <-time.After(30 * time.Second):
							pw.CloseWithError(io.ErrNoProgress)
							return
						}
					}
					pw.Close()
				}()
				if n, err := brw.ReadFrom(pr); err != nil || n != int64(len(sent)-len(tc.write)) {
					t.Errorf("ReadFrom = %d, %v; want %d, nil", n, err, len(sent)-len(tc.write))
				}
			}))
			srv := httptest.NewServer(h)
			defer srv.Close()
			c := dialUpgrade(t, srv)
			var got strings.Builder
			pieces := tc.pieces
			if tc.write != "" {
				pieces = append([]string{tc.write}, pieces...)
			}
			if tc.file {
				pieces = []string{sent}
			}
			for i, p := range pieces {
				b := make([]byte, len(p))
				if _, err := io.ReadFull(c, b); err != nil {
					t.Fatalf("piece %d (%q): %v, read %q before it", i, p, err, got.String())
				}
				got.Write(b)
				if !tc.file {
					read <- struct{}{}
				}
			}
			if got.String() != sent {
				t.Errorf("the client read %q, want %q", got.String(), sent)
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			recs := sink.Wait(ctx, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			if r := recs[0]; r.Status != tc.want || r.Error != "" {
				t.Errorf("recorded status %d, error %q; want %d, none", r.Status, r.Error, tc.want)
			}
		})
	}
}
