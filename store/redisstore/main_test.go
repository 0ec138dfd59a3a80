package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"

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
	// go-redis logs failed dials to the standard logger; the tests that
	// stop servers make many.
	redis.SetLogger(&logging.VoidLogger{})
	os.Exit(m.Run())
}

// writerRecords are the records writer process k writes: n records from
// start, one every spacing, all its own instance; varied small records, or
// with record20 storetest.Record20's 20 calls with stacks.
func writerRecords(k int, start time.Time, spacing time.Duration, n int, record20 bool) []*recording.Record {
	recs := storetest.Records(uint64(1000+k), start, spacing, n)
	for i, r := range recs {
		if record20 {
			r = storetest.Record20(r.Start, uint32(k)<<24|uint32(i))
			recs[i] = r
		}
		r.Instance = fmt.Sprintf("proc/%d", k)
	}
	return recs
}

// A writerSpec tells a writer process what to write.
type writerSpec struct {
	url, prefix string
	k           int
	start       time.Time
	spacing     time.Duration
	n, batch    int
	record20    bool
	fold        time.Duration // FoldInterval
}

func (w writerSpec) String() string {
	return fmt.Sprintf("%s %s %d %d %s %d %d %t %s", w.url, w.prefix, w.k, w.start.UnixNano(), w.spacing, w.n, w.batch, w.record20, w.fold)
}

// runWriter writes writerRecords, in batches, to the store a writerSpec
// names.
func runWriter(spec string) error {
	f := strings.Fields(spec)
	if len(f) != 9 {
		return fmt.Errorf("bad spec %q", spec)
	}
	w := writerSpec{url: f[0], prefix: f[1]}
	w.k, _ = strconv.Atoi(f[2])
	ns, _ := strconv.ParseInt(f[3], 10, 64)
	w.start = time.Unix(0, ns)
	w.spacing, _ = time.ParseDuration(f[4])
	w.n, _ = strconv.Atoi(f[5])
	w.batch, _ = strconv.Atoi(f[6])
	w.record20 = f[7] == "true"
	w.fold, _ = time.ParseDuration(f[8])
	ctx := context.Background()
	s, err := redisstore.Open(ctx, w.url, redisstore.Options{
		Prefix: w.prefix, FoldInterval: w.fold, RetentionInterval: -1, WriteTimeout: 30 * time.Second,
	})
	if err != nil {
		return err
	}
	recs := writerRecords(w.k, w.start, w.spacing, w.n, w.record20)
	for i := 0; i < len(recs); i += w.batch {
		if err := s.Write(ctx, recs[i:min(i+w.batch, len(recs))]); err != nil {
			return err
		}
	}
	return s.Close()
}

// startWriters starts a writer process per spec and returns a function
// that waits for them.
func startWriters(t testing.TB, specs []writerSpec) (wait func()) {
	t.Helper()
	cmds := make([]*exec.Cmd, len(specs))
	outs := make([]bytes.Buffer, len(specs))
	for i, w := range specs {
		cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
		cmd.Env = append(os.Environ(), writerEnv+"="+w.String())
		cmd.Stdout, cmd.Stderr = &outs[i], &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	return func() {
		t.Helper()
		for i, cmd := range cmds {
			if err := cmd.Wait(); err != nil {
				t.Errorf("writer %d: %v\n%s", i, err, outs[i].String())
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}
}
