package memstore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New(0) })
}

// TestTraceBytes: traces past the byte cap go, oldest first, and their
// records keep everything but the trace; so do the traces of records the
// capacity evicts.
func TestTraceBytes(t *testing.T) {
	ctx := context.Background()
	st := memstore.New(10, memstore.WithMaxTraceBytes(100<<10))
	defer st.Close()
	start := time.Now().Add(-time.Hour)
	var recs []*recording.Record
	for i := range 6 {
		r := storetest.FullRecord(start.Add(time.Duration(i)*time.Second), uint32(i+1))
		data := storetest.TraceData(uint64(i), 30<<10)
		if i == 5 {
			data = storetest.TraceData(9, 200<<10) // over the cap by itself
		}
		r.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: r.Start, Reason: "slow"}
		recs = append(recs, r)
		if err := st.Write(ctx, []*recording.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	// Every record is kept; of their traces, 5's was too large, 0's and
	// 1's went to make room, and 2, 3, 4 fit in 100 KiB.
	for i, r := range recs {
		got, err := st.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, terr := st.ExecTrace(ctx, r.ID)
		if want := i >= 2 && i < 5; (got.ExecTrace != nil) != want || (terr == nil) != want {
			t.Errorf("record %d: trace %v, ExecTrace error %v; want a trace: %v", i, got.ExecTrace != nil, terr, want)
		}
	}
	// One more traced record pushes the oldest trace out, not its record.
	r := storetest.FullRecord(start.Add(time.Minute), 99)
	data := storetest.TraceData(99, 30<<10)
	r.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: r.Start, Reason: "slow"}
	if err := st.Write(ctx, []*recording.Record{r}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Get(ctx, recs[2].ID); err != nil || got.ExecTrace != nil {
		t.Errorf("oldest traced record: %v, trace %v; want kept without its trace", err, got.ExecTrace)
	}
	if _, err := st.ExecTrace(ctx, r.ID); err != nil {
		t.Errorf("newest trace: %v", err)
	}
	// A record the capacity evicts takes its trace with it.
	small := memstore.New(2)
	defer small.Close()
	if err := small.Write(ctx, recs[2:5]); err != nil {
		t.Fatal(err)
	}
	if _, err := small.ExecTrace(ctx, recs[2].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("trace of an evicted record: %v, want ErrNotFound", err)
	}
	// No traces at all with a negative cap.
	none := memstore.New(0, memstore.WithMaxTraceBytes(-1))
	defer none.Close()
	if err := none.Write(ctx, []*recording.Record{r}); err != nil {
		t.Fatal(err)
	}
	if got, _ := none.Get(ctx, r.ID); got.ExecTrace != nil {
		t.Error("a trace kept with a negative cap")
	}
}

// TestCapacityOrder writes records in batches, a little out of order, many
// times the capacity over: the store keeps exactly the newest records by
// ID, in order, however its buffer has moved them.
func TestCapacityOrder(t *testing.T) {
	ctx := context.Background()
	const capacity = 50
	st := memstore.New(capacity)
	defer st.Close()
	start := time.Now().Add(-time.Hour)
	var all []recording.ID
	n := uint32(0)
	for batch := range 60 {
		var recs []*recording.Record
		for j := range 1 + batch%17 {
			// Within a batch, every third record finished before the one
			// written ahead of it: IDs come a little out of order.
			k := n + uint32(j)
			if j%3 == 2 {
				k--
			} else if j%3 == 1 && j+1 < 1+batch%17 {
				k++
			}
			r := storetest.FullRecord(start.Add(time.Duration(k)*time.Millisecond), k+1)
			recs = append(recs, r)
			all = append(all, r.ID)
		}
		n += uint32(len(recs))
		if err := st.Write(ctx, recs); err != nil {
			t.Fatal(err)
		}
		// Writing a record again replaces it and keeps the count.
		if err := st.Write(ctx, recs[:1]); err != nil {
			t.Fatal(err)
		}
	}
	slices.SortFunc(all, func(a, b recording.ID) int { return bytes.Compare(a[:], b[:]) })
	all = slices.Compact(all)
	want := all[len(all)-capacity:]
	if st.Len() != capacity {
		t.Fatalf("Len %d, want %d", st.Len(), capacity)
	}
	page, err := st.List(ctx, store.Query{Limit: capacity})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Records) != capacity {
		t.Fatalf("List: %d records, want %d", len(page.Records), capacity)
	}
	for i, s := range page.Records {
		if w := want[capacity-1-i]; s.ID != w {
			t.Fatalf("List[%d] = %s, want %s", i, s.ID, w)
		}
	}
	if _, err := st.Get(ctx, all[len(all)-capacity-1]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the newest record evicted: %v, want ErrNotFound", err)
	}
}

// BenchmarkWrite writes batches of 128 records, as a recorder handed them
// over until recording.DefaultBatchSize became 256, into a store that is
// full (DefaultCapacity records), so every batch evicts as many old ones.
// Reported per record (ns/record); b.N counts batches. Cases: full,
// storetest.FullRecord (five calls, every field set); hello, the record
// cmd/appstats-bench's hello scenario writes (its hello handler: no
// calls, two request headers, three attributes; as badgerstore's
// BenchmarkWrite/hello); fanout, ten HTTP calls as the fanout scenario
// records them. Instructions a record: scripts/callgrind-store.sh.
func BenchmarkWrite(b *testing.B) {
	hdr := map[string][]string{"Accept-Encoding": {"gzip"}, "User-Agent": {"Go-http-client/1.1"}}
	attrs := []recording.Attr{{Key: "url.scheme", Value: "http"}, {Key: "network.protocol.version", Value: "1.1"}, {Key: "user_agent.original", Value: "Go-http-client/1.1"}}
	start := time.Now().Add(-time.Hour)
	hello := &recording.Record{
		TraceID: recording.TraceID{1, 2, 3}, SpanID: recording.SpanID{4, 5}, Kind: recording.KindHTTP, Start: start,
		Duration: 50 * time.Microsecond, Method: "GET", Path: "/hello", Route: "GET /hello", Status: 200, ResponseBytes: 5,
		Headers: hdr, Remote: "127.0.0.1:43954", Instance: "vm/32050", Overhead: 3 * time.Microsecond, Attrs: attrs,
	}
	// fanout: as the fanout scenario's handler records it, ten GETs to
	// one backend over connections reused: each call's request ("GET "
	// and the URL) a new string, its url.full the request's last bytes
	// (as internal/convention slices it), its keys, method, address, port, status and reuse the
	// previous call's strings (internal/convention's HTTPCalls shares the
	// address and port of one backend's URLs), and three phases (send,
	// wait, receive) timed in microseconds from the call's start, as
	// httpstats' transport gives them.
	fanout := storetest.FullRecord(start, 2)
	fanout.Calls = nil
	addr, port := "127.0.0.1", "40123"
	for i := range 10 {
		req := fmt.Sprintf("GET http://127.0.0.1:40123/item/%d", i)
		url := req[len("GET "):]
		us := time.Duration(i) * time.Microsecond
		fanout.Calls = append(fanout.Calls, recording.Call{
			Service: "http", Method: "GET 127.0.0.1:40123/item/{id}", Request: req,
			Start: time.Duration(i)*90*time.Microsecond + us, Duration: 80*time.Microsecond + us, ResponseSize: 5,
			SpanID: recording.SpanID{byte(i + 1), 9},
			Attrs: []recording.Attr{
				{Key: "http.request.method", Value: "GET"},
				{Key: "server.address", Value: addr},
				{Key: "server.port", Value: port},
				{Key: "url.full", Value: url},
				{Key: "http.response.status_code", Value: "200"},
				{Key: "http.connection.reused", Value: "true"},
			},
			Phases: []recording.Phase{
				{Name: "send", Start: 3*time.Microsecond + us, Duration: 12*time.Microsecond + us},
				{Name: "wait", Start: 15*time.Microsecond + 2*us, Duration: 55*time.Microsecond + us},
				{Name: "receive", Start: 70*time.Microsecond + 3*us, Duration: 10*time.Microsecond + us},
			},
		})
	}
	for _, bc := range []struct {
		name string
		tmpl *recording.Record
	}{
		{"full", storetest.FullRecord(start, 1)},
		{"hello", hello},
		{"fanout", fanout},
	} {
		b.Run(bc.name, func(b *testing.B) { benchWrite(b, bc.tmpl) })
	}
}

func benchWrite(b *testing.B, tmpl *recording.Record) {
	ctx := context.Background()
	st := memstore.New(0)
	defer st.Close()
	const batch = 128
	n := uint32(0)
	// fill makes new batches, newer than every stored record: copies of
	// one record with new IDs and starts.
	fill := func(batches [][]*recording.Record) {
		for i := range batches {
			if batches[i] == nil {
				batches[i] = make([]*recording.Record, batch)
			}
			for j := range batches[i] {
				n++
				r := *tmpl
				binary.BigEndian.PutUint64(r.ID[:8], uint64(n)) // ascending
				r.Start = r.Start.Add(time.Duration(n) * time.Microsecond)
				batches[i][j] = &r
			}
		}
	}
	batches := make([][]*recording.Record, 64)
	for st.Len() < memstore.DefaultCapacity {
		fill(batches[:1])
		if err := st.Write(ctx, batches[0]); err != nil {
			b.Fatal(err)
		}
	}
	fill(batches)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i > 0 && i%len(batches) == 0 {
			b.StopTimer()
			fill(batches)
			b.StartTimer()
		}
		if err := st.Write(ctx, batches[i%len(batches)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/record")
}

// TestWriteFullNoAllocs: a full store's Write of records newer than all
// allocates nothing (records without calls nor traces: their summaries
// allocate nothing either). Its buffer of records, which the records move
// along, is moved back to its start, not grown again, whatever the size
// of the batches, and the slabs its records' bytes are written into are
// emptied as the records go and filled again: here the store is filled a
// record at a time, then written batches of 64 until its slabs have been
// filled a few times over, then measured writing as many.
func TestWriteFullNoAllocs(t *testing.T) {
	const capacity, batch, batches = 100, 64, 100
	ctx := context.Background()
	st := memstore.New(capacity)
	defer st.Close()
	n := uint64(0)
	next := func(size int) []*recording.Record {
		b := make([]*recording.Record, size)
		for i := range b {
			n++
			r := &recording.Record{Start: time.Unix(0, int64(n)), Route: "/"}
			binary.BigEndian.PutUint64(r.ID[:8], n)
			b[i] = r
		}
		return b
	}
	for range 3 * capacity {
		if err := st.Write(ctx, next(1)); err != nil {
			t.Fatal(err)
		}
	}
	all := make([][]*recording.Record, batches)
	for i := range all {
		all[i] = next(batch)
	}
	for _, b := range all {
		if err := st.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for i := range all {
		all[i] = next(batch)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, b := range all {
		if err := st.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if allocs := after.Mallocs - before.Mallocs; allocs != 0 {
		t.Errorf("%d allocations writing %d batches of %d into a full store, want 0", allocs, batches, batch)
	}
	if st.Len() != capacity {
		t.Errorf("Len %d, want %d", st.Len(), capacity)
	}
}

// TestSummaryKeptByReader: a summary List returned is the reader's: a
// later Write that replaces its record, or moves it along the store's
// buffer, does not change its RPC stats.
func TestSummaryKeptByReader(t *testing.T) {
	ctx := context.Background()
	st := memstore.New(10)
	defer st.Close()
	rec := func(id byte, method string) *recording.Record {
		r := &recording.Record{Start: time.Unix(int64(id), 0), Route: "/",
			Calls: []recording.Call{{Service: "svc", Method: method}}}
		r.ID[0] = id
		return r
	}
	if err := st.Write(ctx, []*recording.Record{rec(2, "Old"), rec(3, "Old")}); err != nil {
		t.Fatal(err)
	}
	page, err := st.List(ctx, store.Query{})
	if err != nil || len(page.Records) != 2 {
		t.Fatalf("List: %v, %d records", err, len(page.Records))
	}
	// Record 3 replaced, record 1 written before 2 (which moves up).
	if err := st.Write(ctx, []*recording.Record{rec(3, "New"), rec(1, "New")}); err != nil {
		t.Fatal(err)
	}
	for _, s := range page.Records {
		if len(s.RPCs) != 1 || s.RPCs[0].Method != "Old" {
			t.Errorf("summary of %s changed by a later Write: RPCs %+v", s.ID, s.RPCs)
		}
	}
}

// TestSharedTraceBytes: a snapshot shared by several records counts once
// against the byte cap, stays while a record referring to it stays (the
// capacity evicting the others), and goes with the last of them; past the
// cap it goes from every record referring to it.
func TestSharedTraceBytes(t *testing.T) {
	ctx := context.Background()
	start := time.Now().Add(-time.Hour)
	data := storetest.TraceData(1, 200<<10)
	shared := func() []*recording.Record {
		var recs []*recording.Record
		for i := range 3 {
			r := storetest.FullRecord(start.Add(time.Duration(i)*time.Millisecond), uint32(i+1))
			r.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: r.Start, Reason: "slow"}
			recs = append(recs, r)
		}
		for _, r := range recs {
			r.ExecTrace.Snapshot = recs[0].ID
		}
		return recs
	}
	st := memstore.New(3, memstore.WithMaxTraceBytes(300<<10))
	defer st.Close()
	recs := shared()
	if err := st.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for i, r := range recs {
		if d, err := st.ExecTrace(ctx, r.ID); err != nil || len(d) != len(data) {
			t.Errorf("record %d: ExecTrace %d bytes, %v; want the shared %d", i, len(d), err, len(data))
		}
	}
	if got := st.TraceSize(); got != int64(len(data)) {
		t.Errorf("TraceSize = %d, want %d: one snapshot", got, len(data))
	}
	// Two plain records evict the first two: the third keeps the snapshot.
	if err := st.Write(ctx, []*recording.Record{storetest.FullRecord(start.Add(time.Second), 10),
		storetest.FullRecord(start.Add(2*time.Second), 11)}); err != nil {
		t.Fatal(err)
	}
	if d, err := st.ExecTrace(ctx, recs[2].ID); err != nil || len(d) != len(data) {
		t.Errorf("last referrer: ExecTrace %d bytes, %v", len(d), err)
	}
	if got := st.TraceSize(); got != int64(len(data)) {
		t.Errorf("TraceSize = %d with one referrer left, want %d", got, len(data))
	}
	// Evicted, the last referrer takes the snapshot with it.
	if err := st.Write(ctx, []*recording.Record{storetest.FullRecord(start.Add(3*time.Second), 12)}); err != nil {
		t.Fatal(err)
	}
	if got := st.TraceSize(); got != 0 {
		t.Errorf("TraceSize = %d once no record refers to the snapshot, want 0", got)
	}

	// Past the cap, a newer snapshot pushes the shared one out of every
	// record referring to it.
	big := memstore.New(0, memstore.WithMaxTraceBytes(300<<10))
	defer big.Close()
	recs = shared()
	r := storetest.FullRecord(start.Add(time.Minute), 20)
	d2 := storetest.TraceData(2, 200<<10)
	r.ExecTrace = &recording.ExecTrace{Data: d2, Size: int64(len(d2)), Taken: r.Start, Reason: "slow"}
	if err := big.Write(ctx, append(recs, r)); err != nil {
		t.Fatal(err)
	}
	for i, x := range recs {
		if got, err := big.Get(ctx, x.ID); err != nil || got.ExecTrace != nil {
			t.Errorf("record %d of the dropped snapshot: %v, trace %v; want kept without it", i, err, got.ExecTrace)
		}
	}
	if d, err := big.ExecTrace(ctx, r.ID); err != nil || len(d) != len(d2) {
		t.Errorf("newest snapshot: %d bytes, %v", len(d), err)
	}
	if got := big.TraceSize(); got != int64(len(d2)) {
		t.Errorf("TraceSize = %d, want %d", got, len(d2))
	}
}

// TestWriteKeepsNothing: the store is a recording.Borrower, and keeps
// nothing of the records it is given: a record written, then changed
// through every slice, map and string field it holds (as a recorder that
// reuses its records fills them for the next requests), reads back as it
// was written — Get's record and List's summary — and an execution
// trace's description as the store kept it.
func TestWriteKeepsNothing(t *testing.T) {
	ctx := context.Background()
	st := memstore.New(10)
	defer st.Close()
	if !st.BorrowsRecords() {
		t.Fatal("BorrowsRecords = false")
	}
	start := time.Now().Add(-time.Hour)
	data := storetest.TraceData(1, 1<<10)
	written := func() []*recording.Record {
		a, b := storetest.FullRecord(start, 1), storetest.Record20(start.Add(time.Second), 2)
		a.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: a.Start, Reason: "slow"}
		return []*recording.Record{a, b}
	}
	recs := written()
	if err := st.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Route, r.Path, r.Status, r.Start = "reused", "/reused", 200, r.Start.Add(time.Minute)
		for i := range r.Calls {
			c := &r.Calls[i]
			c.Service, c.Method, c.Duration, c.Request = "other", "Other", 1, "reused"
			for j := range c.Stack {
				c.Stack[j] = recording.Frame{Function: "reused", File: "reused.go", Line: 1}
			}
			for j := range c.Attrs {
				c.Attrs[j] = recording.Attr{Key: "reused", Value: "x"}
			}
		}
		for k := range r.Headers {
			r.Headers[k][0] = "reused"
		}
		r.Headers["Reused"] = []string{"x"}
		for i := range r.Warnings {
			r.Warnings[i].Message = "reused"
		}
		for i := range r.Attrs {
			r.Attrs[i].Value = "reused"
		}
		if r.ExecTrace != nil {
			r.ExecTrace.Reason = "reused"
		}
	}
	want := written()
	page, err := st.List(ctx, store.Query{})
	if err != nil || len(page.Records) != len(want) {
		t.Fatalf("List: %v, %d records", err, len(page.Records))
	}
	for i, w := range want {
		got, err := st.Get(ctx, w.ID)
		if err != nil {
			t.Fatalf("Get(%s): %v", w.ID, err)
		}
		w.Start = time.Unix(0, w.Start.UnixNano())
		got.Start = time.Unix(0, got.Start.UnixNano())
		if w.ExecTrace != nil {
			// The store keeps the data apart (ExecTrace), the description with the record.
			w.ExecTrace = &recording.ExecTrace{Size: int64(len(data)), Taken: w.Start, Reason: "slow"}
			if got.ExecTrace != nil {
				got.ExecTrace.Taken = time.Unix(0, got.ExecTrace.Taken.UnixNano())
			}
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("record %d changed by its writer after Write:\n%+v\nwant\n%+v", i, got, w)
		}
		sum := page.Records[len(want)-1-i]
		sum.Start = time.Unix(0, sum.Start.UnixNano())
		if ws := w.Summary(); !reflect.DeepEqual(sum, ws) {
			t.Errorf("summary %d changed by its writer after Write:\n%+v\nwant\n%+v", i, sum, ws)
		}
	}
}

// TestDropsWhatNoStoreKeeps checks what the package documentation says a
// record read back lacks: Unsampled and RandomTraceID read back false,
// empty slices and maps nil, times without their monotonic reading.
func TestDropsWhatNoStoreKeeps(t *testing.T) {
	ctx := context.Background()
	st := memstore.New(1)
	defer st.Close()
	r := &recording.Record{Start: time.Now(), Route: "/", Unsampled: true, RandomTraceID: true,
		Calls: []recording.Call{}, Headers: map[string][]string{}, Warnings: []recording.Warning{}, Attrs: []recording.Attr{}}
	r.ID[0] = 1
	if err := st.Write(ctx, []*recording.Record{r}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Get(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := &recording.Record{ID: r.ID, Start: time.Unix(0, r.Start.UnixNano()), Route: "/"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, want)
	}
}

// listStore returns a store of n records of storetest.Records (routes
// "/route-0" to "/route-4", calls of a few RPCs).
func listStore(tb testing.TB, n int) *memstore.Store {
	st := memstore.New(n)
	tb.Cleanup(func() { st.Close() })
	recs := storetest.Records(3, time.Now().Add(-time.Hour), time.Millisecond, n)
	if err := st.Write(context.Background(), recs); err != nil {
		tb.Fatal(err)
	}
	return st
}

// TestListFilterAllocs: List with a filter allocates for the summaries it
// returns, not for those it passes over: a filter no record matches, over
// 2,000 records, costs a few allocations (the summary read into, its RPCs
// growing), and a page of ten two more a summary (its strings and its
// RPCs).
func TestListFilterAllocs(t *testing.T) {
	ctx := context.Background()
	st := listStore(t, 2000)
	none := store.Query{Route: "/no-such-route", Limit: 10}
	if n := testing.AllocsPerRun(5, func() {
		if p, err := st.List(ctx, none); err != nil || len(p.Records) != 0 {
			t.Fatalf("List: %v, %d summaries", err, len(p.Records))
		}
	}); n > 4 {
		t.Errorf("List matching none of 2,000 records: %.0f allocations, want at most 4", n)
	}
	one := store.Query{Route: storetest.Records(3, time.Now(), time.Millisecond, 1)[0].Route, Limit: 10}
	if n := testing.AllocsPerRun(5, func() {
		if p, err := st.List(ctx, one); err != nil || len(p.Records) != 10 {
			t.Fatalf("List: %v, %d summaries", err, len(p.Records))
		}
	}); n > 4+2*10 {
		t.Errorf("List of a page of 10 of one route: %.0f allocations, want at most 24", n)
	}
}

// BenchmarkList lists a page of 50 summaries of 5,000 records: all of
// them (newest), one route's (a fifth of the records), and none's (a
// filter that passes over every record).
func BenchmarkList(b *testing.B) {
	ctx := context.Background()
	st := listStore(b, memstore.DefaultCapacity)
	route := storetest.Records(3, time.Now(), time.Millisecond, 1)[0].Route
	for _, bc := range []struct {
		name string
		q    store.Query
	}{
		{"all", store.Query{Limit: 50}},
		{"route", store.Query{Route: route, Limit: 50}},
		{"none", store.Query{Route: "/no-such-route", Limit: 50}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := st.List(ctx, bc.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
