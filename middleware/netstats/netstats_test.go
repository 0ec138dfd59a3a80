package netstats_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/middleware/netstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// byPath returns the record of path that s received.
func byPath(t *testing.T, s *recordingtest.Sink, path string) *recording.Record {
	t.Helper()
	for _, r := range s.Records() {
		if r.Path == path {
			return r
		}
	}
	t.Fatalf("no record for %s", path)
	return nil
}

// newRecorder returns a recorder writing to a sink, closed (and flushed) by
// the returned function.
func newRecorder(t *testing.T) (*recording.Recorder, *recordingtest.Sink, func()) {
	t.Helper()
	s := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(s))
	closed := false
	done := func() {
		if !closed {
			closed = true
			if err := rec.Close(context.Background()); err != nil {
				t.Errorf("Close: %v", err)
			}
		}
	}
	t.Cleanup(done)
	return rec, s, done
}

func start(rec *recording.Recorder, path string) (context.Context, *recording.ActiveRecord) {
	return rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: path})
}

// echoServer starts a loopback TCP server echoing what it reads; it stops
// when the test ends.
func echoServer(t testing.TB) string {
	return serve(t, "tcp", "127.0.0.1:0", func(c net.Conn) { io.Copy(c, c) })
}

// serve starts a loopback server on network that runs handle on each
// connection it accepts, in a goroutine of its own, and closes the
// connection after; it stops, and waits for the handlers, when the test
// ends.
func serve(t testing.TB, network, addr string, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// echo writes msg and reads it back.
func echo(t testing.TB, c net.Conn, msg string) {
	t.Helper()
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	if string(buf) != msg {
		t.Fatalf("echo %q, want %q", buf, msg)
	}
}

func methods(r *recording.Record) []string {
	var out []string
	for _, c := range r.Calls {
		out = append(out, c.Service+" "+c.Method)
	}
	return out
}

func TestPerConn(t *testing.T) {
	addr := echoServer(t)
	rec, s, done := newRecorder(t)
	ctx, ar := start(rec, "/conn")
	d := &netstats.Dialer{}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	echo(t, c, "hello")
	echo(t, c, "abc")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	ar.Finish()
	done()
	r := byPath(t, s, "/conn")
	if got := strings.Join(methods(r), ","); got != "net dial tcp,net conn tcp" {
		t.Fatalf("calls = %s", got)
	}
	dial, conn := r.Calls[0], r.Calls[1]
	if dial.Request != addr || dial.Response != addr || dial.Error != "" || dial.Attr("server.port") == "" {
		t.Errorf("dial = %+v", dial)
	}
	if conn.RequestSize != 8 || conn.ResponseSize != 8 || conn.Running || conn.Error != "" || conn.Request != addr {
		t.Errorf("conn = %+v", conn)
	}
	host, port, _ := net.SplitHostPort(addr)
	for _, a := range []recording.Attr{{Key: "network.transport", Value: "tcp"}, {Key: "network.peer.address", Value: host}, {Key: "network.peer.port", Value: port}} {
		if got := conn.Attr(a.Key); got != a.Value {
			t.Errorf("conn attr %s = %q, want %q", a.Key, got, a.Value)
		}
	}
	if dial.Attr("server.address") != host || dial.Attr("server.port") != port {
		t.Errorf("dial attrs %v", dial.Attrs)
	}
	if conn.Start < dial.Start {
		t.Errorf("conn starts before dial")
	}
}

func TestPerOp(t *testing.T) {
	addr := echoServer(t)
	rec, s, done := newRecorder(t)
	ctx, ar := start(rec, "/op")
	d := &netstats.Dialer{Mode: netstats.PerOp}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	echo(t, c, "hello")
	echo(t, c, "abc")
	c.Close()
	ar.Finish()
	done()
	r := byPath(t, s, "/op")
	counts := map[string]int{}
	var read, written int64
	for _, call := range r.Calls {
		counts[call.Method]++
		switch call.Method {
		case "read":
			read += call.ResponseSize
		case "write":
			written += call.RequestSize
		}
		if call.Error != "" || call.Service != "net" {
			t.Errorf("call %+v", call)
		}
	}
	if counts["dial tcp"] != 1 || counts["write"] != 2 || counts["read"] < 2 || counts["close"] != 1 {
		t.Errorf("calls = %v", counts)
	}
	if read != 8 || written != 8 {
		t.Errorf("read %d, written %d bytes", read, written)
	}
}

func TestDialError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	rec, s, done := newRecorder(t)
	ctx, ar := start(rec, "/refused")
	_, err = (&netstats.Dialer{}).DialContext(ctx, "tcp", addr)
	if err == nil {
		t.Fatal("dial to a closed port succeeded")
	}
	ar.Finish()
	done()
	r := byPath(t, s, "/refused")
	if len(r.Calls) != 1 || r.Calls[0].Method != "dial tcp" || r.Calls[0].Error != err.Error() || r.Calls[0].Request != addr {
		t.Fatalf("calls = %+v", r.Calls)
	}
	if sum := r.Summary(); sum.ErrorCalls != 1 {
		t.Errorf("ErrorCalls = %d", sum.ErrorCalls)
	}
}

func TestBind(t *testing.T) {
	for _, mode := range []netstats.Mode{netstats.PerConn, netstats.PerOp} {
		t.Run(mode.String(), func(t *testing.T) {
			addr := echoServer(t)
			rec, s, done := newRecorder(t)
			ctxA, arA := start(rec, "/a")
			c, err := (&netstats.Dialer{Mode: mode}).DialContext(ctxA, "tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			echo(t, c, "for-a") // 5 bytes each way, in A
			ctxB, arB := start(rec, "/b")
			if !netstats.Bind(ctxB, c) {
				t.Fatal("Bind did not find the conn")
			}
			echo(t, c, "b!!") // 3 bytes each way, in B
			arA.Finish()
			arB.Finish()
			echo(t, c, "late") // B has ended: not recorded
			c.Close()
			done()

			sizes := func(r *recording.Record) (sent, received int64, n int) {
				for _, call := range r.Calls {
					if call.Method == "dial tcp" {
						continue
					}
					n++
					sent += max(call.RequestSize, 0)
					received += max(call.ResponseSize, 0)
				}
				return
			}
			a, b := byPath(t, s, "/a"), byPath(t, s, "/b")
			if sent, recv, _ := sizes(a); sent != 5 || recv != 5 {
				t.Errorf("A: sent %d, received %d; calls %q", sent, recv, methods(a))
			}
			if sent, recv, n := sizes(b); sent != 3 || recv != 3 || n == 0 {
				t.Errorf("B: sent %d, received %d; calls %q", sent, recv, methods(b))
			}
			if methods(a)[0] != "net dial tcp" {
				t.Errorf("A: calls %q", methods(a))
			}
			// A's use of the conn ended with the Bind; B ended with the conn
			// still open, which in PerConn mode leaves its call running.
			for _, call := range a.Calls {
				if call.Running {
					t.Errorf("A: call %s still running", call.Method)
				}
			}
			for _, call := range b.Calls {
				if call.Running != (mode == netstats.PerConn) {
					t.Errorf("B: call %s running: %v", call.Method, call.Running)
				}
			}
			if mode == netstats.PerOp && rec.Stats().LateCalls == 0 {
				t.Error("late operations not counted")
			}
		})
	}
}

func TestBindTLSAndForeign(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if netstats.Bind(context.Background(), a) {
		t.Error("Bind claimed a foreign conn")
	}
	w := netstats.WrapConn(context.Background(), a, netstats.PerConn)
	wrapped := struct {
		net.Conn
		netConn
	}{w, netConn{w}}
	if !netstats.Bind(context.Background(), wrapped) {
		t.Error("Bind did not unwrap NetConn")
	}
}

type netConn struct{ c net.Conn }

func (n netConn) NetConn() net.Conn { return n.c }

func TestWrapConn(t *testing.T) {
	addr := echoServer(t)
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rec, s, done := newRecorder(t)
	ctx, ar := start(rec, "/wrap")
	c := netstats.WrapConn(ctx, raw, netstats.PerConn)
	if c.NetConn() != raw || c.Mode() != netstats.PerConn {
		t.Fatal("WrapConn lost the conn or its mode")
	}
	if netstats.WrapConn(ctx, c, netstats.PerOp) != c {
		t.Fatal("wrapping a *Conn again made a new one")
	}
	echo(t, c, "xyz")
	// A failing write after Close is a recorded error only in PerOp mode;
	// closing ends the conn call with its error (none).
	c.Close()
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	ar.Finish()
	done()
	r := byPath(t, s, "/wrap")
	if len(r.Calls) != 1 || r.Calls[0].Method != "conn tcp" || r.Calls[0].RequestSize != 3 || r.Calls[0].ResponseSize != 3 {
		t.Fatalf("calls = %+v", r.Calls)
	}
}

func TestHTTPTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	}))
	defer srv.Close()
	d := &netstats.Dialer{}
	tr := &http.Transport{DialContext: d.DialContext}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	rec, s, done := newRecorder(t)
	ctx, ar := start(rec, "/http")
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello" {
		t.Fatalf("body %q", body)
	}
	ar.Finish()
	done()
	r := byPath(t, s, "/http")
	if got := strings.Join(methods(r), ","); got != "net dial tcp,net conn tcp" {
		t.Fatalf("calls = %s", got)
	}
	conn := r.Calls[1]
	// The pooled connection stays open after the request: its call is
	// still running, with the request and response bytes counted so far.
	if !conn.Running || conn.RequestSize <= 0 || conn.ResponseSize <= int64(len("hello")) {
		t.Errorf("conn call = %+v", conn)
	}
}

// TestConcurrentBind reads and writes from two goroutines while the conn is
// re-bound between requests: every byte is counted in exactly one of them.
func TestConcurrentBind(t *testing.T) {
	for _, mode := range []netstats.Mode{netstats.PerConn, netstats.PerOp} {
		t.Run(mode.String(), func(t *testing.T) {
			addr := echoServer(t)
			rec, s, done := newRecorder(t)
			const nrec, nmsg, size = 4, 500, 16
			ctxs := make([]context.Context, nrec)
			ars := make([]*recording.ActiveRecord, nrec)
			for i := range ctxs {
				ctxs[i], ars[i] = start(rec, "/r"+string(rune('0'+i)))
			}
			c, err := (&netstats.Dialer{Mode: mode}).DialContext(ctxs[0], "tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			wg.Add(2)
			errs := make(chan error, 2)
			go func() {
				defer wg.Done()
				msg := make([]byte, size)
				for range nmsg {
					if _, err := c.Write(msg); err != nil {
						errs <- err
						return
					}
				}
			}()
			go func() {
				defer wg.Done()
				buf := make([]byte, nmsg*size)
				if _, err := io.ReadFull(c, buf); err != nil {
					errs <- err
				}
			}()
			for i := range 200 {
				netstats.Bind(ctxs[i%nrec], c)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			c.Close()
			for _, ar := range ars {
				ar.Finish()
			}
			done()
			var sent, received int64
			for i := range nrec {
				for _, call := range byPath(t, s, "/r"+string(rune('0'+i))).Calls {
					if call.Method == "dial tcp" {
						continue
					}
					sent += max(call.RequestSize, 0)
					received += max(call.ResponseSize, 0)
				}
			}
			if sent != nmsg*size || received != nmsg*size {
				t.Errorf("counted %d bytes sent, %d received; want %d each", sent, received, nmsg*size)
			}
		})
	}
}
