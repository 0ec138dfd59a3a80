package netstats_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/middleware/netstats"
	"github.com/goappstats/appstats/recording"
)

// errClass names what an application can tell of a socket error whose
// text holds the connection's ports: the end of the stream, a reset, a
// timeout (os.ErrDeadlineExceeded, a net.Error's Timeout), or else the
// error's text.
func errClass(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "deadline (i/o timeout)"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return err.Error()
}

// netCalls returns the record's calls of service "net", by method, and
// fails t if any is still running: the connection was left open.
func netCalls(t *testing.T, name string, r *recording.Record) map[string][]recording.Call {
	t.Helper()
	out := map[string][]recording.Call{}
	for _, c := range r.Calls {
		if c.Service != netstats.ServiceNet {
			continue
		}
		out[c.Method] = append(out[c.Method], c)
		if c.Running {
			t.Errorf("%s: call %s %s still running when the request ended", name, c.Method, c.Request)
		}
	}
	return out
}

// callErrors returns the errors recorded by calls of method.
func callErrors(calls map[string][]recording.Call, method string) []string {
	var out []string
	for _, c := range calls[method] {
		if c.Error != "" {
			out = append(out, c.Error)
		}
	}
	return out
}

// redisBlocked waits until redis-server at addr has n clients blocked in a
// command.
func redisBlocked(t *testing.T, addr string, n int) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	want := fmt.Sprintf("blocked_clients:%d", n)
	for range 1000 {
		info, err := c.Info(context.Background(), "clients").Result()
		if err == nil && strings.Contains(info, want) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("redis-server: no %s", want)
}

// TestGoRedisKilledMidCommand kills redis-server (SIGKILL) while a BLPOP
// waits on it, bare and through a netstats Dialer in each mode: the
// application gets the same error (the end of the stream, or a reset),
// the recorded connection's read says so (a reset is an error, the end of
// the stream is not), and go-redis closes the connection: no call is left
// running. The next command, after the server is back, succeeds.
func TestGoRedisKilledMidCommand(t *testing.T) {
	srv := testservers.StartRedis(t)
	got := map[string]string{}
	for _, v := range redisVariants {
		rec, s, done := newRecorder(t)
		ctx, ar := start(rec, "/killed")
		c := redis.NewClient(&redis.Options{Addr: srv.Addr, Dialer: v.dialer(ctx), MaxRetries: -1})
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("%s: PING: %v", v.name, err)
		}
		blpop := make(chan error, 1)
		go func() { blpop <- c.BLPop(ctx, 0, "nothing").Err() }()
		redisBlocked(t, srv.Addr, 1)
		srv.Stop()
		err := <-blpop
		got[v.name] = errClass(err)
		srv.Start()
		after := c.Get(ctx, "k").Err()
		if !errors.Is(after, redis.Nil) {
			t.Errorf("%s: GET after the restart: %v, want redis.Nil", v.name, after)
		}
		c.Close()
		ar.Finish()
		done()
		if v.bare {
			continue
		}
		if got[v.name] != got["bare"] {
			t.Errorf("%s: BLPOP got %v (%s); bare %s", v.name, err, got[v.name], got["bare"])
		}
		calls := netCalls(t, v.name, byPath(t, s, "/killed"))
		method := "conn tcp"
		if v.mode == netstats.PerOp {
			method = "read"
		}
		errs := callErrors(calls, method)
		switch got[v.name] {
		case "EOF":
			if len(errs) != 0 {
				t.Errorf("%s: the stream's end recorded as errors %q", v.name, errs)
			}
		case "reset":
			if len(errs) != 1 || !strings.Contains(errs[0], "connection reset by peer") {
				t.Errorf("%s: a reset recorded as errors %q", v.name, errs)
			}
		}
		if len(calls["dial tcp"]) != 2 {
			t.Errorf("%s: %d dials recorded, want 2 (before and after the restart)", v.name, len(calls["dial tcp"]))
		}
	}
	t.Logf("BLPOP when the server was killed: %v", got)
}

// TestGoRedisPausedPastDeadline pauses redis-server (SIGSTOP) and runs a
// GET whose read timeout (300 ms) passes, bare and through a netstats
// Dialer in each mode: the application gets a timeout, no sooner than the
// deadline, as bare; the read's call records it, and lasts the timeout;
// once the server resumes,
// go-redis has dropped the timed-out connection and the next command
// succeeds.
func TestGoRedisPausedPastDeadline(t *testing.T) {
	srv := testservers.StartRedis(t)
	const timeout = 300 * time.Millisecond
	got := map[string]string{}
	for _, v := range redisVariants {
		rec, s, done := newRecorder(t)
		ctx, ar := start(rec, "/paused")
		c := redis.NewClient(&redis.Options{Addr: srv.Addr, Dialer: v.dialer(ctx), MaxRetries: -1, ReadTimeout: timeout})
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("%s: PING: %v", v.name, err)
		}
		srv.Pause()
		t0 := time.Now()
		err := c.Get(ctx, "k").Err()
		took := time.Since(t0)
		srv.Resume()
		got[v.name] = errClass(err)
		if took < timeout {
			t.Errorf("%s: GET failed after %v, before its read timeout %v: %v", v.name, took, timeout, err)
		}
		if after := c.Get(ctx, "k").Err(); !errors.Is(after, redis.Nil) {
			t.Errorf("%s: GET after the pause: %v, want redis.Nil", v.name, after)
		}
		c.Close()
		ar.Finish()
		done()
		if v.bare {
			if got["bare"] != "deadline (i/o timeout)" {
				t.Fatalf("bare: GET on a paused server: %v, want an i/o timeout", err)
			}
			continue
		}
		if got[v.name] != got["bare"] {
			t.Errorf("%s: GET got %v (%s); bare %s", v.name, err, got[v.name], got["bare"])
		}
		calls := netCalls(t, v.name, byPath(t, s, "/paused"))
		method := "conn tcp"
		if v.mode == netstats.PerOp {
			method = "read"
		}
		// go-redis reads once more after the timeout (that read, past
		// the deadline already, fails at once): each read's call has
		// its error, the first lasting the timeout.
		errs := callErrors(calls, method)
		for _, e := range errs {
			if !strings.HasSuffix(e, "i/o timeout") {
				t.Errorf("%s: recorded error %q, want an i/o timeout", v.name, e)
			}
		}
		if len(errs) == 0 {
			t.Errorf("%s: the timeout not recorded", v.name)
		}
		if v.mode == netstats.PerOp {
			var longest time.Duration
			for _, c := range calls["read"] {
				if c.Error != "" {
					longest = max(longest, c.Duration)
				}
			}
			if longest < timeout {
				t.Errorf("%s: the timed-out read's call lasted %v, less than the timeout %v", v.name, longest, timeout)
			}
		}
		if len(calls["dial tcp"]) != 2 {
			t.Errorf("%s: %d dials recorded, want 2 (before and after the pause)", v.name, len(calls["dial tcp"]))
		}
	}
}

// pgVariant connects to PostgreSQL with pgx, bare or through a netstats
// Dialer, with ctx (a recorded request's, for a wrapped dial).
func (v redisVariant) pgConnect(t *testing.T, ctx context.Context, dsn string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if !v.bare {
		cfg.DialFunc = (&netstats.Dialer{Mode: v.mode}).DialContext
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("%s: connect: %v", v.name, err)
	}
	return c
}

// pgWaitActive waits until the backend pid runs a query containing what.
func pgWaitActive(t *testing.T, admin *pgx.Conn, pid uint32, what string) {
	t.Helper()
	for range 1000 {
		var q string
		err := admin.QueryRow(context.Background(), "SELECT query FROM pg_stat_activity WHERE pid = $1 AND state = 'active'", pid).Scan(&q)
		if err == nil && strings.Contains(q, what) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("backend %d never ran %q", pid, what)
}

// TestPgxBackendKilledMidQuery terminates (pg_terminate_backend, SIGTERM)
// the backend of a pgx connection while it runs pg_sleep, and pauses
// (SIGSTOP) another's past its query's deadline, bare and through a
// netstats Dialer in each mode: the application gets the same errors as
// bare (FATAL 57P01; the context's deadline, no sooner), the recorded
// connection's calls end with the connections pgx closes (none left
// running once pgx has cleaned up) and the read that timed out records
// its error.
func TestPgxBackendKilledMidQuery(t *testing.T) {
	dsn := testservers.StartPostgres(t)
	admin, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	const timeout = 300 * time.Millisecond
	killed, paused := map[string]string{}, map[string]string{}
	for _, v := range redisVariants {
		rec, s, done := newRecorder(t)
		ctx, ar := start(rec, "/pg")

		c := v.pgConnect(t, ctx, dsn)
		pid := c.PgConn().PID()
		sleep := make(chan error, 1)
		go func() { _, err := c.Exec(ctx, "SELECT pg_sleep(60)"); sleep <- err }()
		pgWaitActive(t, admin, pid, "pg_sleep")
		if _, err := admin.Exec(context.Background(), "SELECT pg_terminate_backend($1)", pid); err != nil {
			t.Fatal(err)
		}
		err := <-sleep
		killed[v.name] = fmt.Sprint(err)
		if !c.IsClosed() {
			t.Errorf("%s: pgx kept the connection of a terminated backend open", v.name)
		}
		c.Close(ctx)

		c = v.pgConnect(t, ctx, dsn)
		pid = c.PgConn().PID()
		if err := syscall.Kill(int(pid), syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		tctx, cancel := context.WithTimeout(ctx, timeout)
		t0 := time.Now()
		_, err = c.Exec(tctx, "SELECT 1")
		took := time.Since(t0)
		cancel()
		syscall.Kill(int(pid), syscall.SIGCONT)
		paused[v.name] = fmt.Sprintf("%v deadline=%v", err, errors.Is(err, context.DeadlineExceeded))
		if took < timeout {
			t.Errorf("%s: the query failed after %v, before its deadline %v: %v", v.name, took, timeout, err)
		}
		c.Close(ctx)
		// pgx closes a connection whose query's context ended in a
		// goroutine of its own: wait for it, as the request would to
		// have the connection's call end within it.
		<-c.PgConn().CleanupDone()
		ar.Finish()
		done()
		if v.bare {
			if !strings.Contains(killed["bare"], "57P01") || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("bare: terminated: %s; paused: %s", killed["bare"], paused["bare"])
			}
			continue
		}
		if killed[v.name] != killed["bare"] {
			t.Errorf("%s: terminated mid-query: %s; bare %s", v.name, killed[v.name], killed["bare"])
		}
		if paused[v.name] != paused["bare"] {
			t.Errorf("%s: paused past the deadline: %s; bare %s", v.name, paused[v.name], paused["bare"])
		}
		calls := netCalls(t, v.name, byPath(t, s, "/pg"))
		if n := len(calls["dial tcp"]); n < 2 {
			t.Errorf("%s: %d dials recorded, want 2 or more", v.name, n)
		}
		// pgx's deadline is the connection's: the read waiting on the
		// paused backend fails with an i/o timeout, which is recorded
		// (and so is the read pgx makes after it, past the deadline).
		method := "conn tcp"
		if v.mode == netstats.PerOp {
			method = "read"
		}
		errs := callErrors(calls, method)
		if len(errs) == 0 {
			t.Errorf("%s: the timeout not recorded", v.name)
		}
		for _, e := range errs {
			if !strings.HasSuffix(e, "i/o timeout") {
				t.Errorf("%s: recorded error %q, want an i/o timeout", v.name, e)
			}
		}
		t.Logf("%s: calls %v", v.name, func() map[string]int {
			m := map[string]int{}
			for k, cs := range calls {
				m[k] = len(cs)
			}
			return m
		}())
	}
	t.Logf("terminated: %s; paused: %s", killed["bare"], paused["bare"])
}

// TestResolverFailsOrSlow looks up, bare and through a netstats Resolver,
// a name whose server answers SERVFAIL, a name it answers slowly (300 ms)
// with and without a deadline before the answer, and dials the failing
// name: the application gets the same answers and errors as bare (their
// types and what errors.Is and net.DNSError say), the slow answer no
// sooner than the server gives it; each lookup's call records its error,
// or its answer.
func TestResolverFailsOrSlow(t *testing.T) {
	addr := startDNS(t)
	run := func(ctx context.Context, wrap bool) []string {
		var d net.Dialer
		res := resolverOf(addr, d.DialContext)
		lookup := res.LookupHost
		dial := (&net.Dialer{Resolver: res}).DialContext
		if wrap {
			lookup = (&netstats.Resolver{Resolver: res}).LookupHost
			dial = (&netstats.Dialer{Dialer: &net.Dialer{Resolver: res}}).DialContext
		}
		var out []string
		addrs, err := lookup(ctx, "servfail.test")
		out = append(out, fmt.Sprintf("servfail: %v %s", addrs, netErrKind(err)))
		_, err = dial(ctx, "tcp", "servfail.test:80")
		out = append(out, fmt.Sprintf("dial servfail: %s", netErrKind(err)))
		tctx, cancel := context.WithTimeout(ctx, slowAnswer/3)
		addrs, err = lookup(tctx, "slow.test")
		cancel()
		out = append(out, fmt.Sprintf("slow past deadline: %v %s", addrs, errKindOnly(err)))
		t0 := time.Now()
		addrs, err = lookup(ctx, "slow.test")
		if took := time.Since(t0); took < slowAnswer {
			t.Errorf("wrapped %v: the slow answer came after %v, before the server gave it (%v)", wrap, took, slowAnswer)
		}
		out = append(out, fmt.Sprintf("slow: %v %s", addrs, netErrKind(err)))
		return out
	}
	bare := run(context.Background(), false)
	rec, s, done := newRecorder(t)
	ctx, ar := start(rec, "/dnsfail")
	wrapped := run(ctx, true)
	ar.Finish()
	done()
	testservers.SameTranscript(t, wrapped, bare)
	if !strings.Contains(bare[0], "temp=true") || !strings.Contains(bare[2], "timeout=true") || !strings.HasPrefix(bare[3], "slow: [10.0.0.3] <nil>") {
		t.Fatalf("bare: %q", bare)
	}
	var lookups []string
	for _, c := range byPath(t, s, "/dnsfail").Calls {
		switch c.Service {
		case netstats.ServiceDNS:
			lookups = append(lookups, fmt.Sprintf("%s %s err=%v resp=%s", c.Method, c.Request, c.Error != "", c.Response))
		case netstats.ServiceNet:
			if c.Method == "dial tcp" && (c.Error == "" || !strings.Contains(c.Error, "server misbehaving")) {
				t.Errorf("the dial of servfail.test recorded with error %q", c.Error)
			}
		}
	}
	want := []string{
		"lookup host servfail.test err=true resp=",
		"lookup host slow.test err=true resp=",
		"lookup host slow.test err=false resp=10.0.0.3",
	}
	testservers.SameTranscript(t, lookups, want)
}
