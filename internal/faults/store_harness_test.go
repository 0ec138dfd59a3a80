//go:build linux

package faults

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/internal/testlog"
	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store/badgerstore"
)

// The scenarios of this file run the host application — a small HTTP
// service embedding appstats — in a child process, the test binary run
// again with appVictimEnv set: a SIGBUS or a panic in a goroutine Badger
// starts kills the whole process, which must be the child, never the test.

// appVictimEnv carries the child's configuration (appVictimConfig, JSON).
const appVictimEnv = "APPSTATS_FAULTS_APP"

// appVictimConfig configures the child application.
type appVictimConfig struct {
	Dir string
	// Small Badger files, so that a small filesystem fills quickly and
	// holds several value-log files.
	MemTableSize, ValueLogFileSize, BaseTableSize, MaxBytes int64
	NumMemtables                                            int
}

// options are the victim's store options. Every record is persisted
// (RecordBudget -1): the tests count the records on disk against those
// recorded, and fill the disk with them.
func (c appVictimConfig) options() badgerstore.Options {
	return badgerstore.Options{
		MemTableSize: c.MemTableSize, NumMemtables: c.NumMemtables, ValueLogFileSize: c.ValueLogFileSize,
		BaseTableSize: c.BaseTableSize, MaxBytes: c.MaxBytes, RetentionInterval: time.Minute,
		RecordBudget: -1,
	}
}

// smallFiles are Badger files small enough for a 30 MB filesystem: a 1 MiB
// memtable and value-log file make a disk-full reserve of about 6 MiB.
func smallFiles(dir string) appVictimConfig {
	return appVictimConfig{Dir: dir, MemTableSize: 1 << 20, NumMemtables: 1, ValueLogFileSize: 1 << 20, BaseTableSize: 256 << 10}
}

// runAppVictimIfChild runs the child application instead of the calling
// test when this process was started by startAppVictim, and exits.
func runAppVictimIfChild() {
	cfg := os.Getenv(appVictimEnv)
	if cfg == "" {
		return
	}
	os.Exit(appVictimMain(cfg))
}

// appVictimMain is the child: it serves "/" (200, "ok") recorded by
// appstats, with the dashboard at /stats/, prints its address, and on
// SIGTERM shuts down gracefully. Its exit status is 0 only if everything,
// Close included, went well.
func appVictimMain(cfgJSON string) int {
	var cfg appVictimConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "victim config:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	as, err := appstats.Open(appstats.Config{Dir: cfg.Dir, Store: cfg.options(), Logger: logger, NoOTLP: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "appstats.Open:", err)
		return 3
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.Handle("/stats/", as.UI())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		return 4
	}
	srv := &http.Server{Handler: as.Middleware(mux), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("listening http://%s\n", ln.Addr())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "shutdown:", err)
		return 5
	}
	if err := as.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "appstats.Close:", err)
		return 6
	}
	return 0
}

// An appVictim is a running child application.
type appVictim struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	stderr *testlog.Buffer
	done   chan struct{} // closed when the process has exited
	state  *os.ProcessState
}

// startAppVictim starts the child application for the calling test on
// cfg, and waits until it listens. The child is killed when the test ends,
// if it still runs.
func startAppVictim(t *testing.T, cfg appVictimConfig) *appVictim {
	t.Helper()
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var run []string
	for _, part := range strings.Split(t.Name(), "/") {
		run = append(run, "^"+regexp.QuoteMeta(part)+"$")
	}
	cmd := exec.Command(os.Args[0], "-test.run="+strings.Join(run, "/"))
	cmd.Env = append(os.Environ(), appVictimEnv+"="+string(b))
	v := &appVictim{t: t, cmd: cmd, stderr: new(testlog.Buffer), done: make(chan struct{})}
	cmd.Stderr = v.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				addr <- a
			}
		}
		cmd.Wait()
		v.state = cmd.ProcessState
		close(v.done)
	}()
	t.Cleanup(func() {
		if v.alive() {
			cmd.Process.Kill()
			<-v.done
		}
	})
	select {
	case v.base = <-addr:
	case <-v.done:
		t.Fatalf("the application exited before listening (%v):\n%s", v.state, v.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("the application did not start listening in 60s:\n%s", v.stderr)
	}
	return v
}

func (v *appVictim) alive() bool {
	select {
	case <-v.done:
		return false
	default:
		return true
	}
}

// requireAlive fails the test if the application has exited.
func (v *appVictim) requireAlive() {
	v.t.Helper()
	if !v.alive() {
		v.t.Fatalf("the application died (%v); its log:\n%s", v.state, v.stderr)
	}
}

// stop sends SIGTERM and requires a clean exit (status 0) within 30s.
func (v *appVictim) stop() {
	v.t.Helper()
	v.requireAlive()
	v.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-v.done:
	case <-time.After(30 * time.Second):
		v.cmd.Process.Kill()
		v.t.Fatalf("the application did not exit within 30s of SIGTERM:\n%s", v.stderr)
	}
	if !v.state.Success() {
		v.t.Fatalf("the application exited with %v; its log:\n%s", v.state, v.stderr)
	}
}

// kill kills the application with SIGKILL, as a crash would.
func (v *appVictim) kill() {
	v.cmd.Process.Kill()
	<-v.done
}

// get fetches path (under base) and returns the status and body.
func (v *appVictim) get(path string) (int, []byte) {
	v.t.Helper()
	resp, err := http.Get(v.base + path)
	if err != nil {
		v.requireAlive()
		v.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, b
}

// getJSON fetches path and decodes its JSON answer into out, requiring 200.
func (v *appVictim) getJSON(path string, out any) {
	v.t.Helper()
	code, b := v.get(path)
	if code != http.StatusOK {
		v.t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		v.t.Fatalf("GET %s: %v in %s", path, err, b)
	}
}

// storeHealth is the store part of api/health.
type storeHealth struct {
	State      string `json:"state"`
	Detail     string `json:"detail"`
	Dropped    uint64 `json:"dropped"`
	Skipped    uint64 `json:"skipped"`
	MovedAside string `json:"moved_aside"`
	DiskBytes  int64  `json:"disk_bytes"`
	DiskFree   int64  `json:"disk_free"`
}

func (v *appVictim) storeHealth() storeHealth {
	v.t.Helper()
	var h struct {
		Store *storeHealth `json:"store"`
	}
	v.getJSON("/stats/api/health", &h)
	if h.Store == nil {
		v.t.Fatal("api/health has no store part")
	}
	return *h.Store
}

// waitStore polls api/health until cond holds, failing after timeout.
func (v *appVictim) waitStore(what string, timeout time.Duration, cond func(storeHealth) bool) storeHealth {
	v.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		h := v.storeHealth()
		if cond(h) {
			return h
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("store not %s after %v: %+v; log:\n%s", what, timeout, h, v.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listed counts the records api/records lists, following every page.
func (v *appVictim) listed() (ids []string) {
	v.t.Helper()
	cursor := ""
	for {
		var page struct {
			Records []struct {
				ID string `json:"id"`
			} `json:"records"`
			Next string `json:"next"`
		}
		v.getJSON("/stats/api/records?limit=1000"+cursor, &page)
		for _, r := range page.Records {
			ids = append(ids, r.ID)
		}
		if page.Next == "" {
			return ids
		}
		cursor = "&before=" + page.Next
	}
}

// requestsIn returns what api/stats counts over the last window.
func (v *appVictim) requestsIn(window string) int64 {
	v.t.Helper()
	var st struct {
		Requests int64 `json:"requests"`
	}
	v.getJSON("/stats/api/stats?window="+window, &st)
	return st.Requests
}

// hammer sends requests to the application's "/" from clients goroutines,
// each with headerBytes of headers, until ctx is done. It counts the
// answers; any answer other than 200, and any transport error, is a
// failure.
type hammer struct {
	ok, failed atomic.Int64
	firstErr   atomic.Value // string
	wg         sync.WaitGroup
}

func startHammer(ctx context.Context, base string, clients, headerBytes int) *hammer {
	h := new(hammer)
	for n := range clients {
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			c := &http.Client{Timeout: 30 * time.Second}
			// Random header values: the store compresses records in
			// blocks, and repeated ones would take next to nothing.
			rng := rand.New(rand.NewPCG(uint64(n), 1))
			raw := make([]byte, 500)
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", base+"/", nil)
				for i := 0; i*2*len(raw) < headerBytes; i++ {
					for j := range raw {
						raw[j] = byte(rng.Uint32())
					}
					req.Header.Set(fmt.Sprintf("X-Pad-%d", i), hex.EncodeToString(raw))
				}
				resp, err := c.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						h.failed.Add(1)
						h.firstErr.CompareAndSwap(nil, err.Error())
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					h.ok.Add(1)
				} else {
					h.failed.Add(1)
					h.firstErr.CompareAndSwap(nil, resp.Status)
				}
			}
		}()
	}
	return h
}

// wait waits for the clients to stop, and fails t if any request failed.
func (h *hammer) wait(t *testing.T) {
	t.Helper()
	h.wg.Wait()
	if n := h.failed.Load(); n > 0 {
		t.Errorf("%d of %d requests failed; first: %v", n, n+h.ok.Load(), h.firstErr.Load())
	}
}

// mountSmallFS mounts a filesystem of sizeMB megabytes for the test —
// "tmpfs", or "ext4" on a loop device over an image file — and returns its
// mount point. It is unmounted when the test ends, whatever happened. The
// test skips (or fails, with APPSTATS_REQUIRE_ROOT=1) when not root or when
// the kernel refuses the mount.
func mountSmallFS(t *testing.T, kind string, sizeMB int) string {
	t.Helper()
	testservers.RequireRoot(t)
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	var args []string
	switch kind {
	case "tmpfs":
		args = []string{"-t", "tmpfs", "-o", fmt.Sprintf("size=%dm", sizeMB), "tmpfs", mnt}
	case "ext4":
		img := filepath.Join(dir, "fs.img")
		if err := os.WriteFile(img, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(img, int64(sizeMB)<<20); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
			cannotMount(t, "mkfs.ext4: %v: %s", err, out)
		}
		args = []string{"-o", "loop", img, mnt}
	default:
		t.Fatalf("unknown filesystem %q", kind)
	}
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		cannotMount(t, "mount %s: %v: %s", kind, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v: %s; unmounting lazily", mnt, err, out)
			exec.Command("umount", "-l", mnt).Run()
		}
	})
	return mnt
}

// cannotMount skips t, or fails it when root tests are required.
func cannotMount(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(testservers.RequireRootEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip("skipping: cannot mount a test filesystem: " + msg)
}

// freeBytes returns the bytes available on the filesystem of path.
func freeBytes(t *testing.T, path string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// ballast fills the filesystem of dir with a file of n bytes (written, so
// that its blocks are allocated) and returns its path.
func ballast(t *testing.T, dir string, n int64) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := bytes.Repeat([]byte{0xA5}, 1<<20)
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := f.Write(buf[:k]); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				break
			}
			t.Fatal(err)
		}
		n -= k
	}
	return path
}
