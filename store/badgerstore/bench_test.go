package badgerstore

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/cputime"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/storetest"
)

// heapPeak samples the heap every few milliseconds until stop is called,
// and returns two peaks: of the heap's objects (what a process's heap
// takes: live objects and garbage not yet swept, which at GOGC=100 grows
// to about twice the live heap before a collection), and of the live heap
// as the last collection marked it (what the store and Badger hold).
func heapPeak() (stop func() (objects, live uint64)) { return heapPeakFrom(0, 0) }

// heapPeakFrom is heapPeak with peaks at least objects and live.
//
// BADGERSTORE_PEAKPROFILE=path writes a heap profile to path whenever the
// live heap (as the last collection marked it) reaches a new peak, at
// least a MiB over the one last written, so that path ends with the
// profile of the round's highest live heap: what was live just after
// the collection that found it, a collection being forced before each
// profile (so the profiled run collects more often than the others; the
// peak of the heap's objects is the live heap plus the garbage allocated
// since the last collection, which GOGC lets grow to about as much
// again).
func heapPeakFrom(objects, live uint64) (stop func() (objects, live uint64)) {
	done := make(chan struct{})
	peak, peakLive := objects, live
	prof := os.Getenv("BADGERSTORE_PEAKPROFILE")
	var profiled uint64
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			peakLive = max(peakLive, s[1].Value.Uint64())
			if l := s[1].Value.Uint64(); prof != "" && l >= profiled+1<<20 && l >= peakLive {
				profiled = l
				// A heap profile shows the heap as of a collection or
				// two ago; one forced now shows this moment's.
				runtime.GC()
				if f, err := os.Create(prof); err == nil {
					pprof.WriteHeapProfile(f)
					f.Close()
				}
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return func() (uint64, uint64) { close(done); wg.Wait(); return peak, peakLive }
}

func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return -1
}

func withID(r *recording.Record, start time.Time, n uint64) *recording.Record {
	c := *r
	c.Start = start
	binary.BigEndian.PutUint64(c.ID[:8], uint64(start.UnixNano()))
	binary.BigEndian.PutUint64(c.ID[8:], n)
	return &c
}

// BenchmarkWrite measures ingest of 20-call records through Write, in
// batches of 256 as the recorder's background writer hands them over, a
// record every 50 µs (20,000 a second):
//
//   - persisted: every record persisted (RecordBudget -1), successful
//     records of one route, as before the storage budget;
//   - over-budget: records of one route, each second's first 20 persisted
//     and the rest (99.9%) over budget, counted in the rollups and kept
//     in the in-memory ring;
//   - mix: ten routes, durations spread exponentially, 1% failed; the
//     default budget persists each second's first 20 of each route, the
//     failed and the slowest as they come (about 2% of the records);
//   - hello: the record cmd/appstats-bench's badger scenario writes (its
//     hello handler: no calls, two request headers, three attributes),
//     one route, durations spread exponentially about 50 µs, the default
//     budget: what a record counted and held in the ring, not persisted,
//     costs (99.9% of them), its strings all the very strings of the
//     record before;
//   - hello-fresh: hello's records with their strings as a net/http
//     server's records have them (appstats-bench's badger scenario,
//     measured in the thirty-fourth round of docs/BENCHMARKS.md): the
//     method, the path and the user agent attribute made afresh for each
//     request (the same bytes, another string), the remote address one
//     of eight connections' in turn.
//
// cpu-µs/record is the process's CPU time (user and system, all threads,
// Badger's compactions included) per record written, persisted or not.
// peak-heap-MiB is the highest the heap's objects reached from a warm-up
// that runs past Badger's first memtable flush (see writeBench) to the end
// of the round, whatever b.N is: ingest's steady peak, not only a burst's
// first megabytes.
func BenchmarkWrite(b *testing.B) {
	tmpl := storetest.Record20(time.Now(), 0)
	tmpl.Status, tmpl.Error, tmpl.Panic = 200, "", ""
	routes := make([]string, 10)
	for i := range routes {
		routes[i] = fmt.Sprintf("GET /shop/r%d/{id}", i)
	}
	for _, bc := range []struct {
		name   string
		budget int
		vary   bool
	}{
		{"persisted", -1, false},
		{"over-budget", 0, false},
		{"mix", 0, true},
		{"hello", 0, false},
		{"hello-fresh", 0, false},
	} {
		var rng uint64 = 1
		hdr := map[string][]string{"Accept-Encoding": {"gzip"}, "User-Agent": {"Go-http-client/1.1"}}
		attrs := []recording.Attr{{Key: "url.scheme", Value: "http"}, {Key: "network.protocol.version", Value: "1.1"}, {Key: "user_agent.original", Value: "Go-http-client/1.1"}}
		// hello-fresh's strings as a net/http server's records have them
		// (appstats-bench's badger scenario, thirty-fourth round's probe):
		// the method, the path and the user agent made afresh for each
		// request (equal bytes, another string each record), the remote
		// address one of eight connections', in turn; fresh[n%len(fresh)]
		// is record n's, made before the timer starts. The header map
		// (hdr), and so the User-Agent header's value, stays the same
		// strings record to record, as in a net/http server's records:
		// net/http makes the value afresh, but the recorder gives a
		// record whose headers are the last request's that request's map
		// (or the map pooled records share: see recording's headerMap),
		// and the thirty-fourth round's probe found the header's value the
		// very string of the record before in all but one record
		// (docs/BENCHMARKS.md); user_agent.original, the attribute, is
		// the request's own string.
		type freshStrs struct {
			method, path, remote string
			attrs                [3]recording.Attr
		}
		var fresh []freshStrs
		if bc.name == "hello-fresh" {
			fresh = make([]freshStrs, 2*writeBatch)
			for i := range fresh {
				f := &fresh[i]
				f.method, f.path = strings.Clone("GET"), strings.Clone("/hello")
				f.remote = fmt.Sprintf("127.0.0.1:%d", 43950+i%8)
				copy(f.attrs[:], attrs)
				f.attrs[2].Value = strings.Clone(attrs[2].Value)
			}
		}
		w := &writeBench{dir: b.TempDir(), opts: Options{RetentionInterval: -1, RecordBudget: bc.budget}, vary: func(r *recording.Record, n int) {
			if bc.name == "hello" || bc.name == "hello-fresh" {
				rng = rng*6364136223846793005 + 1442695040888963407
				u := float64(rng>>11) / (1 << 53)
				*r = recording.Record{
					ID: r.ID, TraceID: r.TraceID, SpanID: r.SpanID, Kind: recording.KindHTTP, Start: r.Start,
					Duration: time.Duration(-math.Log(1-u) * float64(50*time.Microsecond)),
					Method:   "GET", Path: "/hello", Route: "GET /hello", Status: 200, ResponseBytes: 5,
					Headers: hdr, Remote: "127.0.0.1:43954", Instance: "vm/32050", Overhead: 3 * time.Microsecond,
					Attrs: attrs,
				}
				if fresh != nil {
					f := &fresh[n%len(fresh)]
					r.Method, r.Path, r.Remote, r.Attrs = f.method, f.path, f.remote, f.attrs[:]
				}
				return
			}
			if !bc.vary {
				return
			}
			rng = rng*6364136223846793005 + 1442695040888963407
			r.Route = routes[rng>>60%10]
			u := float64(rng>>11) / (1 << 53)
			r.Duration = time.Duration(-math.Log(1-u) * float64(20*time.Millisecond))
			if n%100 == 7 {
				r.Status = 500
			}
		}}
		b.Cleanup(w.close)
		b.Run(bc.name, w.round)
		// Closed now, not at the end: the next case's heap is its own.
		w.close()
	}
}

// BenchmarkWriteAfterFuture is BenchmarkWrite's persisted case in a store
// that holds one record from ten years ahead (see futureSkew): the
// records written after it are new all the same, not looked up (see
// replaced).
func BenchmarkWriteAfterFuture(b *testing.B) {
	w := &writeBench{dir: b.TempDir(), opts: Options{RetentionInterval: -1, RecordBudget: -1}, vary: func(r *recording.Record, n int) {
		if n == 0 {
			*r = *withID(r, r.Start.AddDate(10, 0, 0), 1<<63)
		}
	}}
	b.Cleanup(w.close)
	b.Run("persisted", w.round)
}

// writeBench is one case of BenchmarkWrite: a store that every round of
// the benchmark (each b.N the testing package tries) goes on writing
// 20-call records to, 50 µs apart, each changed by vary; it reports
// records/s, the heap's peak (peak-heap-MiB: objects, garbage included;
// peak-live-heap-MiB: live as collections found it), the live heap after
// the round, and the CPU time per record.
//
// The first round opens the store and, before its timed records, writes
// a warm-up of the same records until Badger has flushed its first
// memtable to a level-0 table (warmup-records says how many that took).
// A flush holds the full memtable's arena, the next one's and the table
// builder's buffers at once: the heap's highest point in steady ingest,
// which a run whose b.N ended before the first flush (about 1.15 million
// hello records at the default sizes) never reached. The peaks are sampled from the warm-up's
// start to the end of each round, so every round's cover a flush; the
// timer, records/s, cpu-µs/record and %persisted count only the round's
// b.N timed records. BADGERSTORE_BENCH_WARMUP=off skips the warm-up
// (scripts/callgrind-store.sh: its instruction counts are per record, and
// the warm-up would take minutes under valgrind); the peaks then cover
// only what the rounds wrote.
// BADGERSTORE_BENCH_SYNCWRITES=on opens the store with SyncWrites.
type writeBench struct {
	opts Options
	vary func(r *recording.Record, n int)

	dir    string // the store's directory, the caller's (a parent's b.TempDir)
	s      *Store
	tmpl   *recording.Record
	start  time.Time
	recs   []*recording.Record
	copies []recording.Record
	n      int // records written
	warmup int
	stop   func() (objects, live uint64)
}

// maxWarmup bounds the warm-up: about twenty times what the hello case
// needs to fill its first memtable at the default sizes.
const maxWarmup = 25_000_000

const writeBatch = 256

// write writes k records in batches of writeBatch.
func (w *writeBench) write(b *testing.B, k int) {
	for k > 0 {
		m := min(writeBatch, k)
		for j := range m {
			w.copies[j] = *withID(w.tmpl, w.start.Add(time.Duration(w.n)*50*time.Microsecond), uint64(w.n))
			w.vary(&w.copies[j], w.n)
			w.recs[j] = &w.copies[j]
			w.n++
		}
		if err := w.s.Write(context.Background(), w.recs[:m]); err != nil {
			b.Fatal(err)
		}
		k -= m
	}
}

// open opens the store in w.dir, starts sampling the heap and writes the
// warm-up.
func (w *writeBench) open(b *testing.B) {
	var err error
	if os.Getenv("BADGERSTORE_BENCH_SYNCWRITES") == "on" {
		w.opts.SyncWrites = true
	}
	if w.s, err = Open(w.dir, w.opts); err != nil {
		b.Fatal(err)
	}
	w.tmpl = storetest.Record20(time.Now(), 0)
	w.tmpl.Status, w.tmpl.Error, w.tmpl.Panic = 200, "", ""
	w.start = time.Now().Add(-time.Hour).Truncate(time.Second)
	w.recs = make([]*recording.Record, writeBatch)
	w.copies = make([]recording.Record, writeBatch)
	runtime.GC()
	w.stop = heapPeak()
	if os.Getenv("BADGERSTORE_BENCH_WARMUP") == "off" {
		return
	}
	// A flush has happened once a table newer than any at Open is in the
	// tree (a compaction's tables come only after a flush).
	newest := func() (id uint64) {
		for _, t := range w.s.db.Tables() {
			id = max(id, t.ID)
		}
		return id
	}
	for id0 := newest(); newest() == id0; {
		if w.n >= maxWarmup {
			b.Fatalf("no memtable flush after %d warm-up records", w.n)
		}
		w.write(b, 16*writeBatch)
	}
	w.warmup = w.n
}

// round is one round of the benchmark: b.N records, timed.
func (w *writeBench) round(b *testing.B) {
	if w.s == nil {
		w.open(b)
	}
	over0 := w.s.Health().OverBudget
	cpu0, _ := cputime.Process()
	b.ReportAllocs()
	b.ResetTimer()
	w.write(b, b.N)
	b.StopTimer()
	peak, peakLive := w.stop()
	cpu1, _ := cputime.Process()
	cpu := cpu1 - cpu0
	runtime.GC()
	live := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(live)
	if p := os.Getenv("BADGERSTORE_HEAPPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	h := w.s.Health()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peakLive)/(1<<20), "peak-live-heap-MiB")
	b.ReportMetric(float64(live[0].Value.Uint64())/(1<<20), "live-heap-MiB")
	b.ReportMetric(100*float64(uint64(b.N)-(h.OverBudget-over0))/float64(b.N), "%persisted")
	// CPU time per record (user+system, all threads): unlike records/s it
	// does not depend on what else the machine runs.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/record")
	b.ReportMetric(float64(w.warmup), "warmup-records")
	// The next round's peaks start from this one's: the warm-up's flush
	// stays in them.
	w.stop = heapPeakFrom(peak, peakLive)
}

// close stops the heap's sampler, closes the store and removes its
// directory (now, not only at the end of the parent benchmark). A second
// call does nothing: the benchmarks call it after their rounds and as a
// b.Cleanup, for the rounds that end in b.Fatal.
func (w *writeBench) close() {
	if w.stop != nil {
		w.stop()
		w.stop = nil
	}
	if w.s != nil {
		w.s.Close()
		w.s = nil
	}
	if w.dir != "" {
		os.RemoveAll(w.dir)
		w.dir = ""
	}
}

// TestWriteBenchCloseStopsSampler: a writeBench's rounds, closed, leave
// no heap sampler running (each round ends by starting the next round's).
func TestWriteBenchCloseStopsSampler(t *testing.T) {
	t.Setenv("BADGERSTORE_BENCH_WARMUP", "off")
	w := &writeBench{dir: t.TempDir(), opts: Options{RetentionInterval: -1, RecordBudget: -1}, vary: func(*recording.Record, int) {}}
	t.Cleanup(w.close)
	if r := testing.Benchmark(w.round); r.N == 0 {
		t.Fatal("the rounds failed")
	}
	w.close()
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "heapPeakFrom") {
			t.Errorf("a heap sampler still runs after close:\n%s", g)
		}
	}
}

// dataset is a store directory filled once per process and size.
type dataset struct {
	once sync.Once
	dir  string
	err  error
	ids  []string
}

var datasets sync.Map // size -> *dataset

// fill writes n synthetic records (5 calls each on average) with start
// times spread evenly over the last 7 days, through the batch path.
func fill(b *testing.B, n int) (string, []string) {
	b.Helper()
	v, _ := datasets.LoadOrStore(n, new(dataset))
	ds := v.(*dataset)
	ds.once.Do(func() {
		// BADGERSTORE_BENCH_DIR keeps data sets between runs.
		keep := os.Getenv("BADGERSTORE_BENCH_DIR")
		if keep != "" {
			ds.dir = filepath.Join(keep, fmt.Sprintf("records-%d", n))
			if ids, err := os.ReadFile(filepath.Join(ds.dir, "ids")); err == nil {
				ds.ids = strings.Fields(string(ids))
				ds.dir = filepath.Join(ds.dir, "db")
				return
			}
			os.RemoveAll(ds.dir)
		} else {
			ds.dir, ds.err = os.MkdirTemp("", fmt.Sprintf("badgerstore-bench-%d-", n))
			if ds.err != nil {
				return
			}
		}
		root := ds.dir
		ds.dir = filepath.Join(root, "db")
		s, err := Open(ds.dir, Options{MaxRecords: -1, MaxBytes: -1, RetentionInterval: -1})
		if err != nil {
			ds.err = err
			return
		}
		t0 := time.Now()
		ids, err := storetest.Dataset(n, time.Now().Add(-time.Minute), 7*24*time.Hour-time.Hour, 1000, func(recs []*recording.Record) error {
			return s.Write(context.Background(), recs)
		})
		if err != nil {
			ds.err = err
			return
		}
		for _, id := range ids {
			ds.ids = append(ds.ids, id.String())
		}
		if ds.err = s.Close(); ds.err != nil {
			return
		}
		if keep != "" {
			ds.err = os.WriteFile(filepath.Join(root, "ids"), []byte(strings.Join(ds.ids, "\n")), 0o644)
		}
		fmt.Fprintf(os.Stderr, "dataset of %d records built in %v\n", n, time.Since(t0).Round(time.Millisecond))
	})
	if ds.err != nil {
		b.Fatal(ds.err)
	}
	return ds.dir, ds.ids
}

func sizes(b *testing.B) []int {
	out := []int{100_000}
	if os.Getenv("BADGERSTORE_BENCH_1M") != "" {
		out = append(out, 1_000_000)
	} else if testing.Short() {
		out = []int{10_000}
	}
	return out
}

func openDataset(b *testing.B, n int) (*Store, []recording.ID) {
	dir, hexIDs := fill(b, n)
	ids := make([]recording.ID, len(hexIDs))
	for i, h := range hexIDs {
		id, err := recording.ParseID(h)
		if err != nil {
			b.Fatalf("dataset %s: %v", dir, err)
		}
		ids[i] = id
	}
	s, err := Open(dir, Options{MaxRecords: -1, MaxBytes: -1, RetentionInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s, ids
}

// BenchmarkRead measures the dashboard's reads: Get, the first List page,
// and Stats and Series over the last hour and the last 7 days, on stores
// of 100k records (and 1M with BADGERSTORE_BENCH_1M=1). Stats and Series
// read rollups, so their cost follows the window, not the record count.
func BenchmarkRead(b *testing.B) {
	ctx := context.Background()
	for _, n := range sizes(b) {
		s, ids := openDataset(b, n)
		storetest.BenchmarkReads(b, s, n, ids)
		runtime.GC()
		debug.FreeOSMemory()
		b.Run(fmt.Sprintf("records=%d/RSS", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Stats(ctx, store.Window{Since: time.Now().Add(-7 * 24 * time.Hour)}); err != nil {
					b.Fatal(err)
				}
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(vmRSS())/(1<<20), "VmRSS-MiB")
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MiB")
		})
	}
}

// BenchmarkOpen measures what checking the directory adds to Open (see
// checkDir: every table read and verified, the newest value-log file
// scanned) on stores of 100k records (1M with BADGERSTORE_BENCH_1M=1),
// against Open and Close as a whole.
func BenchmarkOpen(b *testing.B) {
	opts := Options{MaxRecords: -1, MaxBytes: -1, RetentionInterval: -1}
	for _, n := range sizes(b) {
		dir, _ := fill(b, n)
		b.Run(fmt.Sprintf("records=%d/Check", n), func(b *testing.B) {
			o, err := opts.withDefaults()
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := checkDir(dir, o.badger(dir)); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("records=%d/OpenClose", n), func(b *testing.B) {
			for b.Loop() {
				s, err := Open(dir, opts)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if os.Getenv("BADGERSTORE_BENCH_DIR") == "" {
		datasets.Range(func(_, v any) bool {
			if ds := v.(*dataset); ds.dir != "" {
				os.RemoveAll(filepath.Dir(ds.dir))
			}
			return true
		})
	}
	os.Exit(code)
}

// BenchmarkStatsUnderIngest measures the dashboard's live refresh of its
// figures, Stats over the last hour, while records of the current minute
// are written as fast as Write takes them (batches of 128, each record
// started just before it is written, as the recorder wrote until
// recording.DefaultBatchSize became 256). "now" leaves
// Until zero, as the dashboard does: the store reads now once it holds its
// snapshot, and the current minute comes from its running rollup.
// "until-given" passes an Until read just before the call: records written
// since then make the current minute's records be decoded one by one.
func BenchmarkStatsUnderIngest(b *testing.B) {
	s, err := Open(b.TempDir(), Options{RetentionInterval: -1, MaxRecords: -1, MaxBytes: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var written int
	wg.Go(func() {
		for n := uint64(0); ctx.Err() == nil; n++ {
			recs := storetest.Records(n, time.Now().Add(-time.Millisecond), time.Microsecond, 128)
			if err := s.Write(ctx, recs); err != nil && ctx.Err() == nil {
				b.Error(err)
				return
			}
			written += len(recs)
		}
	})
	// Let the current minute fill before measuring.
	for time.Sleep(time.Second); ; time.Sleep(100 * time.Millisecond) {
		if s.Len() >= 20_000 {
			break
		}
	}
	for _, mode := range []string{"now", "until-given"} {
		b.Run(mode, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := store.Window{Since: time.Now().Add(-time.Hour)}
				if mode == "until-given" {
					w.Until = time.Now()
				}
				if _, err := s.Stats(context.Background(), w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	cancel()
	wg.Wait()
	b.Logf("%d records written during the benchmark", written)
}

// BenchmarkListRing lists the newest 50 records of a store whose ring is
// full of small records over budget (about 30,000 hello-handler records
// in 4 MiB; 21,000 when the ring wrote each record's summary beside it),
// as the dashboard's history does on every refresh.
func BenchmarkListRing(b *testing.B) {
	s, err := Open(b.TempDir(), Options{RetentionInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Now().Add(-time.Minute)
	recs := make([]*recording.Record, 0, 40000)
	for i := range 40000 {
		r := &recording.Record{Kind: recording.KindHTTP, Duration: 80 * time.Microsecond,
			Method: "GET", Path: "/hello", Route: "GET /hello", Status: 200, Instance: "bench/1"}
		recs = append(recs, withID(r, start.Add(time.Duration(i)*20*time.Microsecond), uint64(i)))
	}
	if err := s.Write(context.Background(), recs); err != nil {
		b.Fatal(err)
	}
	held := s.ring.len()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p, err := s.List(context.Background(), store.Query{Limit: 50})
		if err != nil || len(p.Records) != 50 {
			b.Fatal(len(p.Records), err)
		}
	}
	b.ReportMetric(float64(held), "ring-records")
}

// BenchmarkGetBlock measures Get of a record stored in a block (see
// block.go), on the store of BenchmarkRead: again the record just read,
// whose block is kept decoded, and records in turn with the kept block
// forgotten before each, so that every Get reads and decompresses a block
// (a record opened alone, with none of its neighbours).
func BenchmarkGetBlock(b *testing.B) {
	ctx := context.Background()
	s, ids := openDataset(b, sizes(b)[0])
	for _, c := range []struct {
		name   string
		cached bool
	}{{"cached", true}, {"uncached", false}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if !c.cached {
					s.blocks.put([16]byte{}, nil)
					i++
				}
				if _, err := s.Get(ctx, ids[i%len(ids)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
