package faults_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
)

// The load of TestHugeHeadersMemory: 8 clients sending requests with 1 MB
// of headers (16 values of 62,500 bytes; net/http's default limit is
// 1 MiB), as fast as the server takes them.
const (
	hugeClients     = 8
	hugeHeaderCount = 16
	hugeHeaderSize  = 62_500
	// rssLimit stops a run whose child grows past it, so that a
	// regression fails the test instead of exhausting the machine.
	rssLimit = 3 << 30
	// rssBound is how much more the recorded app may hold than the bare
	// one under the same load.
	rssBound = 64 << 20
)

// TestHugeHeadersMemory runs the same small app twice as a child process —
// bare, then recorded by appstats into Badger — under the same load of
// requests with 1 MB of headers, and compares the peak RSS of the two
// (read from /proc/PID/status). Recording may cost at most 64 MiB more, and
// the records must hold the headers cut to the recorder's caps, with the
// note, not whole and not dropped.
//
// Reported: 1 MB headers drove an embedding app to 4.6 GB of RSS in 30 s
// (and 64 KB headers to 3.5 GB), since a record kept every header byte and
// the queue was bounded in records, not bytes.
//
// Each run lasts APPSTATS_FAULTS_LOAD (a duration, default 5s; 30s gives
// the figure of the README). The test skips under the race detector, whose
// shadow memory scales with the heap and which slows 1 MB requests to a
// crawl; .ci/run runs it without.
func TestHugeHeadersMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two child processes under load; skipped with -short")
	}
	if raceDetector {
		t.Skip("RSS under the race detector measures the detector; run without -race")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read a process's RSS:", err)
	}
	d := 5 * time.Second
	if v := os.Getenv("APPSTATS_FAULTS_LOAD"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d <= 0 {
			t.Fatalf("APPSTATS_FAULTS_LOAD=%q is not a positive duration", v)
		}
	}
	bare := runLoadChild(t, "bare", d)
	dir := t.TempDir()
	recorded := runLoadChild(t, "recorded", d, "APPSTATS_FAULTS_DIR="+dir)
	size := dirSize(t, dir)
	t.Logf("recorded: %s; data dir %.1f MiB", recorded.childReport, mib(size))
	if bare.failed > 0 || recorded.failed > 0 {
		t.Errorf("requests failed: %d bare, %d recorded", bare.failed, recorded.failed)
	}
	if recorded.requests == 0 {
		t.Fatal("no request was served recorded")
	}
	if extra := recorded.hwm - bare.hwm; extra > rssBound {
		t.Errorf("recording cost %.1f MiB of RSS at the peak (%.1f against %.1f MiB bare), want at most %d MiB",
			mib(extra), mib(recorded.hwm), mib(bare.hwm), rssBound>>20)
	}

	// The records are there, with the headers cut to their caps.
	st, err := badgerstore.OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	page, err := st.List(context.Background(), store.Query{Limit: 5})
	if err != nil || len(page.Records) == 0 {
		t.Fatalf("%d records stored (%v)", len(page.Records), err)
	}
	r, err := st.Get(context.Background(), page.Records[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	kept, cut := 0, 0
	for k, vs := range r.Headers {
		for _, v := range vs {
			kept += len(k) + len(v)
			if strings.HasPrefix(k, "X-Pad-") && strings.Contains(v, recording.TruncatedMarker) {
				cut++
			}
		}
	}
	if kept > recording.DefaultMaxHeaderBytes || cut == 0 || r.Headers[recording.HeaderTruncated] == nil {
		t.Errorf("stored record keeps %d bytes of headers, %d values cut, note %q", kept, cut, r.Headers[recording.HeaderTruncated])
	}
}

type loadResult struct {
	mode             string
	requests, failed int
	p99              time.Duration
	peakRSS, hwm     int64 // bytes: the highest VmRSS sampled, and the kernel's VmHWM
	peakAnon         int64 // the highest RssAnon sampled: VmRSS less file pages (Badger's mmapped files)
	lastRSS          int64
	childReport      string
}

// runLoadChild starts this test binary as the app (TestLoadChild) in the
// given mode, loads it for d, samples its RSS, and stops it.
func runLoadChild(t *testing.T, mode string, d time.Duration, env ...string) loadResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadChild$")
	cmd.Env = append(os.Environ(), append(env, "APPSTATS_FAULTS_CHILD="+mode)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	out := bufio.NewScanner(stdout)
	var addr string
	for out.Scan() {
		if a, ok := strings.CutPrefix(out.Text(), "listening "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatalf("%s child did not start", mode)
	}
	res := loadResult{mode: mode}

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var over atomic.Bool
	var sampled sync.WaitGroup
	sampled.Add(1)
	go func() {
		defer sampled.Done()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			if rss := procStatus(cmd.Process.Pid, "VmRSS"); rss > 0 {
				res.peakRSS = max(res.peakRSS, rss)
				res.peakAnon = max(res.peakAnon, procStatus(cmd.Process.Pid, "RssAnon"))
				res.lastRSS = rss
				if rss > rssLimit {
					over.Store(true)
					cancel()
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	lat, failed := hugeHeaderLoad(ctx, "http://"+addr+"/hello")
	sampled.Wait()
	res.hwm = procStatus(cmd.Process.Pid, "VmHWM")
	if over.Load() {
		t.Fatalf("%s child grew past %d MiB of RSS", mode, rssLimit>>20)
	}
	res.requests, res.failed = len(lat), failed
	if len(lat) > 0 {
		slices.Sort(lat)
		res.p99 = lat[len(lat)*99/100]
	}
	t.Logf("%-8s %d requests in %v (%d failed), p99 %v; RSS peak %.1f MiB (VmHWM %.1f MiB; anonymous %.1f MiB), at the end %.1f MiB",
		mode, res.requests, d, res.failed, res.p99.Round(time.Millisecond), mib(res.peakRSS), mib(res.hwm), mib(res.peakAnon), mib(res.lastRSS))

	// Closing stdin stops the child: it shuts its server down and closes
	// appstats, then says what its recorder did.
	stdin.Close()
	var rest strings.Builder
	for out.Scan() {
		if r, ok := strings.CutPrefix(out.Text(), "recorder "); ok {
			res.childReport = r
		} else {
			rest.WriteString(out.Text() + "\n")
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s child: %v\n%s", mode, err, rest.String())
	}
	return res
}

// hugeHeaderLoad sends requests with 1 MB of headers from hugeClients
// clients until ctx ends; it returns the latencies of those that succeeded
// and the number that failed.
func hugeHeaderLoad(ctx context.Context, url string) (lat []time.Duration, failed int) {
	hdr := http.Header{}
	pad := strings.Repeat("a", hugeHeaderSize)
	for i := range hugeHeaderCount {
		hdr.Set("X-Pad-"+strconv.Itoa(i), pad)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: hugeClients}}
	defer client.CloseIdleConnections()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range hugeClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
				req.Header = hdr // read, never written, by the transport
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %s", resp.Status)
					}
				}
				mu.Lock()
				switch {
				case err == nil:
					lat = append(lat, time.Since(t0))
				case ctx.Err() == nil:
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return lat, failed
}

// TestLoadChild is the app TestHugeHeadersMemory measures, when run as its
// child process (APPSTATS_FAULTS_CHILD set): "bare", or "recorded" by
// appstats into Badger under APPSTATS_FAULTS_DIR. It prints its address,
// serves until its stdin closes, then shuts down gracefully.
func TestLoadChild(t *testing.T) {
	mode := os.Getenv("APPSTATS_FAULTS_CHILD")
	if mode == "" {
		t.Skip("the app of TestHugeHeadersMemory, run as its child process")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		recording.Do(r.Context(), "cache", "Get", func(context.Context) error { return nil })
		io.WriteString(w, "hello")
	})
	var h http.Handler = mux
	var as *appstats.Appstats
	if mode == "recorded" {
		var err error
		as, err = appstats.Open(appstats.Config{Dir: os.Getenv("APPSTATS_FAULTS_DIR"), NoOTLP: true})
		if err != nil {
			t.Fatal(err)
		}
		mux.Handle("/stats/", as.UI())
		h = as.Middleware(mux)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	fmt.Println("listening", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Error(err)
	}
	if as != nil {
		if err := as.Close(); err != nil {
			t.Error(err)
		}
		st := as.Recorder().Stats()
		fmt.Printf("recorder recorded %d, written %d, dropped %d (sinks %+v)\n", st.Recorded, st.Written, st.Dropped, st.Sinks)
	}
}

// procStatus returns a field of /proc/PID/status given in kB, in bytes, or
// 0 if it cannot be read.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// dirSize returns the disk space the files under dir take (their blocks,
// as du counts them; Badger's files may be sparse).
func dirSize(t *testing.T, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n += diskBytes(fi)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
