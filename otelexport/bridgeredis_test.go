package otelexport_test

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/goappstats/appstats/recording"
)

// TestBridgeRedisCredentials bridges Redis spans as redisotel makes them —
// db.statement or db.query.text holding the command with its arguments
// (go-redis' rediscmd.CmdString), a pipeline's commands one a line, an
// error after ": " — and checks that the passwords some commands carry are
// not in the calls' requests, while user names and the other commands stay
// readable.
func TestBridgeRedisCredentials(t *testing.T) {
	rec, sink, tp, _ := bridgeSetup(t)
	tr := tp.Tracer("redisotel")
	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/p"})
	tests := []struct{ key, stmt, want string }{
		{"db.query.text", "auth hunter2pw", "auth [REDACTED]"},
		{"db.statement", "auth default hunter2pw: WRONGPASS invalid username-password pair or user is disabled.",
			"auth default [REDACTED]: WRONGPASS invalid username-password pair or user is disabled."},
		{"db.query.text", "hello 3 auth default hunter2pw setname app", "hello 3 auth default [REDACTED] setname app"},
		{"db.query.text", "ping\nAUTH hunter2pw\nselect 0", "ping\nAUTH [REDACTED]\nselect 0"},
		{"db.query.text", "migrate h 6379 k 0 5000 auth2 u hunter2pw keys a", "migrate h 6379 k 0 5000 auth2 u [REDACTED] keys a"},
		{"db.query.text", "config set requirepass hunter2pw maxmemory 100mb", "config set requirepass [REDACTED] maxmemory 100mb"},
		{"db.query.text", "acl setuser ann on >hunter2pw ~cached:* +get", "acl setuser ann on >[REDACTED] ~cached:* +get"},
		{"db.query.text", "get user:42", "get user:42"},
	}
	for _, tt := range tests {
		_, s := tr.Start(ctx, strings.Fields(tt.stmt)[0], trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("db.system", "redis"), attribute.String(tt.key, tt.stmt)))
		s.End()
	}
	ar.Finish()
	r := finish(t, rec, sink)
	if len(r.Calls) != len(tests) {
		t.Fatalf("%d calls, want %d", len(r.Calls), len(tests))
	}
	for i, tt := range tests {
		if got := r.Calls[i].Request; got != tt.want {
			t.Errorf("%s %q: request %q, want %q", tt.key, tt.stmt, got, tt.want)
		}
	}
}
