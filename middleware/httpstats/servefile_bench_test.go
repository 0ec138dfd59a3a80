package httpstats_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// fileHandlers are the ways a handler serves a file: http.ServeFile,
// http.FileServer and io.Copy of the *os.File, each of which reaches
// net/http's ReadFrom, and through it sendfile over HTTP/1 on TCP.
func fileHandlers(dir, name string) map[string]http.Handler {
	path := filepath.Join(dir, name)
	return map[string]http.Handler{
		"servefile":  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, path) }),
		"fileserver": http.FileServer(http.Dir(dir)),
		"iocopy": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f, err := os.Open(path)
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			defer f.Close()
			io.Copy(w, f)
		}),
	}
}

// BenchmarkServeFile serves a file of APPSTATS_SERVEFILE_MB MiB (1 by
// default) over HTTP/1 on loopback, bare and through the middleware, the
// client discarding the body: b.SetBytes makes the figure a throughput,
// cpu-ns/op the process's CPU time (server and client) per file.
// Run under strace -f -e trace=sendfile to see which way the bytes went.
func BenchmarkServeFile(b *testing.B) {
	size := 1 << 20
	if os.Getenv("APPSTATS_SERVEFILE_MB") == "100" {
		size = 100 << 20
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), make([]byte, size), 0o644); err != nil {
		b.Fatal(err)
	}
	for _, way := range []string{"servefile", "fileserver", "iocopy"} {
		for _, wrapped := range []bool{false, true} {
			name := way + "/bare"
			h := fileHandlers(dir, "f")[way]
			if wrapped {
				name = way + "/appstats"
				h = httpstats.NewHandler(discardRecorder(b), h)
			}
			b.Run(name, func(b *testing.B) {
				srv := httptest.NewServer(h)
				defer srv.Close()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				stop := startCPU(b)
				defer stop()
				for range b.N {
					resp, err := srv.Client().Get(srv.URL + "/f")
					if err != nil {
						b.Fatal(err)
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if n != int64(size) {
						b.Fatalf("%d bytes, want %d", n, size)
					}
				}
			})
		}
	}
}
