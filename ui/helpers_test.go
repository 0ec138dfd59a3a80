package ui_test

import (
	"context"
	"encoding/binary"
	"fmt"
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
		Headers:       map[string][]string{"Accept": {"text/html"}, "Authorization": {"[redacted]"}},
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
