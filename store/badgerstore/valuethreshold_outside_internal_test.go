package badgerstore

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store/storetest"
)

const smallThresholdChildEnv = "BADGERSTORE_SMALL_THRESHOLD_CHILD_DIR"

// TestSmallValueThresholdSurvivesCrash: a store opened with ValueThreshold
// 1 or 2 keeps, across a crash (its process exiting without Close), every
// record a Write acknowledged. Badger ends each transaction with a marker
// whose value is its commit timestamp in decimal; once that is at least
// ValueThreshold long (always at 1, from timestamp 10 at 2, from 10^19 at
// 20), the marker went to the value log and the write-ahead log held a
// pointer in its place, which Badger's replay, parsing it as a number,
// took for the log's end: everything since the last memtable flush was
// dropped (here all 2,000 records at 1, all but the first few hundred at
// 2). Now a ValueThreshold below 21 is taken as 21, with a warning.
func TestSmallValueThresholdSurvivesCrash(t *testing.T) {
	const n = 2000
	if dir := os.Getenv(smallThresholdChildEnv); dir != "" {
		vt := int64(1)
		if strings.HasSuffix(dir, "-2") {
			vt = 2
		}
		s, err := Open(dir, Options{ValueThreshold: vt, RecordBudget: -1, RetentionInterval: -1})
		if err != nil {
			fmt.Println("open:", err)
			os.Exit(2)
		}
		start := time.Now().Add(-time.Hour)
		for i := 0; i < n; i += 20 {
			if err := s.Write(context.Background(), storetest.Records(uint64(i), start.Add(time.Duration(i)*time.Millisecond), time.Millisecond, 20)); err != nil {
				fmt.Println("write:", err)
				os.Exit(2)
			}
		}
		fmt.Println("ok")
		os.Exit(0) // no Close: as a crash leaves the store
	}
	for _, vt := range []int64{1, 2} {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("s-%d", vt))
		cmd := exec.Command(os.Args[0], "-test.run=^TestSmallValueThresholdSurvivesCrash$")
		cmd.Env = append(os.Environ(), smallThresholdChildEnv+"="+dir)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "ok") {
			t.Fatalf("ValueThreshold %d: child: %v\n%s\n%s", vt, err, out.String(), lastLines(errOut.String(), 5))
		}
		var logs bytes.Buffer
		s, err := Open(dir, Options{ValueThreshold: vt, RecordBudget: -1, RetentionInterval: -1, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("ValueThreshold %d: reopening after the crash: %v", vt, err)
		}
		got, used := s.count.Load(), s.opts.ValueThreshold
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if got != n {
			t.Errorf("ValueThreshold %d: %d records after the crash; want the %d acknowledged", vt, got, n)
		}
		if used != 21 || !strings.Contains(logs.String(), "ValueThreshold below its minimum") {
			t.Errorf("ValueThreshold %d: opened with %d, logged %q; want 21 and a warning", vt, used, logs.String())
		}
	}
}
