package ui_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
)

// recID makes a record ID for start time t and sequence n, in the layout
// recording uses (time first, so IDs sort by time).
func recID(t time.Time, n uint64) recording.ID {
	var id recording.ID
	binary.BigEndian.PutUint64(id[:8], uint64(t.UnixNano()))
	binary.BigEndian.PutUint64(id[8:], n)
	return id
}

// makeRecord builds a plausible record with calls, phases, stacks, headers
// and a warning.
func makeRecord(t time.Time, n uint64, path string, status int, calls int) *recording.Record {
	r := &recording.Record{
		ID:            recID(t, n),
		Kind:          recording.KindHTTP,
		Start:         t,
		Method:        "GET",
		Path:          path,
		Route:         "GET /users/{id}",
		Query:         "page=2",
		Status:        status,
		RequestBytes:  120,
		ResponseBytes: 2048,
		Headers:       map[string][]string{"Accept": {"text/html"}, "Authorization": {"[REDACTED]"}},
		Remote:        "127.0.0.1:5555",
		Instance:      "test/1",
		Overhead:      35 * time.Microsecond,
		Attrs:         []recording.Attr{{Key: "http.user_agent", Value: "test"}},
	}
	r.TraceID[0], r.TraceID[15] = 0xab, byte(n)
	r.SpanID[0] = 1
	off := time.Duration(0)
	for i := range calls {
		c := recording.Call{
			Service:      []string{"sql", "http", "grpc", "memcache"}[i%4],
			Method:       fmt.Sprintf("SELECT users WHERE id = ? #%d", i%7),
			Start:        off,
			Duration:     time.Duration(300+i%13*100) * time.Microsecond,
			RequestSize:  64,
			ResponseSize: int64(100 + i),
			Request:      "SELECT * FROM users WHERE id = ?",
			Response:     "1 row",
			Stack: []recording.Frame{
				{Function: "main.(*server).user", File: "/app/server.go", Line: 42 + i%5},
				{Function: "main.loadFriends", File: "/app/friends.go", Line: 17},
				{Function: "net/http.HandlerFunc.ServeHTTP", File: "/usr/local/go/src/net/http/server.go", Line: 2294},
			},
		}
		if c.Service == "http" {
			c.Method = "GET api.example.com/users/{id}"
			c.Phases = []recording.Phase{
				{Name: "dns", Start: off, Duration: c.Duration / 10},
				{Name: "connect", Start: off + c.Duration/10, Duration: c.Duration / 5},
				{Name: "wait", Start: off + 3*c.Duration/10, Duration: c.Duration / 2},
				{Name: "receive", Start: off + 8*c.Duration/10, Duration: c.Duration / 5},
			}
		}
		if i%11 == 5 {
			c.Error = "connection refused"
		}
		r.Calls = append(r.Calls, c)
		off += c.Duration / 2
	}
	r.Duration = off + 2*time.Millisecond
	if calls > 0 {
		r.Warnings = recording.Analyze(r, 5)
	}
	return r
}

// newStore returns a memstore with n records spread over the last minutes.
func newStore(tb testing.TB, n int) (*memstore.Store, []*recording.Record) {
	tb.Helper()
	st := memstore.New(0)
	tb.Cleanup(func() { st.Close() })
	now := time.Now()
	var recs []*recording.Record
	for i := range n {
		status := 200
		switch i % 10 {
		case 3:
			status = 404
		case 7:
			status = 500
		}
		path := fmt.Sprintf("/users/%d", i)
		r := makeRecord(now.Add(-time.Duration(n-i)*time.Second), uint64(i+1), path, status, 3+i%9)
		if i%2 == 1 {
			r.Route = "POST /orders"
			r.Method = "POST"
		}
		recs = append(recs, r)
	}
	if err := st.Write(context.Background(), recs); err != nil {
		tb.Fatal(err)
	}
	return st, recs
}

// demoRecords builds n records of a small web shop spread over the last
// span, deterministic for a seed: several routes, realistic calls, some
// errors, an N+1 loop. They make the browser tests' pages look like a real
// dashboard (and the screenshots in docs/).
func demoRecords(now time.Time, span time.Duration, n int, seed uint64) []*recording.Record {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	type route struct {
		method, pattern, path string
		weight                int
	}
	routes := []route{
		{"GET", "GET /products/{id}", "/products/%d", 30},
		{"GET", "GET /feed", "/feed", 20},
		{"POST", "POST /orders", "/orders", 10},
		{"GET", "GET /search", "/search", 15},
		{"GET", "GET /users/{id}/friends", "/users/%d/friends", 8},
	}
	total := 0
	for _, r := range routes {
		total += r.weight
	}
	var out []*recording.Record
	for i := range n {
		start := now.Add(-span + time.Duration(float64(span)*(float64(i)+rng.Float64())/float64(n)))
		pick := rng.IntN(total)
		var rt route
		for _, r := range routes {
			if pick < r.weight {
				rt = r
				break
			}
			pick -= r.weight
		}
		path := rt.path
		if strings.Contains(path, "%d") {
			path = fmt.Sprintf(path, 1+rng.IntN(5000))
		}
		rec := &recording.Record{
			ID: recID(start, uint64(i+1)), Kind: recording.KindHTTP, Start: start,
			Method: rt.method, Path: path, Route: rt.pattern, Status: 200,
			RequestBytes: int64(rng.IntN(400)), ResponseBytes: int64(2000 + rng.IntN(20000)),
			Headers: map[string][]string{"Accept": {"application/json"}, "Cookie": {"[REDACTED]"}, "User-Agent": {"loadgen/1.0"}},
			Remote:  "127.0.0.1:52314", Instance: "shop-7f9c/4242",
			Overhead: time.Duration(20+rng.IntN(60)) * time.Microsecond,
		}
		rec.TraceID[0], rec.TraceID[1], rec.TraceID[15] = 0x4b, byte(i>>8), byte(i)
		rec.SpanID[7] = 1
		off := time.Duration(200+rng.IntN(300)) * time.Microsecond
		add := func(c recording.Call, seq bool) {
			c.Start = off
			if c.RequestSize == 0 {
				c.RequestSize = int64(60 + rng.IntN(200))
			}
			if c.ResponseSize == 0 {
				c.ResponseSize = int64(100 + rng.IntN(4000))
			}
			c.Stack = []recording.Frame{
				{Function: "shop/internal/store.(*DB).query", File: "/src/shop/internal/store/db.go", Line: 88},
				{Function: "shop/internal/api.(*Server)." + strings.TrimPrefix(rt.method, "") + "Handler", File: "/src/shop/internal/api/handlers.go", Line: 40 + rng.IntN(200)},
				{Function: "net/http.HandlerFunc.ServeHTTP", File: "/usr/local/go/src/net/http/server.go", Line: 2294},
			}
			rec.Calls = append(rec.Calls, c)
			if seq {
				off += c.Duration + time.Duration(rng.IntN(150))*time.Microsecond
			}
		}
		ms := func(lo, hi float64) time.Duration {
			return time.Duration((lo + rng.Float64()*(hi-lo)) * float64(time.Millisecond))
		}
		httpCall := func(host, method string, d time.Duration, seq bool) {
			c := recording.Call{Service: "http", Method: method + " " + host, Duration: d,
				Request: method + " https://" + host, Response: "200 OK"}
			c.Phases = []recording.Phase{
				{Name: "dns", Start: off, Duration: d / 12},
				{Name: "connect", Start: off + d/12, Duration: d / 8},
				{Name: "tls", Start: off + d/12 + d/8, Duration: d / 6},
				{Name: "wait", Start: off + d/12 + d/8 + d/6, Duration: d / 2},
				{Name: "receive", Start: off + d/12 + d/8 + d/6 + d/2, Duration: d - (d/12 + d/8 + d/6 + d/2)},
			}
			add(c, seq)
		}
		add(recording.Call{Service: "memcache", Method: "Get", Duration: ms(0.2, 0.9), Request: "session:8f2c"}, true)
		switch rt.pattern {
		case "GET /products/{id}":
			add(recording.Call{Service: "sql", Method: "SELECT products", Duration: ms(1, 6), Request: "SELECT * FROM products WHERE id = ?", Response: "1 row"}, true)
			add(recording.Call{Service: "grpc", Method: "/inventory.Stock/Get", Duration: ms(2, 9), Request: "sku: 4411", Response: "in_stock: 12"}, true)
			if rng.IntN(10) == 0 {
				add(recording.Call{Service: "memcache", Method: "Set", Duration: ms(0.2, 0.6), Request: "product:4411"}, true)
			}
		case "GET /feed":
			httpCall("recs.internal", "GET", ms(8, 30), false)
			add(recording.Call{Service: "sql", Method: "SELECT posts", Duration: ms(3, 12), Request: "SELECT * FROM posts ORDER BY created DESC LIMIT 20", Response: "20 rows"}, true)
			off += ms(2, 10)
		case "POST /orders":
			add(recording.Call{Service: "sql", Method: "BEGIN", Duration: ms(0.2, 0.5)}, true)
			add(recording.Call{Service: "grpc", Method: "/inventory.Stock/Reserve", Duration: ms(4, 15), Request: "sku: 4411 qty: 1"}, true)
			httpCall("payments.example.com", "POST", ms(40, 160), true)
			c := recording.Call{Service: "sql", Method: "INSERT orders", Duration: ms(1, 4), Request: "INSERT INTO orders (user_id, total) VALUES (?, ?)"}
			if rng.IntN(8) == 0 {
				c.Error = "pq: duplicate key value violates unique constraint \"orders_pkey\""
				rec.Status = 500
			}
			add(c, true)
			add(recording.Call{Service: "sql", Method: "COMMIT", Duration: ms(0.5, 2)}, true)
		case "GET /search":
			add(recording.Call{Service: "grpc", Method: "/search.Index/Query", Duration: ms(10, 60), Request: "q: \"red shoes\"", Response: "hits: 48"}, true)
			if rng.IntN(12) == 0 {
				rec.Calls[len(rec.Calls)-1].Error = "rpc error: code = DeadlineExceeded desc = context deadline exceeded"
				rec.Status = 504
			}
		case "GET /users/{id}/friends":
			add(recording.Call{Service: "sql", Method: "SELECT friends", Duration: ms(1, 3), Request: "SELECT friend_id FROM friends WHERE user_id = ?", Response: "8 rows"}, true)
			for range 8 { // N+1
				add(recording.Call{Service: "sql", Method: "SELECT users", Duration: ms(0.6, 2.5), Request: "SELECT * FROM users WHERE id = ?", Response: "1 row"}, true)
			}
		}
		if rng.IntN(40) == 0 {
			rec.Status = 404
		}
		rec.Duration = off + ms(0.3, 2)
		rec.Warnings = recording.Analyze(rec, 5)
		out = append(out, rec)
	}
	return out
}

// timelineRecord is one richer record for the details page: parallel HTTP
// calls with phases, an N+1 loop, an error, a custom event and a call left
// running.
func timelineRecord(start time.Time) *recording.Record {
	recs := demoRecords(start, time.Second, 1, 7)
	r := recs[0]
	r.ID = recID(start, 424242)
	r.Start = start
	r.Method, r.Path, r.Route, r.Status = "GET", "/users/1042/dashboard", "GET /users/{id}/dashboard", 200
	r.Query = "tab=activity&token=[REDACTED]"
	r.Calls = nil
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	stack := []recording.Frame{
		{Function: "shop/internal/api.(*Server).dashboard", File: "/src/shop/internal/api/dashboard.go", Line: 57},
		{Function: "shop/internal/api.(*Server).ServeHTTP", File: "/src/shop/internal/api/server.go", Line: 112},
		{Function: "net/http.serverHandler.ServeHTTP", File: "/usr/local/go/src/net/http/server.go", Line: 3301},
	}
	call := func(svc, method string, st, d float64, req, resp string) *recording.Call {
		r.Calls = append(r.Calls, recording.Call{Service: svc, Method: method, Start: ms(st), Duration: ms(d),
			Request: req, Response: resp, RequestSize: 180, ResponseSize: 2400, Stack: stack})
		return &r.Calls[len(r.Calls)-1]
	}
	phases := func(c *recording.Call) {
		s, d := c.Start, c.Duration
		c.Phases = []recording.Phase{
			{Name: "dns", Start: s, Duration: d / 10}, {Name: "connect", Start: s + d/10, Duration: d / 8},
			{Name: "tls", Start: s + d/10 + d/8, Duration: d / 6}, {Name: "wait", Start: s + d/10 + d/8 + d/6, Duration: d / 2},
			{Name: "receive", Start: s + d/10 + d/8 + d/6 + d/2, Duration: d - (d/10 + d/8 + d/6 + d/2)},
		}
	}
	// Each call has a span; calls made inside another (recording.Do)
	// name it as their parent.
	span := byte(0)
	under := func(parent *recording.Call, c *recording.Call) *recording.Call {
		span++
		c.SpanID = recording.SpanID{0x5a, 0, 0, 0, 0, 0, 0, span}
		if parent != nil {
			c.ParentSpanID = parent.SpanID
		}
		return c
	}
	call("memcache", "Get", 0.3, 0.6, "session:8f2c", "hit (212 B)")
	call("sql", "SELECT users", 1.1, 2.4, "SELECT * FROM users WHERE id = ?", "1 row")
	call("dashboard", "Widgets", 3.6, 22, "", "")
	phases(call("http", "GET recs.internal/v1/recommendations", 3.8, 21, "GET https://recs.internal/v1/recommendations?user=1042", "200 OK"))
	phases(call("http", "GET ads.example.com/slot", 3.9, 14.5, "GET https://ads.example.com/slot?page=dashboard", "200 OK"))
	g := call("grpc", "/notify.Inbox/Unread", 4.2, 6.3, "user_id: 1042", "count: 3")
	g.Attrs = []recording.Attr{{Key: "rpc.grpc.status_code", Value: "0"}} // as stored before statuses were recorded by name
	call("orders", "Load", 25.3, 19, "", "")
	call("sql", "SELECT orders", 25.5, 4.1, "SELECT * FROM orders WHERE user_id = ? ORDER BY created DESC LIMIT 10", "10 rows")
	for i := range 10 {
		call("sql", "SELECT products", 30+float64(i)*1.45, 1.2+float64(i%3)*0.2, "SELECT * FROM products WHERE id = ?", "1 row")
	}
	c := call("grpc", "/inventory.Stock/Get", 45.2, 9.8, "sku: 4411", "")
	c.Error = "rpc error: code = Unavailable desc = connection refused"
	c.Attrs = []recording.Attr{{Key: "rpc.response.status_code", Value: "UNAVAILABLE"}}
	r.Calls = append(r.Calls, recording.Call{Service: "event", Method: "cache warmed", Start: ms(55.6), Event: true, RequestSize: -1, ResponseSize: -1})
	call("memcache", "Set", 55.8, 0.5, "dashboard:1042", "stored")
	c = call("http", "POST audit.internal/events", 56.5, 6.5, "POST https://audit.internal/events", "")
	c.Running = true
	r.Duration = ms(63)
	var parent *recording.Call
	for i := range r.Calls {
		c := &r.Calls[i]
		switch {
		case c.Service == "dashboard" || c.Service == "orders":
			under(nil, c)
			parent = c
		case parent != nil && c.Start < parent.End():
			under(parent, c)
		default:
			under(nil, c)
			parent = nil
		}
	}
	r.Warnings = recording.Analyze(r, 5)
	return r
}
