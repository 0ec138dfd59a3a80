package badgerstore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/storetest"
)

const crashDirEnv = "BADGERSTORE_CRASH_DIR"

// crashChild writes batches forever, printing the number of records each
// acknowledged Write has stored so far, until it is killed.
func crashChild(dir string) {
	// Fold often, so that the kill also lands between folds and
	// memtable flushes, not only between writes.
	s, err := badgerstore.Open(dir, badgerstore.Options{RecordBudget: -1, FoldInterval: 5 * time.Millisecond})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	start := time.Now().Add(-time.Hour)
	for n := 0; ; n += 50 {
		recs := storetest.Records(uint64(n), start.Add(time.Duration(n)*time.Millisecond), time.Millisecond, 50)
		if err := s.Write(context.Background(), recs); err != nil {
			fmt.Println("write:", err)
			os.Exit(2)
		}
		fmt.Println("ok", n+50)
	}
}

// TestCrash kills a writing process with SIGKILL mid-write (on Windows
// and Plan 9, the os package's Kill), then reopens its store: every
// acknowledged record is there, List, Get and Stats work, and rollups
// agree with the records.
func TestCrash(t *testing.T) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	if runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no processes to start on " + runtime.GOOS)
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrash$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || f[0] != "ok" {
			t.Fatalf("child: %s", sc.Text())
		}
		acked, _ = strconv.Atoi(f[1])
		if acked >= 30000 {
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 {
			acked, _ = strconv.Atoi(f[1])
		}
	}
	err = cmd.Wait()
	if !killed(cmd.ProcessState) {
		t.Fatalf("child did not die by Kill: %v", err)
	}
	if acked < 30000 {
		t.Fatalf("child acknowledged only %d records", acked)
	}

	s, err := badgerstore.Open(dir, badgerstore.Options{RecordBudget: -1})
	if err != nil {
		t.Fatalf("reopen after kill -9: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	var listed []recording.ID
	q := store.Query{Limit: store.MaxLimit}
	for {
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, sum := range p.Records {
			listed = append(listed, sum.ID)
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	t.Logf("acknowledged %d records before SIGKILL; %d after reopening", acked, len(listed))
	if len(listed) < acked {
		t.Errorf("listed %d records, want at least the %d acknowledged", len(listed), acked)
	}
	if len(listed) != s.Len() {
		t.Errorf("Len = %d, listed %d", s.Len(), len(listed))
	}
	for _, id := range []recording.ID{listed[0], listed[len(listed)/2], listed[len(listed)-1]} {
		if _, err := s.Get(ctx, id); err != nil {
			t.Errorf("Get(%s): %v", id, err)
		}
	}
	st, err := s.Stats(ctx, store.Window{Since: time.Now().Add(-2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != int64(len(listed)) {
		t.Errorf("Stats counts %d requests, List %d: rollups and records disagree", st.Requests, len(listed))
	}
	if err := s.Write(ctx, storetest.Records(999, time.Now().Add(-time.Minute), time.Millisecond, 10)); err != nil {
		t.Errorf("Write after reopen: %v", err)
	}
}
