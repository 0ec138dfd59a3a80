package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// prefixes numbers the key prefixes tests use.
var prefixes atomic.Int64

// writerEnv makes the test binary a writer process (see runWriter) instead
// of running tests.
const writerEnv = "REDISSTORE_TEST_WRITER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(writerEnv); spec != "" {
		if err := runWriter(spec); err != nil {
			fmt.Fprintln(os.Stderr, "writer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// writerRecords are the records writer process k writes: n records from
// start, one every spacing, all its own instance.
func writerRecords(k int, start time.Time, spacing time.Duration, n int) []*recording.Record {
	recs := storetest.Records(uint64(1000+k), start, spacing, n)
	for _, r := range recs {
		r.Instance = fmt.Sprintf("proc/%d", k)
	}
	return recs
}

// runWriter writes writerRecords in small batches to the store named by
// spec ("url prefix k start-unix-ns spacing n"), folding every few
// milliseconds, so that writers and folds of several processes race on the
// same minutes.
func runWriter(spec string) error {
	f := strings.Fields(spec)
	if len(f) != 6 {
		return fmt.Errorf("bad spec %q", spec)
	}
	k, _ := strconv.Atoi(f[2])
	startNs, _ := strconv.ParseInt(f[3], 10, 64)
	spacing, _ := time.ParseDuration(f[4])
	n, _ := strconv.Atoi(f[5])
	ctx := context.Background()
	s, err := redisstore.Open(ctx, f[0], redisstore.Options{
		Prefix: f[1], FoldInterval: 3 * time.Millisecond, RetentionInterval: -1, WriteTimeout: 30 * time.Second,
	})
	if err != nil {
		return err
	}
	recs := writerRecords(k, time.Unix(0, startNs), spacing, n)
	for i := 0; i < len(recs); i += 7 {
		if err := s.Write(ctx, recs[i:min(i+7, len(recs))]); err != nil {
			return err
		}
	}
	return s.Close()
}
