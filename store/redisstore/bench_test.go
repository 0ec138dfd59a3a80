package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/cputime"
	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// redisCPU returns the CPU time Redis has used (INFO cpu: user + system).
func redisCPU(tb testing.TB, c *redis.Client) time.Duration {
	tb.Helper()
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var total float64
	for _, l := range strings.Split(info, "\r\n") {
		for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
			if v, ok := strings.CutPrefix(l, k); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					tb.Fatal(err)
				}
				total += f
			}
		}
	}
	return time.Duration(total * float64(time.Second))
}

// BenchmarkWrite measures ingest of 20-call records (storetest.Record20)
// from one process, in batches of 128 as the recorder handed them over until
// recording.DefaultBatchSize became 256: the
// rate, the CPU this process spends in Write and Redis spends per record,
// and the memory Redis uses per record (INFO memory, after folding).
func BenchmarkWrite(b *testing.B) {
	r := testservers.StartRedis(b)
	c := clientOf(b, r.Addr)
	before, cpu := usedMemory(b, c), redisCPU(b, c)
	s := openAt(b, "redis://"+r.Addr, redisstore.Options{MaxRecords: -1, MaxBytes: -1, RetentionInterval: -1})
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	const batch = 128
	recs := make([]*recording.Record, batch)
	n := 0
	var own time.Duration // this process's CPU time in Write
	b.ReportAllocs()
	for b.Loop() {
		for i := range recs {
			recs[i] = storetest.Record20(start.Add(time.Duration(n)*time.Millisecond), uint32(n))
			n++
		}
		c0, _ := cputime.Process()
		if err := s.Write(ctx, recs); err != nil {
			b.Fatal(err)
		}
		c1, _ := cputime.Process()
		own += c1 - c0
	}
	b.StopTimer()
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(own)/float64(time.Microsecond)/float64(n), "cpu-µs/record")
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(redisCPU(b, c)-cpu)/float64(time.Microsecond)/float64(n), "redis-cpu-µs/record")
	b.ReportMetric(float64(usedMemory(b, c)-before)/float64(n), "redis-B/record")
}

// BenchmarkRewrite measures writing records again (their IDs and starts,
// another status), in batches of 128 as BenchmarkWrite writes them: the
// second round trip that removes the summaries the records replaced
// (the records were written first, outside the timing and Redis's CPU).
func BenchmarkRewrite(b *testing.B) {
	r := testservers.StartRedis(b)
	c := clientOf(b, r.Addr)
	s := openAt(b, "redis://"+r.Addr, redisstore.Options{MaxRecords: -1, MaxBytes: -1, RetentionInterval: -1})
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	const batch = 128
	n := 0
	b.ReportAllocs()
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		recs := make([]*recording.Record, batch)
		for i := range recs {
			recs[i] = storetest.Record20(start.Add(time.Duration(n)*time.Millisecond), uint32(n))
			n++
		}
		if err := s.Write(ctx, recs); err != nil {
			b.Fatal(err)
		}
		for _, rec := range recs {
			rec.Status = 599
		}
		c0 := redisCPU(b, c)
		b.StartTimer()
		if err := s.Write(ctx, recs); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += redisCPU(b, c) - c0
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(n), "redis-cpu-µs/record")
	if got := storetest.ListAll(b, s, store.Query{}); len(got) != n {
		b.Fatalf("List: %d records for %d IDs", len(got), n)
	}
}

// ingestRecords is how many records each writer process of
// BenchmarkIngest4Procs writes: 5,000, or REDISSTORE_BENCH_INGEST (the
// README's figures: 20,000).
func ingestRecords() int {
	n := 5000
	if v := os.Getenv("REDISSTORE_BENCH_INGEST"); v != "" {
		fmt.Sscan(v, &n)
	}
	return n
}

// BenchmarkIngest4Procs measures the ingest rate of a fleet: four writer
// processes, each writing 20-call records in batches of 128 into the same
// minutes, folding every 5 s as by default; the CPU Redis spends and the
// memory it uses per record. One op is the whole run.
func BenchmarkIngest4Procs(b *testing.B) {
	for _, mode := range []string{"server", "cluster"} {
		b.Run(mode, func(b *testing.B) {
			var url string
			var nodes []*testservers.Redis
			if mode == "server" {
				nodes = []*testservers.Redis{testservers.StartRedis(b)}
			} else {
				nodes = testservers.StartRedisCluster(b, 3)
			}
			url = "redis://" + nodes[0].Addr
			usage := func() (mem int64, cpu time.Duration) {
				for _, n := range nodes {
					c := redis.NewClient(&redis.Options{Addr: n.Addr})
					mem += usedMemory(b, c)
					cpu += redisCPU(b, c)
					c.Close()
				}
				return mem, cpu
			}
			n := ingestRecords()
			total := 0
			var used int64
			var cpu time.Duration
			for b.Loop() {
				prefix := fmt.Sprintf("ingest%d", prefixes.Add(1))
				mem0, cpu0 := usage()
				specs := make([]writerSpec, 4)
				start := time.Now().Add(-time.Hour)
				for k := range specs {
					specs[k] = writerSpec{url: url, prefix: prefix, k: k, start: start, spacing: time.Hour / time.Duration(n),
						n: n, batch: 128, record20: true, fold: 5 * time.Second}
				}
				startWriters(b, specs)()
				total += 4 * n
				mem1, cpu1 := usage()
				used += mem1 - mem0
				cpu += cpu1 - cpu0
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "records/s")
			b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(total), "redis-cpu-µs/record")
			b.ReportMetric(float64(used)/float64(total), "redis-B/record")
		})
	}
}

// readSizes are the store sizes BenchmarkRead uses: 100k records, and 1M
// with REDISSTORE_BENCH_1M=1 (about 800 MB of Redis memory).
func readSizes() []int {
	out := []int{100_000}
	if os.Getenv("REDISSTORE_BENCH_1M") != "" {
		out = append(out, 1_000_000)
	} else if testing.Short() {
		out = []int{10_000}
	}
	return out
}

// BenchmarkRead measures the dashboard's reads — Get, the first List page,
// Stats and Series over the last hour and the last 7 days — on stores of
// 100k (and 1M) records spread over 7 days (storetest.Dataset, as
// badgerstore's BenchmarkRead), folded, in a Redis on loopback.
func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	for _, n := range readSizes() {
		r := testservers.StartRedis(b)
		c := redis.NewClient(&redis.Options{Addr: r.Addr})
		before := usedMemory(b, c)
		s := openAt(b, "redis://"+r.Addr, redisstore.Options{MaxRecords: -1, MaxBytes: -1, RetentionInterval: -1, FoldInterval: -1})
		t0 := time.Now()
		ids, err := storetest.Dataset(n, time.Now().Add(-time.Minute), 7*24*time.Hour-time.Hour, 1000, func(recs []*recording.Record) error {
			return s.Write(ctx, recs)
		})
		if err != nil {
			b.Fatal(err)
		}
		// Fold every delta (the store's own fold, woken by writes, may hold
		// an hour's lease for a moment).
		for {
			if err := s.FoldAll(ctx); err != nil {
				b.Fatal(err)
			}
			if p, err := s.Pending(ctx); err != nil || p == 0 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		used := usedMemory(b, c) - before
		c.Close()
		fmt.Fprintf(os.Stderr, "dataset of %d records written in %v; Redis memory %d MB, %d bytes per record\n",
			n, time.Since(t0).Round(time.Millisecond), used>>20, used/int64(n))
		storetest.BenchmarkReads(b, s, n, ids)
		s.Close()
		r.Stop()
	}
}
