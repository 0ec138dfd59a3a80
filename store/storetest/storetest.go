package storetest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/sketch"
	"github.com/goappstats/appstats/store/internal/storekit"
)

// Run runs the conformance suite. open must return a new, empty store with
// the default maximum of keys ([store.DefaultMaxKeys]); the suite closes
// it. The suite expects every record it writes to be kept in full (each
// route's [store.RouteStats] Stored equal to its Requests): a store with
// a storage budget passes if the budget allows five records per route
// and second, more than the suite writes.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Errors", testErrors},
		{"List", testList},
		{"Paging", testPaging},
		{"Stats", testStats},
		{"MaxKeys", testMaxKeys},
		{"Series", testSeries},
		{"Extremes", testExtremes},
		{"Clear", testClear},
		{"Close", testClose},
		{"Concurrent", testConcurrent},
		{"ExecTrace", testExecTrace},
		{"SharedExecTrace", testSharedExecTrace},
		{"Rewrite", testRewrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			tt.fn(t, s)
		})
	}
}

// base is a minute-aligned time a few hours ago, so that generated records
// span whole and partial minutes and hours within retention.
func base() time.Time {
	return time.Unix(0, time.Now().Add(-4*time.Hour).Truncate(time.Hour).UnixNano()).Add(-7 * time.Minute)
}

func makeID(start time.Time, n uint32) recording.ID {
	var id recording.ID
	binary.BigEndian.PutUint64(id[:8], uint64(start.UnixNano()))
	binary.BigEndian.PutUint32(id[8:12], 0x5eed)
	binary.BigEndian.PutUint32(id[12:], n)
	return id
}

// FullRecord returns a record with every field set, for round-trip tests.
func FullRecord(start time.Time, n uint32) *recording.Record {
	stack := []recording.Frame{
		{Function: "main.(*db).query", File: "/src/app/db.go", Line: 42},
		{Function: "main.listUsers", File: "/src/app/users.go", Line: 17},
		{Function: "net/http.HandlerFunc.ServeHTTP", File: "/go/src/net/http/server.go", Line: 2294},
	}
	r := &recording.Record{
		ID:            makeID(start, n),
		TraceID:       recording.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:        recording.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
		ParentSpanID:  recording.SpanID{8, 7, 6, 5, 4, 3, 2, 1},
		Kind:          recording.KindHTTP,
		Start:         start,
		Duration:      123456789 * time.Nanosecond,
		Method:        "GET",
		Path:          "/users/42",
		Route:         "GET /users/{id}",
		Query:         "q=x&token=REDACTED",
		Status:        503,
		RequestBytes:  12,
		ResponseBytes: 3456,
		User:          "alice@example.com",
		Headers:       map[string][]string{"Accept": {"text/html", "*/*"}, "Authorization": {"REDACTED"}},
		Remote:        "127.0.0.1:5555",
		Instance:      "host/1234",
		Overhead:      4321 * time.Nanosecond,
		Error:         "upstream unavailable",
		Panic:         "runtime error: index out of range [3] with length 3",
		DroppedCalls:  2,
		Attrs:         []recording.Attr{{Key: "user.id", Value: "42"}, {Key: "tenant", Value: "ünïcode ✓"}},
	}
	for i := range 5 {
		c := recording.Call{
			Service:      "sql",
			Method:       "SELECT users",
			Start:        time.Duration(i) * time.Millisecond,
			Duration:     time.Duration(i+1) * 700 * time.Microsecond,
			RequestSize:  int64(100 + i),
			ResponseSize: -1,
			Request:      "SELECT * FROM users WHERE id = ?",
			Response:     fmt.Sprintf("%d rows", i),
			Stack:        slices.Clone(stack),
			Attrs:        []recording.Attr{{Key: "db.system", Value: "sqlite"}},
			SpanID:       recording.SpanID{9, 9, 9, 9, 9, 9, 9, byte(i)},
			Cost:         float64(i+1) * 0.25,
		}
		if i == 1 {
			c.Service, c.Method, c.Error = "http", "GET api.example.com/x", "502 Bad Gateway"
			c.Stack = append([]recording.Frame{{Function: "net/http.(*Client).Do", File: "/go/src/net/http/client.go", Line: 590}}, stack[1:]...)
			c.Phases = []recording.Phase{{Name: "dns", Start: time.Millisecond, Duration: 100 * time.Microsecond}, {Name: "connect", Start: 1100 * time.Microsecond, Duration: 300 * time.Microsecond}}
		}
		if i == 2 {
			c.ParentSpanID = r.Calls[1].SpanID // made inside the HTTP call
		}
		if i == 3 {
			c.Running = true
		}
		if i == 4 {
			c.Service, c.Method, c.Event, c.Duration, c.Stack, c.Cost = "event", "cache miss", true, 0, nil, 0
		}
		r.Calls = append(r.Calls, c)
	}
	r.Warnings = []recording.Warning{
		{Kind: recording.WarnRepeated, Service: "sql", Method: "SELECT users", Request: "SELECT * FROM users WHERE id = ?", Count: 3, Total: 4 * time.Millisecond, Message: "3 identical sql calls"},
		{Kind: recording.WarnRunning, Count: 1, Total: 2 * time.Millisecond, Message: "1 call(s) still running"},
	}
	return r
}

// Record20 returns a realistic record of 20 SQL calls, each with a
// 12-frame stack whose outer frames are shared, made from three places in
// turn (calls from one place share one stack slice), for benchmarks and
// size figures.
func Record20(start time.Time, n uint32) *recording.Record {
	r := FullRecord(start, n)
	r.Calls = r.Calls[:0]
	outer := []recording.Frame{
		{Function: "main.(*server).handleOrders", File: "/home/dev/shop/orders.go", Line: 88},
		{Function: "net/http.HandlerFunc.ServeHTTP", File: "/usr/local/go/src/net/http/server.go", Line: 2294},
		{Function: "github.com/goappstats/appstats/middleware/httpstats.(*handler).ServeHTTP", File: "/home/dev/go/pkg/mod/github.com/goappstats/appstats/middleware/httpstats/handler.go", Line: 141},
		{Function: "net/http.(*ServeMux).ServeHTTP", File: "/usr/local/go/src/net/http/server.go", Line: 2822},
		{Function: "net/http.serverHandler.ServeHTTP", File: "/usr/local/go/src/net/http/server.go", Line: 3301},
		{Function: "net/http.(*conn).serve", File: "/usr/local/go/src/net/http/server.go", Line: 2102},
	}
	// The calls are made from three places (lines 120–122 of
	// orderLines), in turn; as the recorder's stack cache gives them,
	// calls from one place have one stack, the same slice.
	var stacks [3][]recording.Frame
	for i := range stacks {
		stacks[i] = append([]recording.Frame{
			{Function: "database/sql.(*DB).QueryContext", File: "/usr/local/go/src/database/sql/sql.go", Line: 1790},
			{Function: "main.(*repo).orderLines", File: "/home/dev/shop/repo.go", Line: 120 + i},
			{Function: "main.(*repo).loadOrder", File: "/home/dev/shop/repo.go", Line: 64},
			{Function: "main.(*service).order", File: "/home/dev/shop/service.go", Line: 31},
			{Function: "main.(*service).orders", File: "/home/dev/shop/service.go", Line: 22},
			{Function: "main.(*server).loadOrders", File: "/home/dev/shop/orders.go", Line: 101},
		}, outer...)
		stacks[i] = stacks[i][:len(stacks[i]):len(stacks[i])]
	}
	for i := range 20 {
		r.Calls = append(r.Calls, recording.Call{
			Service: "sql", Method: "SELECT order_lines",
			Start: time.Duration(i) * 900 * time.Microsecond, Duration: 850 * time.Microsecond,
			RequestSize: 96, ResponseSize: 1240,
			Request:  fmt.Sprintf("SELECT id, sku, qty, price FROM order_lines WHERE order_id = %d", 1000+i),
			Response: "12 rows",
			Stack:    stacks[i%3],
			Attrs:    []recording.Attr{{Key: "db.system", Value: "sqlite"}},
			SpanID:   recording.SpanID{1, 2, 3, 4, 5, 6, 7, byte(i)},
		})
	}
	return r
}

var (
	routes   = []string{"GET /a/{id}", "POST /b", "GET /c", ""}
	methods  = []string{"GET", "POST"}
	statuses = []int{200, 200, 200, 201, 404, 500, 503}
	rpcs     = [][2]string{{"sql", "SELECT users"}, {"sql", "INSERT orders"}, {"http", "GET api.example.com/x"}, {"grpc", "/pkg.Svc/Get"}, {"memcache", "Get"}}
)

// Records returns n synthetic records starting at start, about every
// spacing, with varied routes, instances, statuses, errors, warnings and
// calls. The same seed gives the same records.
func Records(seed uint64, start time.Time, spacing time.Duration, n int) []*recording.Record {
	rng := rand.New(rand.NewPCG(seed, 99))
	out := make([]*recording.Record, n)
	for i := range out {
		st := start.Add(time.Duration(i)*spacing + time.Duration(rng.Int64N(int64(spacing)/2+1)))
		r := &recording.Record{
			ID:       makeID(st, uint32(seed)<<20|uint32(i)),
			TraceID:  recording.NewTraceID(),
			Kind:     recording.KindHTTP,
			Start:    st,
			Duration: time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond)),
			Method:   methods[rng.IntN(len(methods))],
			Route:    routes[rng.IntN(len(routes))],
			Status:   statuses[rng.IntN(len(statuses))],
			Instance: fmt.Sprintf("test/%d", 1+i%3),
		}
		r.Path = fmt.Sprintf("/p/%d", i)
		if rng.IntN(20) == 0 {
			r.Error = "boom"
		}
		for j := range rng.IntN(8) {
			k := rpcs[rng.IntN(len(rpcs))]
			c := recording.Call{
				Service: k[0], Method: k[1],
				Start:    time.Duration(j) * time.Millisecond,
				Duration: time.Duration(rng.ExpFloat64() * float64(3*time.Millisecond)),
				Stack:    []recording.Frame{{Function: "main.f", File: "main.go", Line: j + 1}},
			}
			if rng.IntN(10) == 0 {
				c.Error = "failed"
			}
			if rng.IntN(15) == 0 {
				c.Event, c.Duration = true, 0
			} else {
				// Costs in eighths add up exactly in any order.
				c.Cost = float64(len(c.Method)%5) * 0.125
			}
			r.Calls = append(r.Calls, c)
		}
		if rng.IntN(6) == 0 {
			r.Warnings = []recording.Warning{{Kind: recording.WarnRunning, Count: 1, Message: "running"}}
		}
		out[i] = r
	}
	return out
}

// norm strips the monotonic clock and location from times, so records and
// summaries compare with reflect.DeepEqual after a round trip.
func norm(t time.Time) time.Time { return time.Unix(0, t.UnixNano()) }

func normSummary(s recording.Summary) recording.Summary {
	s.Start = norm(s.Start)
	return s
}

func write(t *testing.T, s store.Store, recs []*recording.Record) {
	t.Helper()
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func testRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	start := base()
	recs := []*recording.Record{FullRecord(start, 1), FullRecord(start.Add(time.Second), 2)}
	recs[1].Calls = nil
	recs[1].Headers = nil
	recs[1].Warnings = nil
	recs[1].Attrs = nil
	write(t, s, recs)
	for _, want := range recs {
		got, err := s.Get(ctx, want.ID)
		if err != nil {
			t.Fatalf("Get(%s): %v", want.ID, err)
		}
		w := *want
		w.Start = norm(w.Start)
		g := *got
		g.Start = norm(g.Start)
		if !reflect.DeepEqual(&g, &w) {
			t.Errorf("Get(%s) =\n%+v\nwant\n%+v", want.ID, g, w)
		}
	}
	p, err := s.List(ctx, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != 2 {
		t.Fatalf("List: %d records, want 2", len(p.Records))
	}
	for i, want := range []*recording.Record{recs[1], recs[0]} {
		if got, w := normSummary(p.Records[i]), normSummary(want.Summary()); !reflect.DeepEqual(got, w) {
			t.Errorf("List[%d] =\n%+v\nwant\n%+v", i, got, w)
		}
	}
}

func testErrors(t *testing.T, s store.Store) {
	ctx := context.Background()
	write(t, s, Records(1, base(), time.Second, 3))
	for _, id := range []recording.ID{makeID(base(), 12345), {}} {
		if _, err := s.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%s) = %v, want ErrNotFound", id, err)
		}
	}
	// A cursor not of this store's form: text, too short, or a real one
	// cut, lengthened, or of the other stores' lengths (32 hex digits, an
	// ID, for one; 48, a start and an ID, for others).
	p, err := s.List(ctx, store.Query{Limit: 1})
	if err != nil || p.Next == "" {
		t.Fatalf("List(limit 1) of 3 records: next %q, %v", p.Next, err)
	}
	for _, c := range []string{"not a cursor", "00", p.Next[:len(p.Next)-2], p.Next + "00", p.Next + "0",
		strings.Repeat("0", 32), strings.Repeat("0", 48)} {
		if len(c) == len(p.Next) && strings.Trim(c, "0") == "" {
			continue // of this store's length: a well-formed cursor
		}
		if _, err := s.List(ctx, store.Query{Cursor: c}); !errors.Is(err, store.ErrInvalidCursor) || !errors.Is(err, store.ErrInvalidQuery) {
			t.Errorf("List(cursor %q) = %v, want ErrInvalidCursor", c, err)
		}
	}
	for _, q := range []store.Query{
		{Limit: -1},
		{MinDuration: -1},
		{StatusClass: 6},
		{Status: 1000},
		{MaxDuration: -1},
		{CallMethod: "SELECT t"},
	} {
		if _, err := s.List(ctx, q); !errors.Is(err, store.ErrInvalidQuery) {
			t.Errorf("List(%+v) = %v, want ErrInvalidQuery", q, err)
		}
	}
	now := time.Now()
	if _, err := s.Stats(ctx, store.Window{Since: now, Until: now.Add(-time.Hour)}); !errors.Is(err, store.ErrInvalidQuery) {
		t.Errorf("Stats(reversed window) = %v, want ErrInvalidQuery", err)
	}
	for _, step := range []time.Duration{0, -time.Second, time.Nanosecond} {
		if _, err := s.Series(ctx, store.Window{Since: now.Add(-time.Hour), Until: now}, step); !errors.Is(err, store.ErrInvalidQuery) {
			t.Errorf("Series(step %v) = %v, want ErrInvalidQuery", step, err)
		}
	}
}

// listAll pages through q with the given page size.
func listAll(t *testing.T, s store.Store, q store.Query) []recording.Summary {
	t.Helper()
	return ListAll(t, s, q)
}

// ListAll pages through q with its page size (q.Limit) from its cursor to
// the end, and returns every summary listed. It fails t if a page holds
// more than the limit, or is empty with a cursor, or paging does not end.
func ListAll(t testing.TB, s store.Store, q store.Query) []recording.Summary {
	t.Helper()
	var out []recording.Summary
	for pages := 0; ; pages++ {
		p, err := s.List(context.Background(), q)
		if err != nil {
			t.Fatalf("List(%+v): %v", q, err)
		}
		if q.Limit > 0 && len(p.Records) > q.Limit {
			t.Fatalf("List returned %d records, limit %d", len(p.Records), q.Limit)
		}
		out = append(out, p.Records...)
		if p.Next == "" {
			return out
		}
		if len(p.Records) == 0 {
			t.Fatal("List returned an empty page with a next cursor")
		}
		if pages > 10000 {
			t.Fatal("List paging does not end")
		}
		q.Cursor = p.Next
	}
}

func expectList(recs []*recording.Record, q store.Query) []recording.ID {
	var out []recording.ID
	for i := len(recs) - 1; i >= 0; i-- {
		sum := recs[i].Summary()
		if storekit.Matches(&q, &sum) {
			out = append(out, recs[i].ID)
		}
	}
	return out
}

func ids(sums []recording.Summary) []recording.ID {
	out := make([]recording.ID, len(sums))
	for i := range sums {
		out[i] = sums[i].ID
	}
	return out
}

func testList(t *testing.T, s store.Store) {
	start := base()
	recs := Records(2, start, 5*time.Second, 400)
	// Three records of one trace, far apart.
	trace := recs[10].TraceID
	recs[200].TraceID, recs[399].TraceID = trace, trace
	// Write in shuffled batches: the order of writes must not matter.
	shuffled := slices.Clone(recs)
	rand.New(rand.NewPCG(5, 6)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for i := 0; i < len(shuffled); i += 37 {
		write(t, s, shuffled[i:min(i+37, len(shuffled))])
	}
	tests := []struct {
		name string
		q    store.Query
	}{
		{"all", store.Query{}},
		{"since", store.Query{Since: start.Add(10 * time.Minute)}},
		{"until", store.Query{Until: start.Add(10 * time.Minute)}},
		{"range", store.Query{Since: start.Add(7 * time.Minute), Until: start.Add(19*time.Minute + 30*time.Second)}},
		{"route", store.Query{Route: "POST /b"}},
		{"instance", store.Query{Instance: "test/2"}},
		{"empty route matches all", store.Query{Route: ""}},
		{"method", store.Query{Method: "POST"}},
		{"status", store.Query{Status: 404}},
		{"status class", store.Query{StatusClass: 5}},
		{"min duration", store.Query{MinDuration: 30 * time.Millisecond}},
		{"errors only", store.Query{ErrorsOnly: true}},
		{"warnings only", store.Query{WarningsOnly: true}},
		{"combined", store.Query{Route: "GET /a/{id}", Method: "GET", StatusClass: 2, MinDuration: 5 * time.Millisecond, Since: start.Add(3 * time.Minute)}},
		{"max duration", store.Query{MaxDuration: 10 * time.Millisecond}},
		{"duration range", store.Query{MinDuration: 5 * time.Millisecond, MaxDuration: 20 * time.Millisecond}},
		{"trace", store.Query{TraceID: trace}},
		{"trace in a range", store.Query{TraceID: trace, Since: start.Add(time.Minute)}},
		{"path contains, any case", store.Query{PathContains: "/P/1"}},
		{"call service", store.Query{CallService: rpcs[0][0]}},
		{"call service and method", store.Query{CallService: rpcs[1][0], CallMethod: rpcs[1][1]}},
		{"nothing", store.Query{Route: "no such route"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := expectList(recs, tt.q)
			if tt.name != "nothing" && len(want) == 0 {
				t.Fatal("test data selects nothing")
			}
			for _, limit := range []int{0, 1, 7, store.MaxLimit} {
				q := tt.q
				q.Limit = limit
				got := ids(listAll(t, s, q))
				if !slices.Equal(got, want) {
					t.Errorf("limit %d: got %d records, want %d (first difference at %d)", limit, len(got), len(want), firstDiff(got, want))
				}
			}
		})
	}
	// Summaries are complete.
	p, err := s.List(context.Background(), store.Query{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	for i, sum := range p.Records {
		if want := normSummary(recs[len(recs)-1-i].Summary()); !reflect.DeepEqual(normSummary(sum), want) {
			t.Errorf("summary %d =\n%+v\nwant\n%+v", i, sum, want)
		}
	}
}

func firstDiff(a, b []recording.ID) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func testPaging(t *testing.T, s store.Store) {
	ctx := context.Background()
	recs := Records(3, base(), time.Second, 250)
	write(t, s, recs)
	p, err := s.List(ctx, store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Records) != store.DefaultLimit || p.Next == "" {
		t.Fatalf("default page: %d records, next %q; want %d and a cursor", len(p.Records), p.Next, store.DefaultLimit)
	}
	// Exactly a page's worth: no cursor on the last page.
	q := store.Query{Limit: 50}
	seen := make(map[recording.ID]bool)
	var last recording.Summary
	for n := 0; ; n++ {
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, sum := range p.Records {
			if seen[sum.ID] {
				t.Fatalf("record %s listed twice", sum.ID)
			}
			seen[sum.ID] = true
			if last.ID != (recording.ID{}) && !sum.Start.Before(last.Start) && sum.Start != last.Start {
				t.Fatalf("not newest first: %v after %v", sum.Start, last.Start)
			}
			last = sum
		}
		if p.Next == "" {
			if n != 4 {
				t.Errorf("%d pages of 50 for 250 records, want 5", n+1)
			}
			break
		}
		q.Cursor = p.Next
	}
	if len(seen) != len(recs) {
		t.Errorf("paged through %d records, want %d", len(seen), len(recs))
	}
	// Records written after a page was read do not disturb the next pages.
	q = store.Query{Limit: 100}
	p, err = s.List(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	write(t, s, Records(4, base().Add(time.Hour), time.Second, 20))
	q.Cursor = p.Next
	rest := listAll(t, s, q)
	if got := len(p.Records) + len(rest); got != len(recs) {
		t.Errorf("pages after concurrent writes hold %d records, want %d", got, len(recs))
	}
}

// ExpectStats returns the exact [store.Stats] of the records that started
// within w (w.Until must be set), with lists bounded to
// [store.DefaultMaxKeys].
func ExpectStats(recs []*recording.Record, w store.Window) *store.Stats {
	a := storekit.NewExact(w, store.DefaultMaxKeys)
	for _, r := range recs {
		if !r.Start.Before(w.Since) && r.Start.Before(w.Until) {
			a.AddRecord(r)
		}
	}
	return a.Stats()
}

func latencyWithin(got, want store.Latency) bool {
	ok := func(g, w time.Duration) bool {
		d := float64(g - w)
		if d < 0 {
			d = -d
		}
		return d <= sketch.RelativeError*float64(w)+1
	}
	return ok(got.P50, want.P50) && ok(got.P95, want.P95) && ok(got.P99, want.P99)
}

// CompareStats reports differences between a store's Stats and the exact
// ones: counts, totals and histograms must be equal, percentiles within
// the sketches' relative error. Each route's Stored must be at most its
// Requests, and equal to want's: [ExpectStats] counts every record as
// stored, as a store without a storage budget does.
func CompareStats(t testing.TB, got, want *store.Stats) {
	t.Helper()
	if got.Requests != want.Requests || got.Errors != want.Errors {
		t.Errorf("requests/errors = %d/%d, want %d/%d", got.Requests, got.Errors, want.Requests, want.Errors)
	}
	if !reflect.DeepEqual(got.Histogram, want.Histogram) {
		t.Errorf("histogram = %v, want %v", got.Histogram, want.Histogram)
	}
	if len(got.Routes) != len(want.Routes) || len(got.RPCs) != len(want.RPCs) || len(got.RouteRPCs) != len(want.RouteRPCs) || len(got.Instances) != len(want.Instances) {
		t.Fatalf("%d routes, %d rpcs, %d route×rpcs, %d instances; want %d, %d, %d, %d", len(got.Routes), len(got.RPCs), len(got.RouteRPCs), len(got.Instances),
			len(want.Routes), len(want.RPCs), len(want.RouteRPCs), len(want.Instances))
	}
	for _, r := range got.Routes {
		if r.Stored < 0 || r.Stored > r.Requests {
			t.Errorf("route %q: %d of %d requests stored", r.Route, r.Stored, r.Requests)
		}
	}
	compareRows(t, "route", got.Routes, want.Routes, func(r *store.RouteStats) *store.Latency { return &r.Latency })
	compareRows(t, "rpc", got.RPCs, want.RPCs, func(r *store.RPCStats) *store.Latency { return &r.Latency })
	compareRows(t, "route×rpc", got.RouteRPCs, want.RouteRPCs, func(r *store.RouteRPCStats) *store.Latency { return &r.Latency })
	compareRows(t, "instance", got.Instances, want.Instances, func(r *store.InstanceStats) *store.Latency { return &r.Latency })
}

// compareRows compares rows of Stats: equal but for their latency, which
// must be within the sketches' relative error.
func compareRows[T comparable](t testing.TB, what string, got, want []T, latency func(*T) *store.Latency) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		gl, wl := *latency(&g), *latency(&w)
		*latency(&g), *latency(&w) = store.Latency{}, store.Latency{}
		if g != w || !latencyWithin(gl, wl) {
			t.Errorf("%s %d = %+v %+v, want %+v %+v", what, i, g, gl, w, wl)
		}
	}
}

func testStats(t *testing.T, s store.Store) {
	ctx := context.Background()
	start := base()
	// 3 hours of records, written in two halves so part is folded.
	recs := Records(6, start, 9*time.Second, 1200)
	write(t, s, recs[:600])
	write(t, s, recs[600:])
	tests := []struct {
		name string
		w    store.Window
	}{
		{"everything", store.Window{Since: start.Add(-time.Minute), Until: start.Add(4 * time.Hour)}},
		{"until now", store.Window{Since: start.Add(-time.Minute)}},
		{"aligned hours", store.Window{Since: start.Add(7 * time.Minute), Until: start.Add(2*time.Hour + 7*time.Minute)}},
		{"aligned minutes", store.Window{Since: start.Add(3 * time.Minute), Until: start.Add(50 * time.Minute)}},
		{"ragged", store.Window{Since: start.Add(17*time.Minute + 31*time.Second), Until: start.Add(2*time.Hour + 13*time.Minute + 10*time.Second)}},
		{"within a minute", store.Window{Since: start.Add(20*time.Minute + 5*time.Second), Until: start.Add(20*time.Minute + 50*time.Second)}},
		{"empty", store.Window{Since: start.Add(-2 * time.Hour), Until: start.Add(-time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Stats(ctx, tt.w)
			if err != nil {
				t.Fatal(err)
			}
			w := tt.w
			if w.Until.IsZero() {
				w.Until = time.Now()
				if !got.Window.Until.After(tt.w.Since) {
					t.Errorf("Window.Until = %v, want it filled in", got.Window.Until)
				}
			} else if !got.Window.Since.Equal(w.Since) || !got.Window.Until.Equal(w.Until) {
				t.Errorf("Window = %v, want %v", got.Window, w)
			}
			want := ExpectStats(recs, w)
			if tt.name != "empty" && want.Requests == 0 {
				t.Fatal("window selects nothing")
			}
			CompareStats(t, got, want)
		})
	}
}

func testSeries(t *testing.T, s store.Store) {
	ctx := context.Background()
	start := base()
	recs := Records(7, start, 11*time.Second, 900)
	write(t, s, recs)
	sums := make([]*recording.Summary, len(recs))
	for i, r := range recs {
		sum := r.Summary()
		sums[i] = &sum
	}
	tests := []struct {
		name string
		w    store.Window
		step time.Duration
	}{
		{"ten minutes", store.Window{Since: start, Until: start.Add(3 * time.Hour)}, 10 * time.Minute},
		{"hours", store.Window{Since: start.Add(-7 * time.Minute), Until: start.Add(3*time.Hour - 7*time.Minute)}, time.Hour},
		{"ragged", store.Window{Since: start.Add(13*time.Second + 5*time.Minute), Until: start.Add(2*time.Hour + 1*time.Second)}, 7*time.Minute + 13*time.Second},
		{"seconds", store.Window{Since: start.Add(30 * time.Minute), Until: start.Add(33 * time.Minute)}, 15 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Series(ctx, tt.w, tt.step)
			if err != nil {
				t.Fatal(err)
			}
			want := storekit.ExactSeries(tt.w, tt.step, sums)
			if len(got) != len(want) {
				t.Fatalf("%d buckets, want %d", len(got), len(want))
			}
			var total int64
			for i := range want {
				g, w := got[i], want[i]
				total += g.Requests
				if !g.Start.Equal(w.Start) || g.Requests != w.Requests || g.Errors != w.Errors || g.Calls != w.Calls || !latencyWithin(g.Latency, w.Latency) {
					t.Errorf("bucket %d = %+v, want %+v", i, g, w)
				}
			}
			if total == 0 {
				t.Error("series counts nothing")
			}
		})
	}
}

// testExtremes: windows and list bounds at and past the times Unix
// nanoseconds hold (before 1677, after 2262, a zero Since) count and list
// the records within them, in bounded time, and a series over them steps
// without overflowing. Before, such times turned into other times
// (time.Time.UnixNano wraps), so that a window from year 1 to 9999 counted
// nothing, and one from the first to the last nanosecond hung badgerstore.
func testExtremes(t *testing.T, s store.Store) {
	ctx := context.Background()
	recs := Records(8, base(), 7*time.Second, 50)
	write(t, s, recs)
	n := int64(len(recs))
	year := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
	first, last := time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)
	// within runs f and fails the test if it takes a minute.
	within := func(what string, f func()) {
		t.Helper()
		done := make(chan struct{})
		go func() { defer close(done); f() }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatalf("%s: no answer within a minute", what)
		}
	}
	windows := []struct {
		name string
		w    store.Window
		want int64
	}{
		{"year 1 to 9999", store.Window{Since: year(1), Until: year(9999)}, n},
		{"first to last nanosecond", store.Window{Since: first, Until: last}, n},
		{"zero since", store.Window{Until: year(9999)}, n},
		{"zero since, until now", store.Window{}, n},
		{"before 1677", store.Window{Since: year(1000), Until: year(1500)}, 0},
		{"after 2262", store.Window{Since: year(3000), Until: year(3001)}, 0},
	}
	for _, tt := range windows {
		within("Stats "+tt.name, func() {
			st, err := s.Stats(ctx, tt.w)
			if err != nil {
				t.Errorf("Stats %s: %v", tt.name, err)
			} else if st.Requests != tt.want {
				t.Errorf("Stats %s: %d requests, want %d", tt.name, st.Requests, tt.want)
			}
		})
		for _, step := range []time.Duration{1 << 62, math.MaxInt64, time.Duration(math.MaxInt64/storekit.MaxSteps) * 2} {
			within(fmt.Sprint("Series ", tt.name, " step ", step), func() {
				bs, err := s.Series(ctx, tt.w, step)
				if err != nil {
					t.Errorf("Series %s step %v: %v", tt.name, step, err)
					return
				}
				var sum int64
				for i, b := range bs {
					sum += b.Requests
					if i > 0 && !b.Start.After(bs[i-1].Start) {
						t.Errorf("Series %s step %v: bucket %d starts at %v, after %v", tt.name, step, i, b.Start, bs[i-1].Start)
					}
				}
				if sum != tt.want || len(bs) > storekit.MaxSteps+1 {
					t.Errorf("Series %s step %v: %d requests in %d buckets, want %d", tt.name, step, sum, len(bs), tt.want)
				}
			})
		}
	}
	within("Series of too many steps", func() {
		if _, err := s.Series(ctx, store.Window{Since: first, Until: last}, time.Hour); !errors.Is(err, store.ErrInvalidQuery) {
			t.Errorf("Series of an hour a step from the first to the last nanosecond: %v, want ErrInvalidQuery", err)
		}
	})
	lists := []struct {
		name string
		q    store.Query
		want int
	}{
		{"since year 1", store.Query{Since: year(1)}, len(recs)},
		{"until year 9999", store.Query{Until: year(9999)}, len(recs)},
		{"first to last nanosecond", store.Query{Since: first, Until: last}, len(recs)},
		{"since year 9999", store.Query{Since: year(9999)}, 0},
		{"until year 1000", store.Query{Until: year(1000)}, 0},
	}
	for _, tt := range lists {
		within("List "+tt.name, func() {
			if got := len(listAll(t, s, tt.q)); got != tt.want {
				t.Errorf("List %s: %d records, want %d", tt.name, got, tt.want)
			}
		})
	}
}

func testClear(t *testing.T, s store.Store) {
	ctx := context.Background()
	recs := Records(8, base(), time.Second, 100)
	write(t, s, recs)
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if p, err := s.List(ctx, store.Query{}); err != nil || len(p.Records) != 0 {
		t.Errorf("List after Clear = %d records, %v", len(p.Records), err)
	}
	if _, err := s.Get(ctx, recs[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get after Clear = %v, want ErrNotFound", err)
	}
	w := store.Window{Since: base().Add(-time.Hour)}
	if st, err := s.Stats(ctx, w); err != nil || st.Requests != 0 || len(st.Routes) != 0 || len(st.RPCs) != 0 || len(st.Instances) != 0 {
		t.Errorf("Stats after Clear = %+v, %v", st, err)
	}
	// The store keeps working.
	write(t, s, recs[:10])
	if st, err := s.Stats(ctx, w); err != nil || st.Requests != 10 {
		t.Errorf("Stats after Clear and Write = %+v, %v; want 10 requests", st, err)
	}
}

func testClose(t *testing.T, s store.Store) {
	ctx := context.Background()
	recs := Records(9, base(), time.Second, 10)
	write(t, s, recs)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	w := store.Window{Since: base()}
	checks := map[string]error{}
	checks["Write"] = s.Write(ctx, recs)
	_, checks["Get"] = s.Get(ctx, recs[0].ID)
	_, checks["List"] = s.List(ctx, store.Query{})
	_, checks["Stats"] = s.Stats(ctx, w)
	_, checks["Series"] = s.Series(ctx, w, time.Minute)
	checks["Clear"] = s.Clear(ctx)
	if ts, ok := s.(store.ExecTraceStore); ok {
		_, checks["ExecTrace"] = ts.ExecTrace(ctx, recs[0].ID)
	}
	for name, err := range checks {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

// TraceData returns n bytes standing for an execution trace, the same for
// the same seed.
func TraceData(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return append([]byte("go 1.26 trace\x00\x00\x00"), b...)
}

// testExecTrace checks a store that keeps execution traces
// ([store.ExecTraceStore]): apart from their records, whole, and not past
// Clear.
func testExecTrace(t *testing.T, s store.Store) {
	ts, ok := s.(store.ExecTraceStore)
	if !ok {
		t.Skip("the store keeps no execution traces")
	}
	ctx := context.Background()
	start := base()
	traced, plain := FullRecord(start, 1), FullRecord(start.Add(time.Second), 2)
	data := TraceData(1, 300<<10)
	traced.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: start.Add(200 * time.Millisecond),
		Reason: "1.2s, over the route's p99 of 412ms"}
	write(t, s, []*recording.Record{traced, plain})
	if traced.ExecTrace.Data == nil || &traced.ExecTrace.Data[0] != &data[0] {
		t.Fatal("Write modified the record's trace")
	}
	got, err := s.Get(ctx, traced.ID)
	if err != nil {
		t.Fatal(err)
	}
	et := got.ExecTrace
	if et == nil {
		t.Fatal("Get: the record lost its trace")
	}
	if et.Data != nil || et.Size != int64(len(data)) || !et.Taken.Equal(traced.ExecTrace.Taken) || et.Reason != traced.ExecTrace.Reason {
		t.Errorf("Get: trace %d bytes, size %d, taken %v, reason %q; want no data, size %d, %v, %q",
			len(et.Data), et.Size, et.Taken, et.Reason, len(data), traced.ExecTrace.Taken, traced.ExecTrace.Reason)
	}
	// The rest of the record is as written.
	g, w := *got, *traced
	g.ExecTrace, w.ExecTrace = nil, nil
	g.Start, w.Start = norm(g.Start), norm(w.Start)
	if !reflect.DeepEqual(&g, &w) {
		t.Errorf("Get of a traced record =\n%+v\nwant\n%+v", g, w)
	}
	b, err := ts.ExecTrace(ctx, traced.ID)
	if err != nil || !slices.Equal(b, data) {
		t.Errorf("ExecTrace = %d bytes, %v; want the %d written", len(b), err, len(data))
	}
	if got, err := s.Get(ctx, plain.ID); err != nil || got.ExecTrace != nil {
		t.Errorf("Get of a record without a trace: %v, trace %v", err, got.ExecTrace)
	}
	for _, id := range []recording.ID{plain.ID, makeID(start, 999)} {
		if _, err := ts.ExecTrace(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ExecTrace(%s) = %v, want ErrNotFound", id, err)
		}
	}
	// Written again without its trace, the record has none.
	again := *traced
	again.ExecTrace = nil
	write(t, s, []*recording.Record{&again})
	if got, err := s.Get(ctx, traced.ID); err != nil || got.ExecTrace != nil {
		t.Errorf("rewritten without a trace: %v, trace %+v", err, got.ExecTrace)
	}
	if _, err := ts.ExecTrace(ctx, traced.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ExecTrace after the record was rewritten without one = %v, want ErrNotFound", err)
	}
	write(t, s, []*recording.Record{traced})
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.ExecTrace(ctx, traced.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ExecTrace after Clear = %v, want ErrNotFound", err)
	}
}

// traceSizer is a store that tells the bytes its execution traces take.
type traceSizer interface{ TraceSize() int64 }

// testSharedExecTrace checks that a snapshot shared by several records
// (the slow requests of one batch, see recording.ExecTrace.Snapshot) is
// served to each of them, kept once (where the store tells its traces'
// size), and goes when the last record referring to it goes. A store
// that keeps no traces gives the records back whole, without one.
func testSharedExecTrace(t *testing.T, s store.Store) {
	ctx := context.Background()
	start := base().Add(10 * time.Minute)
	a, b, c := FullRecord(start, 1), FullRecord(start.Add(time.Millisecond), 2), FullRecord(start.Add(2*time.Millisecond), 3)
	data := TraceData(2, 200<<10)
	share := func(r *recording.Record, why string) {
		r.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: start.Add(time.Second),
			Reason: why, Snapshot: a.ID}
	}
	share(a, "a")
	share(c, "c")
	write(t, s, []*recording.Record{a, b, c})
	ts, ok := s.(store.ExecTraceStore)
	if !ok {
		for _, r := range []*recording.Record{a, b, c} {
			got, err := s.Get(ctx, r.ID)
			if err != nil || got.ExecTrace != nil || got.Route != r.Route || len(got.Calls) != len(r.Calls) {
				t.Errorf("Get(%s) from a store without traces: %v, %+v", r.ID, err, got)
			}
		}
		return
	}
	sizer, _ := s.(traceSizer)
	size := func() int64 {
		if sizer == nil {
			return -1
		}
		return sizer.TraceSize()
	}
	has := func(when string, r *recording.Record, want bool) {
		t.Helper()
		got, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatalf("%s: Get(%s): %v", when, r.ID, err)
		}
		d, derr := ts.ExecTrace(ctx, r.ID)
		if !want {
			if got.ExecTrace != nil || !errors.Is(derr, store.ErrNotFound) {
				t.Errorf("%s: record %s: trace %+v, ExecTrace %d bytes, %v; want none, ErrNotFound", when, r.ID, got.ExecTrace, len(d), derr)
			}
			return
		}
		et := got.ExecTrace
		if et == nil || et.Snapshot != a.ID || et.Reason != r.ExecTrace.Reason || et.Size != int64(len(data)) {
			t.Errorf("%s: record %s: trace %+v; want snapshot %s, reason %q", when, r.ID, et, a.ID, r.ExecTrace.Reason)
		}
		if derr != nil || !slices.Equal(d, data) {
			t.Errorf("%s: ExecTrace(%s) = %d bytes, %v; want the %d shared", when, r.ID, len(d), derr, len(data))
		}
	}
	has("written", a, true)
	has("written", b, false)
	has("written", c, true)
	once := size()
	if sizer != nil && (once < int64(len(data)) || once >= 2*int64(len(data))) {
		t.Errorf("TraceSize = %d after two records sharing a %d-byte snapshot: want it kept once", once, len(data))
	}
	// A record of another batch referring to the snapshot stored, and a
	// record given again, find it stored.
	d := FullRecord(start.Add(3*time.Millisecond), 4)
	share(d, "d")
	write(t, s, []*recording.Record{d})
	write(t, s, []*recording.Record{c})
	has("another batch", d, true)
	has("given again", c, true)
	// (A store may count a record's reference to a snapshot: a few dozen
	// bytes.)
	if got := size(); sizer != nil && (got < once || got > once+1024) {
		t.Errorf("TraceSize = %d after more records referring to the stored snapshot, want %d", got, once)
	}
	// The record whose ID the snapshot bears goes without its trace:
	// the others keep it.
	again := *a
	again.ExecTrace = nil
	write(t, s, []*recording.Record{&again})
	has("a rewritten without a trace", a, false)
	has("a rewritten without a trace", c, true)
	has("a rewritten without a trace", d, true)
	// Once the last records referring to it go, so does the snapshot.
	for _, r := range []*recording.Record{c, d} {
		again := *r
		again.ExecTrace = nil
		write(t, s, []*recording.Record{&again})
	}
	has("all rewritten", c, false)
	has("all rewritten", d, false)
	if got := size(); sizer != nil && got >= int64(len(data)) {
		t.Errorf("TraceSize = %d once no record refers to the snapshot, want it gone", got)
	}
	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const writers, batches, batch = 4, 20, 10
	start := base()
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	done := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				recs := Records(uint64(100+w*batches+b), start.Add(time.Duration(b)*time.Minute), time.Second, batch)
				if err := s.Write(ctx, recs); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	var rg sync.WaitGroup
	for range 2 {
		rg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				p, err := s.List(ctx, store.Query{Limit: 20})
				if err != nil {
					errc <- err
					return
				}
				for _, sum := range p.Records {
					if _, err := s.Get(ctx, sum.ID); err != nil {
						errc <- fmt.Errorf("get of a listed record: %w", err)
						return
					}
				}
				if _, err := s.Stats(ctx, store.Window{Since: start.Add(-time.Minute)}); err != nil {
					errc <- err
					return
				}
				if _, err := s.Series(ctx, store.Window{Since: start.Add(-time.Minute), Until: start.Add(time.Hour)}, 5*time.Minute); err != nil {
					errc <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	rg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	const total = writers * batches * batch
	if got := len(listAll(t, s, store.Query{Limit: store.MaxLimit})); got != total {
		t.Errorf("listed %d records after concurrent writes, want %d", got, total)
	}
	st, err := s.Stats(ctx, store.Window{Since: start.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if st.Requests != total {
		t.Errorf("Stats counts %d requests, want %d", st.Requests, total)
	}
}

// Dataset writes n synthetic records for read benchmarks, in batches of
// batch through write: start times spread evenly over span up to end,
// eight routes, up to nine calls of eight kinds each (no stacks), one
// request in fifty failing. It returns the IDs of a hundred of them, spread
// out, for Get. The same n, end and span give the same records.
func Dataset(n int, end time.Time, span time.Duration, batch int, write func([]*recording.Record) error) ([]recording.ID, error) {
	step := span / time.Duration(n)
	rng := rand.New(rand.NewPCG(1, 2))
	routes := []string{"GET /", "GET /users/{id}", "POST /orders", "GET /orders/{id}", "GET /search", "GET /static/", "POST /login", "GET /api/items"}
	rpcs := [][2]string{{"sql", "SELECT users"}, {"sql", "SELECT orders"}, {"sql", "INSERT orders"}, {"http", "GET payments/charge"}, {"grpc", "/inventory.Stock/Get"}, {"memcache", "Get"}, {"memcache", "Set"}, {"dns", "lookup db"}}
	var ids []recording.ID
	recs := make([]*recording.Record, 0, batch)
	for i := range n {
		st := end.Add(-span + time.Duration(i)*step)
		r := &recording.Record{
			Start: st, Duration: time.Duration(rng.ExpFloat64() * float64(30*time.Millisecond)),
			Method: "GET", Path: "/p", Route: routes[rng.IntN(len(routes))], Status: 200, Instance: "bench/1",
		}
		if rng.IntN(50) == 0 {
			r.Status = 500
		}
		binary.BigEndian.PutUint64(r.ID[:8], uint64(st.UnixNano()))
		binary.BigEndian.PutUint64(r.ID[8:], uint64(i))
		for range rng.IntN(10) {
			k := rpcs[rng.IntN(len(rpcs))]
			r.Calls = append(r.Calls, recording.Call{Service: k[0], Method: k[1], Duration: time.Duration(rng.ExpFloat64() * float64(2*time.Millisecond))})
		}
		recs = append(recs, r)
		if len(recs) == batch || i == n-1 {
			if err := write(recs); err != nil {
				return ids, err
			}
			recs = recs[:0]
		}
		if i%(n/100+1) == 0 {
			ids = append(ids, r.ID)
		}
	}
	return ids, nil
}

// BenchmarkReads runs the dashboard's reads on a store holding n records
// of [Dataset]: Get (of ids, in turn), the first List page, and Stats and
// Series over the last hour and the last 7 days, as sub-benchmarks named
// "records=n/…". A dashboard passes minute-aligned windows, answered from
// rollups alone; a ragged window also reads the records of its partial edge
// minutes (every step's, for Series).
func BenchmarkReads(b *testing.B, s store.Store, n int, ids []recording.ID) {
	ctx := context.Background()
	b.Run(fmt.Sprintf("records=%d/Get", n), func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.Get(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run(fmt.Sprintf("records=%d/ListFirstPage", n), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, err := s.List(ctx, store.Query{})
			if err != nil || len(p.Records) != store.DefaultLimit {
				b.Fatal(len(p.Records), err)
			}
		}
	})
	end := time.Now().Truncate(time.Minute)
	for _, win := range []struct {
		name string
		w    store.Window
		step time.Duration
	}{
		{"1h", store.Window{Since: end.Add(-time.Hour), Until: end}, time.Minute},
		{"7d", store.Window{Since: end.Add(-7 * 24 * time.Hour), Until: end}, time.Hour},
		{"7dRagged", store.Window{Since: time.Now().Add(-7 * 24 * time.Hour)}, time.Hour},
	} {
		b.Run(fmt.Sprintf("records=%d/Stats%s", n, win.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st, err := s.Stats(ctx, win.w)
				if err != nil || st.Requests == 0 {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("records=%d/Series%s", n, win.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Series(ctx, win.w, win.step); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// testMaxKeys checks that Stats lists are bounded as store.DefaultMaxKeys
// documents: twice the maximum of distinct routes, RPCs and route×RPC
// pairs over three hours, among them a busy route, must come back as at
// most the maximum plus one store.Other entry per list, the busy route and
// its RPC kept by name with their exact figures, and every list adding up
// to the window's totals.
func testMaxKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	start := base()
	const busy = 200
	n := 2*store.DefaultMaxKeys + 100
	span := 3 * time.Hour
	var recs []*recording.Record
	for i := range n + busy {
		st := start.Add(time.Duration(i) * span / time.Duration(n+busy))
		r := &recording.Record{
			ID: makeID(st, uint32(i)), Kind: recording.KindHTTP, Start: st, Method: "GET",
			Duration: time.Duration(1+i%7) * time.Millisecond, Status: 200, Instance: "test/1",
		}
		r.Path = fmt.Sprintf("/r/%d", i)
		if i%((n+busy)/busy) == 0 && i/((n+busy)/busy) < busy {
			r.Route = "GET /busy"
			for j := range 3 {
				r.Calls = append(r.Calls, recording.Call{Service: "sql", Method: "SELECT busy", Start: time.Duration(j) * time.Microsecond, Duration: 100 * time.Microsecond})
			}
		} else {
			r.Route = "GET /r/" + strconv.Itoa(i)
			r.Calls = []recording.Call{{Service: "svc", Method: "M" + strconv.Itoa(i), Duration: 200 * time.Microsecond}}
			if i%10 == 0 {
				r.Status, r.Calls[0].Error = 500, "failed"
			}
		}
		recs = append(recs, r)
	}
	write(t, s, recs[:len(recs)/2])
	write(t, s, recs[len(recs)/2:])
	for _, w := range []store.Window{
		{Since: start.Add(-time.Minute), Until: start.Add(4 * time.Hour)},
		{Since: start.Add(17*time.Minute + 31*time.Second), Until: start.Add(2*time.Hour + 53*time.Minute + 10*time.Second)},
	} {
		got, err := s.Stats(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		exact := storekit.NewExact(w, 0)
		for _, r := range recs {
			if !r.Start.Before(w.Since) && r.Start.Before(w.Until) {
				exact.AddRecord(r)
			}
		}
		want := exact.Stats()
		if len(want.Routes) <= store.DefaultMaxKeys {
			t.Fatalf("window %v holds only %d routes", w, len(want.Routes))
		}
		if got.Requests != want.Requests || got.Errors != want.Errors {
			t.Errorf("requests/errors = %d/%d, want %d/%d", got.Requests, got.Errors, want.Requests, want.Errors)
		}
		gr, wr := sumRoutes(got.Routes), sumRoutes(want.Routes)
		gc, wc := sumRPCs(got.RPCs, func(r store.RPCStats) store.RPCStats { return r }), sumRPCs(want.RPCs, func(r store.RPCStats) store.RPCStats { return r })
		grr, wrr := sumRPCs(got.RouteRPCs, func(r store.RouteRPCStats) store.RPCStats { return r.RPCStats }), sumRPCs(want.RouteRPCs, func(r store.RouteRPCStats) store.RPCStats { return r.RPCStats })
		for _, c := range []struct {
			what      string
			rows      int
			hasOther  bool
			got, want statSums
		}{
			{"routes", len(got.Routes), slices.ContainsFunc(got.Routes, func(r store.RouteStats) bool { return r.Route == store.Other }), gr, wr},
			{"RPCs", len(got.RPCs), slices.ContainsFunc(got.RPCs, func(r store.RPCStats) bool { return r.Service == store.Other && r.Method == "" }), gc, wc},
			{"route×RPCs", len(got.RouteRPCs), slices.ContainsFunc(got.RouteRPCs, func(r store.RouteRPCStats) bool {
				return r.Route == store.Other && r.Service == store.Other && r.Method == ""
			}), grr, wrr},
		} {
			if c.rows > store.DefaultMaxKeys+1 {
				t.Errorf("%s: %d entries, want at most %d", c.what, c.rows, store.DefaultMaxKeys+1)
			}
			if !c.hasOther {
				t.Errorf("%s: no %q entry", c.what, store.Other)
			}
			if c.got != c.want {
				t.Errorf("%s add up to %+v, want %+v", c.what, c.got, c.want)
			}
		}
		wantBusy := slices.IndexFunc(want.Routes, func(r store.RouteStats) bool { return r.Route == "GET /busy" })
		gotBusy := slices.IndexFunc(got.Routes, func(r store.RouteStats) bool { return r.Route == "GET /busy" })
		if gotBusy < 0 {
			t.Errorf("the busiest route was folded")
		} else if g, w := got.Routes[gotBusy], want.Routes[wantBusy]; g.Requests != w.Requests || g.Total != w.Total || !latencyWithin(g.Latency, w.Latency) {
			t.Errorf("busy route %+v, want %+v", g, w)
		}
		wantRPC := slices.IndexFunc(want.RPCs, func(r store.RPCStats) bool { return r.Method == "SELECT busy" })
		gotRPC := slices.IndexFunc(got.RPCs, func(r store.RPCStats) bool { return r.Method == "SELECT busy" })
		if gotRPC < 0 {
			t.Errorf("the most frequent RPC was folded")
		} else if g, w := got.RPCs[gotRPC], want.RPCs[wantRPC]; g.Count != w.Count || g.Requests != w.Requests || g.Total != w.Total {
			t.Errorf("busy RPC %+v, want %+v", g, w)
		}
	}
}

// statSums adds up the figures of a Stats list.
type statSums struct {
	n, errs, calls int64
	total          time.Duration
}

func sumRoutes(rows []store.RouteStats) (s statSums) {
	for _, r := range rows {
		s.n += r.Requests
		s.errs += r.Errors
		s.calls += r.Calls
		s.total += r.Total
	}
	return s
}

func sumRPCs[T any](rows []T, rpc func(T) store.RPCStats) (s statSums) {
	for _, row := range rows {
		r := rpc(row)
		s.n += r.Count
		s.errs += r.Errors
		s.total += r.Total
	}
	return s
}

// testRewrite writes records again with their IDs but another summary
// (status, duration, path): by a later Write, and twice in one Write, at
// the same start; at another start of the same hour; at a start in
// another hour, and then back at its first start. Each lists once, with
// the summary written last, and Get returns that version. Stats counts
// the store's records either exactly (each ID once, as written last:
// memstore) or every version written (a rewritten record's rollup
// contribution counted again, as badgerstore and redisstore document).
func testRewrite(t *testing.T, s store.Store) {
	ctx := context.Background()
	start := base()
	recs := Records(17, start, 7*time.Second, 5)
	write(t, s, recs)
	again := func(r *recording.Record, status int, d time.Duration, path string) *recording.Record {
		c := *r
		c.Status, c.Duration, c.Path = status, d, path
		return &c
	}
	r1 := again(recs[1], 503, recs[1].Duration+time.Second, "/rewritten/1")
	write(t, s, []*recording.Record{r1})
	r2a := again(recs[2], 404, recs[2].Duration+2*time.Second, "/rewritten/2a")
	r2b := again(recs[2], 201, recs[2].Duration+3*time.Second, "/rewritten/2b")
	write(t, s, []*recording.Record{r2a, r2b})
	// Another start, in the same hour (a second later: the records'
	// order stays).
	r3 := again(recs[3], 302, recs[3].Duration, "/rewritten/3")
	r3.Start = recs[3].Start.Add(time.Second)
	write(t, s, []*recording.Record{r3})
	// A start in another hour, then back at its first start.
	r4a := again(recs[4], 418, recs[4].Duration, "/rewritten/4a")
	r4a.Start = start.Add(2 * time.Hour)
	write(t, s, []*recording.Record{r4a})
	if g, err := s.Get(ctx, r4a.ID); err != nil || g.Path != r4a.Path {
		t.Errorf("Get(%s) after a write in another hour = %v, %v; want path %q", r4a.ID, g, err, r4a.Path)
	}
	if got := listAll(t, s, store.Query{}); len(got) != len(recs) {
		t.Errorf("List after a write in another hour: %d records for %d IDs: %v", len(got), len(recs), ids(got))
	}
	r4b := again(recs[4], 204, recs[4].Duration, "/rewritten/4b")
	write(t, s, []*recording.Record{r4b})
	final := []*recording.Record{recs[0], r1, r2b, r3, r4b}
	got := listAll(t, s, store.Query{})
	if len(got) != len(final) {
		t.Errorf("List: %d records for %d IDs: %v", len(got), len(final), ids(got))
	}
	for i, r := range []*recording.Record{r4b, r3, r2b, r1, recs[0]} {
		if i >= len(got) {
			break
		}
		if g, w := normSummary(got[i]), normSummary(r.Summary()); !reflect.DeepEqual(g, w) {
			t.Errorf("List[%d] =\n%+v\nwant the summary written last\n%+v", i, g, w)
		}
	}
	for _, r := range final {
		g, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatalf("Get(%s): %v", r.ID, err)
		}
		if g.Status != r.Status || g.Duration != r.Duration || g.Path != r.Path || !g.Start.Equal(r.Start) {
			t.Errorf("Get(%s) = status %d, duration %v, path %q, start %v; want the version written last: %d, %v, %q, %v",
				r.ID, g.Status, g.Duration, g.Path, g.Start, r.Status, r.Duration, r.Path, r.Start)
		}
	}
	w := store.Window{Since: start.Add(-time.Minute), Until: start.Add(time.Hour)}
	st, err := s.Stats(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	exact := ExpectStats(final, w)
	every := ExpectStats(append([]*recording.Record{recs[1], recs[2], r2a, recs[3], recs[4], r4a}, final...), w)
	switch st.Requests {
	case exact.Requests:
		CompareStats(t, st, exact)
	case every.Requests:
		CompareStats(t, st, every)
	default:
		t.Errorf("Stats: %d requests, want %d (each ID once) or %d (every version written)", st.Requests, exact.Requests, every.Requests)
	}
}
