package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// connCap bounds the connections the hub's server holds that are no
// websocket (yet): ones that have not sent a request, are reading or
// answering one (POST /notify, a websocket's handshake), or are kept alive
// between requests. Each costs the server a goroutine and ~20 KB until its
// header or idle timeout, and anyone may open thousands without sending a
// byte. A connection accepted over the bounds — max in all, perIP from one
// client address (clientKey's, of the connection's peer; a trusted proxy's
// connections count in all only) — closes the oldest connection that is
// waiting for a request (of that address, for perIP), which a browser
// that meant it opens again; when all are busy with requests, the new
// one is answered 429 (of one address) or 503, once it has sent its
// request, and closed. A websocket, once its handshake is
// done, is the hub's to count (hubConfig.maxConns) and leaves the bound.
//
// It is the server's listener, and its ConnState hook follows each
// connection; its shutdown, not the server's, ends them (see
// connCap.shutdown).
type connCap struct {
	net.Listener
	max, perIP int
	trusted    []netip.Prefix
	log        *slog.Logger

	mu      sync.Mutex
	seq     uint64 // orders the connections by when they began waiting
	conns   map[net.Conn]*capped
	byKey   map[netip.Prefix]int
	closed  bool                  // shutdown has begun: no connection is admitted or kept idle
	drained chan struct{}         // made by shutdown, closed once conns is empty
	refused map[net.Conn]struct{} // the refused connections being answered
	closeLn sync.Once             // the listener's Close

	refusing chan struct{}  // the goroutines answering refused connections (refuse)
	answers  sync.WaitGroup // the same goroutines, for shutdown
}

// capConn is a connection the bound admitted: it notes whether the server
// has read a byte of it since it began waiting for a request, so that
// shutdown closes only the connections that have sent nothing of one.
type capConn struct {
	net.Conn
	state atomic.Int32 // waitingQuiet, waitingRead or swept
}

// The states of a capConn.
const (
	waitingQuiet int32 = iota // nothing read since it began waiting (or busy: see capped.waiting)
	waitingRead               // a byte of a request read
	swept                     // closed by shutdown, having sent nothing
)

func (c *capConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.state.Load() == waitingQuiet {
		c.state.CompareAndSwap(waitingQuiet, waitingRead)
	}
	return n, err
}

// CloseWrite half-closes the connection, as the server does after an
// error response so that the client reads it before the reset (a no-op
// for a connection that cannot).
func (c *capConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// capped is a connection under the bound.
type capped struct {
	key     netip.Prefix
	counted bool   // under the client's address (not a trusted proxy's)
	waiting uint64 // when it began waiting for a request (connCap.seq), 0 while busy with one
}

func newConnCap(ln net.Listener, max, perIP int, trusted []netip.Prefix, logger *slog.Logger) *connCap {
	return &connCap{Listener: ln, max: max, perIP: perIP, trusted: trusted, log: logger,
		conns: make(map[net.Conn]*capped), byKey: make(map[netip.Prefix]int), refused: make(map[net.Conn]struct{}),
		refusing: make(chan struct{}, maxRefusing)}
}

// Accept accepts the next connection within the bounds.
func (l *connCap) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if cc := (&capConn{Conn: c}); l.admit(cc) {
			return cc, nil
		}
	}
}

// admit takes c under the bounds, closing the connection that makes room
// for it, or reports false when there is none (c is then answered and
// closed).
func (l *connCap) admit(c net.Conn) bool {
	ip := remoteIP(c.RemoteAddr().String())
	e := &capped{key: addrKey(ip), counted: !trusted(l.trusted, ip)}
	var evict []net.Conn
	l.mu.Lock()
	if l.closed { // accepted as shutdown closed the listener
		l.mu.Unlock()
		c.Close()
		return false
	}
	if e.counted && l.byKey[e.key] >= l.perIP {
		old := l.oldestLocked(func(o *capped) bool { return o.counted && o.key == e.key })
		if old == nil {
			l.mu.Unlock()
			l.refuse(c, http.StatusTooManyRequests, "the hub is busy with "+strconv.Itoa(l.perIP)+" requests of your address, its most for one (-max-conns-per-ip)")
			return false
		}
		l.removeLocked(old)
		evict = append(evict, old)
	}
	if len(l.conns) >= l.max {
		old := l.oldestLocked(func(*capped) bool { return true })
		if old == nil {
			l.mu.Unlock()
			for _, old := range evict {
				old.Close()
			}
			l.refuse(c, http.StatusServiceUnavailable, "the hub is busy with "+strconv.Itoa(l.max)+" requests, its most: try again later")
			return false
		}
		l.removeLocked(old)
		evict = append(evict, old)
	}
	l.seq++
	e.waiting = l.seq
	l.conns[c] = e
	if e.counted {
		l.byKey[e.key]++
	}
	l.mu.Unlock()
	for _, old := range evict {
		old.Close() // its server goroutine ends on the failed read
	}
	if len(evict) > 0 {
		l.log.Debug("chat hub: connections waiting for a request closed to make room", "n", len(evict))
	}
	return true
}

// oldestLocked returns the connection waiting for a request the longest
// among those ok accepts, or nil. The caller holds l.mu.
func (l *connCap) oldestLocked(ok func(*capped) bool) net.Conn {
	var old net.Conn
	var at uint64
	for c, e := range l.conns {
		if e.waiting != 0 && (old == nil || e.waiting < at) && ok(e) {
			old, at = c, e.waiting
		}
	}
	return old
}

// removeLocked takes c out of the bound. The caller holds l.mu.
func (l *connCap) removeLocked(c net.Conn) {
	e, ok := l.conns[c]
	if !ok {
		return
	}
	delete(l.conns, c)
	if e.counted {
		if l.byKey[e.key]--; l.byKey[e.key] <= 0 {
			delete(l.byKey, e.key)
		}
	}
	if l.drained != nil && len(l.conns) == 0 {
		close(l.drained)
		l.drained = nil
	}
}

// refuse answers c with status (429 or 503) and why, and closes it: every
// connection under the bound is busy with a request. It reads the request
// first (a client that gets its answer before it has sent its request
// may take it for a broken connection), in a goroutine of its own that
// ends within refuseWait, or at shutdown; beyond maxRefusing such
// goroutines at once, c is closed unanswered.
func (l *connCap) refuse(c net.Conn, status int, why string) {
	l.log.Debug("chat hub: connection refused", "why", why)
	select {
	case l.refusing <- struct{}{}:
	default:
		c.Close()
		return
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.refusing
		c.Close()
		return
	}
	l.refused[c] = struct{}{}
	l.answers.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.answers.Done()
		defer func() { <-l.refusing }()
		defer func() {
			l.mu.Lock()
			delete(l.refused, c)
			l.mu.Unlock()
			c.Close()
		}()
		c.SetDeadline(time.Now().Add(refuseWait))
		if _, err := http.ReadRequest(bufio.NewReader(io.LimitReader(c, 16<<10))); err != nil {
			return
		}
		body := why + "\n"
		c.Write([]byte("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\nConnection: close\r\nRetry-After: 10\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body))
	}()
}

// A refused connection's request is awaited refuseWait at most, by
// maxRefusing goroutines at most.
const (
	refuseWait  = 2 * time.Second
	maxRefusing = 16
)

// shutdown stops accepting connections, closes at once those waiting for
// a request that have sent none of it (a byte read makes one busy), and
// the refused ones being answered, and waits until their goroutines are
// done and the other connections, busy with a request, are closed (their
// answer out) or hijacked — within ctx, whose end closes them all.
//
// net/http's Server.Shutdown is no use for this: it takes a connection
// that has sent nothing for one busy with its first request until it is
// 5 s old (golang.org/issue/22682), so that it waited up to 5 s for any
// connection opened just before — and then closed a request in the
// middle of its header too.
func (l *connCap) shutdown(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	err := l.Close()
	l.mu.Lock()
	var ends []net.Conn
	for c, e := range l.conns {
		if cc, ok := c.(*capConn); ok && e.waiting != 0 && cc.state.CompareAndSwap(waitingQuiet, swept) {
			ends = append(ends, c)
		}
	}
	for c := range l.refused {
		ends = append(ends, c)
	}
	drained := make(chan struct{})
	if len(l.conns) == 0 {
		close(drained)
	} else {
		l.drained = drained
	}
	l.mu.Unlock()
	for _, c := range ends {
		c.Close()
	}
	select {
	case <-drained:
	case <-ctx.Done():
		l.mu.Lock()
		busy := make([]net.Conn, 0, len(l.conns))
		for c := range l.conns {
			busy = append(busy, c)
		}
		l.mu.Unlock()
		for _, c := range busy {
			c.Close()
		}
		<-drained // their server goroutines end on the failed reads and writes
		if len(busy) > 0 {
			err = errors.Join(err, fmt.Errorf("hub: %d requests cut off: %w", len(busy), ctx.Err()))
		}
	}
	l.answers.Wait()
	return err
}

// Close closes the listener; shutdown closes the connections too. The
// server's Shutdown and Close call it, after the bound's shutdown.
func (l *connCap) Close() error {
	err := errors.ErrUnsupported // not yet closed
	l.closeLn.Do(func() { err = l.Listener.Close() })
	if err == errors.ErrUnsupported {
		return nil // closed before
	}
	return err
}

// connState is the server's ConnState hook: it notes when a connection
// waits for a request and when it is busy with one, and takes it out of
// the bound when it is closed or hijacked (a websocket).
func (l *connCap) connState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch s {
	case http.StateActive:
		if e, ok := l.conns[c]; ok {
			e.waiting = 0
		}
	case http.StateIdle:
		if e, ok := l.conns[c]; ok {
			if l.closed { // its answer is out: shutdown keeps no connection idle
				c.Close()
				return
			}
			l.seq++
			e.waiting = l.seq
			if cc, ok := c.(*capConn); ok {
				cc.state.Store(waitingQuiet) // before the server reads on
			}
		}
	case http.StateHijacked, http.StateClosed:
		l.removeLocked(c)
	}
}

// addrKey is what a client's connections are counted under: its IPv4
// address, or its IPv6 /64 (see hub.clientKey).
func addrKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits) // an invalid IP (a Unix socket) gives the zero prefix, one key for all
	return p
}
