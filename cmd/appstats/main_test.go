package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testlog"
	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
	"github.com/goappstats/appstats/ui"
)

// appstats runs a command to completion and returns its exit status and
// outputs.
func appstats(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// background runs a command until the returned function is called, which
// waits for its exit status.
func background(t *testing.T, args ...string) (stdout, stderr *testlog.Buffer, stop func() int) {
	t.Helper()
	stdout, stderr = new(testlog.Buffer), new(testlog.Buffer)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, strings.NewReader(""), stdout, stderr) }()
	var once sync.Once
	code := 0
	stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() { stop() })
	return stdout, stderr, stop
}

// waitFor polls until cond holds. The deadline is generous: each refresh
// of a held directory copies and opens it, which takes seconds under the
// race detector on a loaded machine.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testRecords are records of the last hour, of three instances.
func testRecords(seed uint64, n int) []*recording.Record {
	return storetest.Records(seed, time.Now().Add(-time.Hour), time.Hour/time.Duration(n+1), n)
}

// dataDir returns a data directory holding recs, closed.
func dataDir(t *testing.T, recs []*recording.Record) string {
	t.Helper()
	dir := t.TempDir()
	s, err := badgerstore.Open(dir, badgerstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, []byte("x"), 0o600)
	empty := t.TempDir()
	dead := fmt.Sprintf("redis://:hunter2@127.0.0.1:%d", testservers.FreePort(t))
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: appstats <command>"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"stats", "-bogus"}, 2, "flag provided but not defined"},
		{[]string{"stats"}, 1, "give -data DIR or -redis URL"},
		{[]string{"stats", "-data", empty, "-redis", dead}, 1, "not both"},
		{[]string{"stats", "-data", filepath.Join(empty, "missing")}, 1, "no such directory"},
		{[]string{"export", "-data", file}, 1, "not a directory"},
		{[]string{"tail", "-data", empty}, 1, "holds no appstats records"},
		{[]string{"stats", "-redis", "http://127.0.0.1:6379"}, 1, "is not a redis:// or rediss:// URL"},
		{[]string{"stats", "-redis", dead}, 1, "is unreachable"},
		{[]string{"export", "-data", empty, "-status", "9xx"}, 1, `-status "9xx"`},
		{[]string{"export", "-data", empty, "-since", "yesterday"}, 1, "RFC 3339"},
		{[]string{"serve", "-data", empty, "-addr", "0.0.0.0:0"}, 1, "needs -basic-auth"},
		{[]string{"serve", "-data", empty, "-basic-auth", "nopassword"}, 1, "want user:password"},
		{[]string{"import", "-data", empty}, 1, "standard input:1: ui: not a record's JSON"},
	} {
		code, _, stderr := appstats(t, "{not json}\n", tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("appstats %v = %d, %q; want %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
		if strings.Contains(stderr, "hunter2") {
			t.Errorf("appstats %v shows the password: %q", tt.args, stderr)
		}
	}
	if code, stdout, _ := appstats(t, "", "-h"); code != 0 || !strings.Contains(stdout, "commands:") {
		t.Errorf("appstats -h = %d, %q", code, stdout)
	}
	if code, _, stderr := appstats(t, "", "stats", "-h"); code != 0 || !strings.Contains(stderr, "-window") {
		t.Errorf("appstats stats -h = %d, %q", code, stderr)
	}
}

// Records exported from a data directory import into another directory
// and into Redis whole, once: a second import finds them stored.
func TestExportImport(t *testing.T) {
	recs := testRecords(1, 120)
	dir := dataDir(t, recs)
	out := filepath.Join(t.TempDir(), "records.jsonl")
	code, _, stderr := appstats(t, "", "export", "-data", dir, "-o", out)
	if code != 0 || !strings.Contains(stderr, "exported 120 records") {
		t.Fatalf("export = %d, %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte("\n")); n != 120 {
		t.Fatalf("%d lines, want 120", n)
	}
	// Filters are the API's.
	code, filtered, _ := appstats(t, "", "export", "-data", dir, "-instance", "test/2", "-status", "5xx", "-window", "2h")
	if code != 0 {
		t.Fatal(code)
	}
	want := 0
	for _, r := range recs {
		if r.Instance == "test/2" && r.Status >= 500 {
			want++
		}
	}
	if got := strings.Count(filtered, "\n"); got != want || want == 0 {
		t.Errorf("filtered export: %d lines, want %d", got, want)
	}
	if code, limited, _ := appstats(t, "", "export", "-data", dir, "-limit", "7"); code != 0 || strings.Count(limited, "\n") != 7 {
		t.Errorf("export -limit 7: %d lines", strings.Count(limited, "\n"))
	}

	r := testservers.StartRedis(t)
	for _, target := range [][]string{{"-data", filepath.Join(t.TempDir(), "new")}, {"-redis", "redis://" + r.Addr, "-prefix", "imported"}} {
		args := append([]string{"import"}, target...)
		if target[0] == "-data" {
			os.Mkdir(target[1], 0o700)
		}
		code, stdout, stderr := appstats(t, string(b), args...)
		if code != 0 || !strings.Contains(stdout, "imported 120 records (0 already stored)") {
			t.Fatalf("import %v = %d, %q %q", target, code, stdout, stderr)
		}
		code, stdout, _ = appstats(t, "", append(args, out)...)
		if code != 0 || !strings.Contains(stdout, "imported 0 records (120 already stored)") {
			t.Errorf("second import %v = %d, %q", target, code, stdout)
		}
		// What was imported is what was exported, at microsecond precision
		// (the JSON's sums of calls, rpc_stats, were summed before rounding).
		code, again, _ := appstats(t, "", append([]string{"export"}, target...)...)
		if code != 0 {
			t.Fatal(code)
		}
		if !reflect.DeepEqual(parseLines(t, again), parseLines(t, string(b))) {
			t.Errorf("export after import %v differs from the first export", target)
		}
		code, table, _ := appstats(t, "", append([]string{"stats", "-window", "2h"}, target...)...)
		if code != 0 || !strings.Contains(table, ": 120 requests") {
			t.Errorf("stats after import %v = %d:\n%s", target, code, table)
		}
	}
}

func parseLines(t *testing.T, s string) []*recording.Record {
	t.Helper()
	var out []*recording.Record
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		r, err := ui.UnmarshalRecord([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func TestStats(t *testing.T) {
	recs := testRecords(2, 300)
	dir := dataDir(t, recs)
	code, out, stderr := appstats(t, "", "stats", "-data", dir, "-window", "2h")
	if code != 0 {
		t.Fatalf("stats = %d, %s", code, stderr)
	}
	want := storetest.ExpectStats(recs, store.Window{Since: time.Now().Add(-2 * time.Hour), Until: time.Now()})
	for _, s := range []string{
		fmt.Sprintf(": %d requests, %d errors", want.Requests, want.Errors),
		"RPC stats", "Path stats", "Instances",
		"sql SELECT users", "GET /a/{id}", "(no route)", "test/3",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("stats output lacks %q:\n%s", s, out)
		}
	}
	t.Log("\n" + out)
}

// A data directory a running service holds is read through copies: export
// works, serve and tail follow the service, import refuses.
func TestLockedDirectory(t *testing.T) {
	// The copies go to a temporary directory of this test's own, so that
	// what other processes leave in the machine's does not count.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	w, err := badgerstore.Open(dir, badgerstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	if err := w.Write(ctx, testRecords(3, 50)); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := appstats(t, "", "export", "-data", dir)
	if code != 0 || strings.Count(out, "\n") != 50 || !strings.Contains(stderr, "in use by a running service: reading a copy") {
		t.Errorf("export of a held directory = %d, %d lines, %q", code, strings.Count(out, "\n"), stderr)
	}
	if code, _, stderr := appstats(t, "", "import", "-data", dir); code != 1 || !strings.Contains(stderr, "in use by a running service: stop it first") {
		t.Errorf("import into a held directory = %d, %q", code, stderr)
	}

	// serve follows the service through new copies.
	stdout, _, stop := background(t, "serve", "-data", dir, "-addr", "127.0.0.1:0", "-refresh", "100ms")
	base := dashboardURL(t, stdout)
	requests := func() int64 {
		var st struct {
			Requests int64 `json:"requests"`
		}
		getJSON(t, base+"api/stats?window=2h", &st)
		return st.Requests
	}
	if n := requests(); n != 50 {
		t.Fatalf("served %d requests, want 50", n)
	}
	// tail prints the newest, then what the service writes next.
	tailOut, _, stopTail := background(t, "tail", "-data", dir, "-n", "3", "-refresh", "100ms", "-interval", "50ms")
	waitFor(t, "tail's first lines", func() bool { return strings.Count(tailOut.String(), "\n") == 3 })
	more := storetest.Records(4, time.Now().Add(-time.Second), time.Millisecond, 20)
	if err := w.Write(ctx, more); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the dashboard to show the new records", func() bool { return requests() == 70 })
	waitFor(t, "tail to print the new records", func() bool { return strings.Count(tailOut.String(), "\n") == 23 })
	if !strings.Contains(tailOut.String(), more[19].ID.String()) {
		t.Errorf("tail did not print the newest record:\n%s", tailOut.String())
	}
	if code := stopTail(); code != 0 {
		t.Errorf("tail exit status %d", code)
	}
	if code := stop(); code != 0 {
		t.Errorf("serve exit status %d", code)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "appstats-snapshot-*")); len(left) > 0 {
		t.Errorf("copies left behind: %v", left)
	}
}

var dashboardRE = regexp.MustCompile(`dashboard at (http://\S+/)`)

// dashboardURL waits for serve to say where it listens.
func dashboardURL(t *testing.T, stdout *testlog.Buffer) string {
	t.Helper()
	var m []string
	waitFor(t, "serve to listen", func() bool { m = dashboardRE.FindStringSubmatch(stdout.String()); return m != nil })
	return m[1]
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// serve of a Redis refreshes live when any instance writes, asks for a
// password when told to, and refuses to clear.
func TestServeRedis(t *testing.T) {
	r := testservers.StartRedis(t)
	url := "redis://" + r.Addr
	ctx := context.Background()
	w, err := redisstore.Open(ctx, url, redisstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(ctx, testRecords(5, 30)); err != nil {
		t.Fatal(err)
	}
	t.Setenv(basicAuthEnv, "admin:s3cret")
	stdout, _, stop := background(t, "serve", "-redis", url, "-addr", "127.0.0.1:0")
	base := dashboardURL(t, stdout)
	resp, err := http.Get(base + "api/stats")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without a password: %s, want 401", resp.Status)
	}
	authed := strings.Replace(base, "http://", "http://admin:s3cret@", 1)
	var st struct {
		Requests  int64 `json:"requests"`
		Instances []any `json:"instances"`
	}
	getJSON(t, authed+"api/stats", &st)
	if st.Requests != 30 || len(st.Instances) != 3 {
		t.Errorf("served %d requests of %d instances, want 30 of 3", st.Requests, len(st.Instances))
	}
	// The live stream announces another process's writes.
	events, err := http.Get(authed + "events")
	if err != nil {
		t.Fatal(err)
	}
	defer events.Body.Close()
	sc := bufio.NewScanner(events.Body)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "event: hello") {
	}
	// serve subscribes to the store's announcements in a goroutine of its
	// own: a write before that is not announced. Wait for the subscription
	// (to the p:events channel of package redisstore), then write.
	r.WaitSubscribed(t, redisstore.DefaultPrefix+":events", 1)
	if err := w.Write(ctx, testRecords(6, 4)); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() && sc.Text() != "event: records" {
	}
	if sc.Err() != nil {
		t.Fatal(sc.Err())
	}
	req, _ := http.NewRequest("POST", authed+"clear", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Accept", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n, _ := w.Len(ctx); resp.StatusCode < 400 || n != 34 {
		t.Errorf("POST clear = %s, %d records left; want refused, 34", resp.Status, n)
	}
	if code := stop(); code != 0 {
		t.Errorf("serve exit status %d", code)
	}
}

// tail -n N prints the N newest records and then only records written
// after it started, not the older ones its look-back window covers; -n 0
// prints only new ones.
func TestTailPrintsOnlyNew(t *testing.T) {
	// 30 records of the last 30 seconds: all within the look-back.
	dir := dataDir(t, storetest.Records(5, time.Now().Add(-30*time.Second), time.Second, 30))
	for _, n := range []string{"3", "0"} {
		out, _, stop := background(t, "tail", "-data", dir, "-n", n, "-interval", "10ms")
		if n != "0" {
			waitFor(t, "tail's first lines", func() bool { return strings.Count(out.String(), "\n") >= 3 })
		}
		// Many polls: each would print what it has not seen.
		time.Sleep(500 * time.Millisecond)
		if code := stop(); code != 0 {
			t.Fatalf("tail -n %s exit status %d", n, code)
		}
		if got := strings.Count(out.String(), "\n"); fmt.Sprint(got) != n {
			t.Errorf("tail -n %s printed %d lines over a store nothing wrote to:\n%s", n, got, out.String())
		}
	}
}
