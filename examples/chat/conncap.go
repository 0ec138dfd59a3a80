package main

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
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
// connection.
type connCap struct {
	net.Listener
	max, perIP int
	trusted    []netip.Prefix
	log        *slog.Logger

	mu    sync.Mutex
	seq   uint64 // orders the connections by when they began waiting
	conns map[net.Conn]*capped
	byKey map[netip.Prefix]int

	refusing chan struct{} // the goroutines answering refused connections (refuse)
}

// capped is a connection under the bound.
type capped struct {
	key     netip.Prefix
	counted bool   // under the client's address (not a trusted proxy's)
	waiting uint64 // when it began waiting for a request (connCap.seq), 0 while busy with one
}

func newConnCap(ln net.Listener, max, perIP int, trusted []netip.Prefix, logger *slog.Logger) *connCap {
	return &connCap{Listener: ln, max: max, perIP: perIP, trusted: trusted, log: logger,
		conns: make(map[net.Conn]*capped), byKey: make(map[netip.Prefix]int), refusing: make(chan struct{}, maxRefusing)}
}

// Accept accepts the next connection within the bounds.
func (l *connCap) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.admit(c) {
			return c, nil
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
}

// refuse answers c with status (429 or 503) and why, and closes it: every
// connection under the bound is busy with a request. It reads the request
// first (a client that gets its answer before it has sent its request
// may take it for a broken connection), in a goroutine of its own that
// ends within refuseWait; beyond maxRefusing such goroutines at once, c is
// closed unanswered.
func (l *connCap) refuse(c net.Conn, status int, why string) {
	l.log.Debug("chat hub: connection refused", "why", why)
	select {
	case l.refusing <- struct{}{}:
	default:
		c.Close()
		return
	}
	go func() {
		defer func() { <-l.refusing }()
		defer c.Close()
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
			l.seq++
			e.waiting = l.seq
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
