package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
)

// demoArgsEnv makes the test binary run the demo with these arguments.
const demoArgsEnv = "APPSTATS_DEMO_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(demoArgsEnv); args != "" {
		os.Args = append([]string{"demo"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startDemo runs the demo in a process of its own and returns its base URL.
func startDemo(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), demoArgsEnv+"="+strings.Join(args, " "), "OTEL_EXPORTER_OTLP_ENDPOINT=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	listening := regexp.MustCompile(`msg="demo listening" app=(http://[0-9.:]+)/`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case base := <-found:
		return base
	case <-time.After(30 * time.Second):
		t.Fatalf("demo %v did not start", args)
	}
	return ""
}

// fleetStats is what a dashboard's api/stats says of the fleet.
type fleetStats struct {
	Requests  int64 `json:"requests"`
	Instances []struct {
		Instance string `json:"instance"`
		Requests int64  `json:"requests"`
	} `json:"instances"`
}

func (f fleetStats) byInstance() map[string]int64 {
	m := make(map[string]int64)
	for _, in := range f.Instances {
		m[in.Instance] = in.Requests
	}
	return m
}

func getOK(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return b
}

// TestFleet runs three demos with distinct instances writing to one Redis:
// the dashboard of each shows the requests of all three, as many as were
// sent, grouped by instance, and keeps doing so across a Redis restart,
// during which requests keep succeeding.
func TestFleet(t *testing.T) {
	// Append-only with an fsync per write: the restart keeps what was
	// written.
	r := testservers.StartRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	names := []string{"web-1", "web-2", "web-3"}
	bases := make([]string, len(names))
	for i, name := range names {
		bases[i] = startDemo(t, "-addr", "127.0.0.1:0", "-traffic=false", "-store", "redis://"+r.Addr, "-instance", name)
	}
	sent := make(map[string]int64)
	send := func(n int) {
		t.Helper()
		for i, base := range bases {
			for j := range n * (i + 1) { // 1, 2 and 3 times n: distinct counts
				getOK(t, fmt.Sprintf("%s/product/%d", base, j))
				sent[names[i]]++
			}
		}
	}
	// check waits until every dashboard counts what was sent.
	check := func(when string) {
		t.Helper()
		var total int64
		for _, n := range sent {
			total += n
		}
		for _, base := range bases {
			deadline := time.Now().Add(30 * time.Second)
			for {
				var st fleetStats
				if err := json.Unmarshal(getOK(t, base+"/stats/api/stats?window=1h"), &st); err != nil {
					t.Fatal(err)
				}
				got := st.byInstance()
				ok := st.Requests == total && len(got) == len(names)
				for name, n := range sent {
					ok = ok && got[name] == n
				}
				if ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: the dashboard at %s counts %d requests %v, want %d %v", when, base, st.Requests, got, total, sent)
				}
				time.Sleep(100 * time.Millisecond)
			}
			// The history lists each instance's requests, and the page
			// shows the Instances table.
			var list struct {
				Records []json.RawMessage `json:"records"`
			}
			if err := json.Unmarshal(getOK(t, base+"/stats/api/records?limit=1000&instance=web-2"), &list); err != nil {
				t.Fatal(err)
			}
			if int64(len(list.Records)) != sent["web-2"] {
				t.Errorf("%s: %s lists %d records of web-2, want %d", when, base, len(list.Records), sent["web-2"])
			}
			if page := string(getOK(t, base+"/stats/")); !strings.Contains(page, "instance-card") {
				t.Errorf("%s: %s/stats/ has no Instances table", when, base)
			}
		}
	}
	send(5)
	check("before the restart")

	r.Stop()
	for _, base := range bases {
		for j := range 3 {
			// Requests succeed while Redis is down; their records are
			// dropped and counted.
			getOK(t, fmt.Sprintf("%s/product/%d", base, 100+j))
		}
	}
	// health polls base's api/health for up to a minute until done
	// holds, and returns the last answer.
	type fleetHealth struct {
		Recorder struct {
			SinkErrors int `json:"sink_errors"`
		} `json:"recorder"`
		Store struct {
			State   string `json:"state"`
			Dropped int    `json:"dropped"`
		} `json:"store"`
	}
	health := func(base string, done func(*fleetHealth) bool) fleetHealth {
		t.Helper()
		var h fleetHealth
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
			if err := json.Unmarshal(getOK(t, base+"/stats/api/health"), &h); err != nil {
				t.Fatal(err)
			}
			if done(&h) || time.Now().After(deadline) {
				return h
			}
		}
	}
	// The recorders hand those records over within 200 ms, and a write
	// gives up after WriteTimeout (2 s): then they are dropped, and the
	// failed write counted. (A loaded machine takes longer: wait until all
	// three are, so that none is written after the restart.)
	for _, base := range bases {
		h := health(base, func(h *fleetHealth) bool { return h.Store.Dropped >= 3 && h.Recorder.SinkErrors > 0 })
		if h.Store.Dropped < 3 {
			t.Errorf("%s: %d records dropped while Redis was down, want 3", base, h.Store.Dropped)
		}
		if h.Recorder.SinkErrors == 0 {
			t.Errorf("%s: no failed write counted while Redis was down", base)
		}
	}
	r.Start()
	// Writes back off after failures (up to 5 s) and records made
	// meanwhile are dropped: wait until every store writes again.
	for _, base := range bases {
		if h := health(base, func(h *fleetHealth) bool { return h.Store.State == store.StateOK }); h.Store.State != store.StateOK {
			t.Fatalf("%s: the store is still %q a minute after Redis restarted", base, h.Store.State)
		}
	}
	send(4)
	check("after the restart")
}
