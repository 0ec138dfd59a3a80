package recording

import (
	"context"
	"strings"
	"testing"
)

func BenchmarkSecretHeader(b *testing.B) {
	r := DefaultRedaction()
	names := []string{"User-Agent", "Accept", "Accept-Encoding", "X-Request-Id", "Content-Type", "Traceparent"}
	b.ReportAllocs()
	for b.Loop() {
		for _, n := range names {
			r.secretHeader(n)
		}
	}
}

// TestRedactionVariants checks secret query parameters and headers in the
// less common spellings: after ";", in other cases, percent-encoded, and
// tokens in header names other than Authorization and in a Referer's query.
func TestRedactionVariants(t *testing.T) {
	r := DefaultRedaction()
	for _, q := range []string{
		"a=1;token=SECRET",
		"token=SECRET",
		"x=1&Api_Key=SECRET",
		"%74oken=SECRET",
	} {
		got := r.Query(q)
		if strings.Contains(got, "SECRET") {
			t.Errorf("Query(%q) = %q leaks", q, got)
		}
	}
	h := r.Header(map[string][]string{
		"Referer":              {"https://app.example/reset?token=SECRET"},
		"X-Access-Token":       {"SECRET"},
		"Private-Token":        {"SECRET"},
		"X-Amz-Security-Token": {"SECRET"},
	})
	for k, v := range h {
		if strings.Contains(v[0], "SECRET") {
			t.Errorf("header %s kept %q", k, v[0])
		}
	}
}

// BenchmarkScrub measures the writer's redaction of a typical record with
// nothing to hide: a path, headers, and ten calls (HTTP, SQL, gRPC) with
// summaries, attributes and an error.
func BenchmarkScrub(b *testing.B) {
	r := New()
	defer r.Close(context.Background())
	calls := make([]Call, 0, 10)
	for i := range 10 {
		switch i % 3 {
		case 0:
			calls = append(calls, Call{Service: "http", Method: "GET api.example.com/users/{id}",
				Request: "GET https://api.example.com/users/42?page=2&sort=desc", Response: "200 OK",
				Attrs: []Attr{{"http.request.method", "GET"}, {"url.full", "https://api.example.com/users/42?page=2&sort=desc"}}})
		case 1:
			q := "SELECT id, name FROM users WHERE id = ?"
			calls = append(calls, Call{Service: "sql", Method: "SELECT users", Request: q, Response: "1 row",
				Attrs: []Attr{{"db.system.name", "sqlite"}, {"db.query.text", q}, {"db.operation.name", "SELECT"}}})
		default:
			calls = append(calls, Call{Service: "grpc", Method: "/pkg.Users/Get", Error: "rpc error: code = NotFound desc = no such user",
				Attrs: []Attr{{"rpc.system", "grpc"}, {"server.address", "users.internal"}}})
		}
	}
	rec := &Record{Path: "/users/42/orders", Route: "GET /users/{id}/orders", Calls: calls}
	b.ReportAllocs()
	for b.Loop() {
		r.scrub(rec)
	}
}
