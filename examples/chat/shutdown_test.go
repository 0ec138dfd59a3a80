package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats"
)

// goroutinesIn returns how many goroutines are running fn (a function's
// full name, as a stack shows it).
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	k := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn+"(") {
			k++
		}
	}
	return k
}

// TestShutdownEndsRefused: a connection past the hub's cap, refused while
// every connection under it is busy with a request, is answered by a
// goroutine that waits for its request; the hub's shutdown ends that
// goroutine and the connection before it returns (the project's rule: no
// goroutine left running after Close).
func TestShutdownEndsRefused(t *testing.T) {
	tc := startChatWith(t, func(hc *hubConfig) { hc.maxPlain = 1 })
	// Busy: a POST whose body never comes. The server reads it before
	// answering (it consumes a body the handler left), so the connection
	// stays busy with its request until the test sends the byte.
	busy, err := net.Dial("tcp", tc.hubLn)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := io.WriteString(busy, "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	const refuse = "github.com/goappstats/appstats/examples/chat.(*connCap).refuse.func1"
	before := goroutinesIn(refuse)
	refused, err := net.Dial("tcp", tc.hubLn)
	if err != nil {
		t.Fatal(err)
	}
	defer refused.Close()
	// A hang guard only: the hub refuses the connection at once. (Until
	// the busy connection's request is read, it is waiting and is closed
	// to make room; the test dials again then.)
	deadline := time.Now().Add(time.Minute)
	for goroutinesIn(refuse) == before {
		if time.Now().After(deadline) {
			t.Fatal("the connection past the cap was not refused")
		}
		refused.SetReadDeadline(time.Now().Add(time.Millisecond))
		if _, err := refused.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
			refused.Close()
			if refused, err = net.Dial("tcp", tc.hubLn); err != nil {
				t.Fatal(err)
			}
			defer refused.Close()
		}
	}

	done := make(chan error, 1)
	go func() { done <- tc.hub.shutdown(context.Background(), tc.hubSrv) }()
	// The busy request ends: its body comes, the hub answers 401.
	if _, err := io.WriteString(busy, "x"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(busy), nil)
	if err != nil {
		t.Fatalf("the busy request: %v", err)
	}
	resp.Body.Close()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if n := goroutinesIn(refuse); n != 0 {
		t.Fatalf("%d goroutines answering refused connections outlived the hub's shutdown", n)
	}
	refused.SetReadDeadline(time.Now().Add(time.Minute)) // a hang guard only
	if _, err := refused.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("the refused connection is open after the hub's shutdown: read %v", err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readsListener tells when each connection it accepted (in order) first
// gave the server a byte.
type readsListener struct {
	net.Listener
	mu    sync.Mutex
	reads []chan struct{}
}

func (l *readsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	ch := make(chan struct{})
	l.mu.Lock()
	l.reads = append(l.reads, ch)
	l.mu.Unlock()
	return &readsConn{Conn: c, read: ch}, nil
}

// read returns the channel closed when the i-th connection accepted first
// gave a byte, waiting for its accept.
func (l *readsListener) read(t *testing.T, i int) chan struct{} {
	deadline := time.Now().Add(time.Minute) // a hang guard only
	for {
		l.mu.Lock()
		if i < len(l.reads) {
			defer l.mu.Unlock()
			return l.reads[i]
		}
		l.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("connection %d not accepted", i)
		}
		time.Sleep(time.Millisecond)
	}
}

type readsConn struct {
	net.Conn
	read chan struct{}
	once sync.Once
}

func (c *readsConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.once.Do(func() { close(c.read) })
	}
	return n, err
}

// TestShutdownEndsIdleConns: the hub's shutdown closes at once a
// connection that has sent nothing (net/http's Shutdown takes such a
// connection, not yet 5 s old, for one busy with a request, and waits for
// it, up to 5 s), while a connection in the middle of its request still
// gets its answer, and a browser's websocket gets that request's push,
// then its close frame ("going away").
func TestShutdownEndsIdleConns(t *testing.T) {
	cfg := config("", slog.New(slog.DiscardHandler))
	cfg.Dir, cfg.InMemory, cfg.NoOTLP = "", true, true
	as, err := appstats.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	hubLn := &readsListener{Listener: listen(t, "127.0.0.1:0")}
	c, err := start(as, listen(t, "127.0.0.1:0"), hubLn, filepath.Join(t.TempDir(), "chat.sqlite"), defaultHubConfig(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer c.shutdown(context.Background())
	tc := &testChat{chat: c, as: as}

	ws := tc.dialHub(t) // connection 0
	waitConns(t, tc, 1)
	wsClosed := make(chan error, 1)
	var wsGot []string // read before wsClosed
	go func() {
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				wsClosed <- err
				return
			}
			wsGot = append(wsGot, string(b))
		}
	}()
	// Connection 1, in the middle of its request: the hub has read its
	// first line.
	mid, err := net.Dial("tcp", hubLn.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer mid.Close()
	if _, err := io.WriteString(mid, "POST /notify HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	<-hubLn.read(t, 1)
	// Connection 2 sends nothing.
	idle, err := net.Dial("tcp", hubLn.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	hubLn.read(t, 2) // accepted

	done := make(chan error, 1)
	go func() { done <- c.hub.shutdown(context.Background(), c.hubSrv) }()
	idle.SetReadDeadline(time.Now().Add(time.Minute)) // a hang guard only
	if n, err := idle.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("the idle connection was not closed by the shutdown: read %d bytes, %v", n, err)
	}
	// Only now does the request in the middle go on: it is answered.
	if _, err := io.WriteString(mid, "Authorization: Bearer "+c.hub.cfg.token+"\r\n\r\n"); err != nil {
		t.Fatalf("the rest of the request: %v", err)
	}
	mid.SetReadDeadline(time.Now().Add(time.Minute)) // a hang guard only
	resp, err := http.ReadResponse(bufio.NewReader(mid), nil)
	if err != nil {
		t.Fatalf("the request in the middle got no answer once the idle connection was closed: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "browsers notified") {
		t.Fatalf("the request in the middle: %s %q, want 200", resp.Status, body)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-wsClosed; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Fatalf("the websocket ended with %v, want a close frame, going away", err)
	}
	if len(wsGot) != 1 || wsGot[0] != updated {
		t.Fatalf("the websocket got %q before its close frame, want the %s of the request in the middle", wsGot, updated)
	}
}

// TestShutdownWritesQueued: what was queued for a browser before the hub
// shut down reaches it before the close frame. The browser is slow to
// read: a message of 16 MiB is being written to it, the UPDATED behind it
// is queued, when shutdown begins.
func TestShutdownWritesQueued(t *testing.T) {
	tc := startChatWith(t, func(hc *hubConfig) { hc.writeTimeout = 10 * time.Minute })
	ws := tc.dialHub(t)
	ws.SetReadLimit(-1)
	waitConns(t, tc, 1)
	big := strings.Repeat("x", 16<<20)
	tc.hub.broadcast(context.Background(), nil, []byte(big))
	tc.hub.broadcast(context.Background(), nil, []byte(updated))
	done := make(chan error, 1)
	go func() { done <- tc.hub.shutdown(context.Background(), tc.hubSrv) }()
	var got []string
	for {
		_, b, err := ws.Read(context.Background())
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Fatalf("the websocket ended with %v, want a close frame, going away", err)
			}
			break
		}
		got = append(got, string(b[:min(len(b), 16)]))
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if len(got) != 2 || got[1] != updated {
		t.Fatalf("the browser got %q before the close frame, want the big message and %s", got, updated)
	}
}

// TestShutdownDeadline: a connection busy with a request past the
// shutdown's ctx is closed, and the shutdown says so; net/http's
// Server.Shutdown returns at ctx's end leaving it open, its goroutine
// running.
func TestShutdownDeadline(t *testing.T) {
	tc := startChat(t)
	busy, err := net.Dial("tcp", tc.hubLn)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	// A POST whose body never comes: the server reads it before answering.
	if _, err := io.WriteString(busy, "POST /notify HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// A hang guard only: the hub reads the header at once, and waits for
	// the body.
	deadline := time.Now().Add(time.Minute)
	for goroutinesIn("net/http.(*body).Read") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the request was not read")
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the shutdown's time is up at once
	err = tc.hub.shutdown(ctx, tc.hubSrv)
	if err == nil || !strings.Contains(err.Error(), "1 requests cut off") {
		t.Errorf("shutdown past its ctx: %v, want the request cut off said", err)
	}
	busy.SetReadDeadline(time.Now().Add(time.Minute)) // a hang guard only
	if _, err := busy.Read(make([]byte, 1)); err == nil || isTimeout(err) {
		t.Fatalf("the busy connection is open after the shutdown: read %v", err)
	}
}
