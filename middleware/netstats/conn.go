package netstats

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// Service names of the calls this package records.
const (
	ServiceNet = convention.ServiceNet // "net": dials and connections
	ServiceDNS = convention.ServiceDNS // "dns": lookups
)

// A Mode says how a [Conn] records its use.
type Mode int

const (
	// PerConn records one call per connection and request, "conn tcp",
	// with the bytes written as its request size and the bytes read as its
	// response size. It is the default.
	PerConn Mode = iota
	// PerOp records every Read and Write as a call of its own, "read" or
	// "write", with its byte count, and Close as a call "close": the view of
	// App Engine's socket API, where each Send and Receive was an RPC.
	PerOp
)

// String returns "per-conn" or "per-op".
func (m Mode) String() string {
	switch m {
	case PerConn:
		return "per-conn"
	case PerOp:
		return "per-op"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// A Conn is a [net.Conn] whose reads and writes are recorded in the request
// it is bound to: the request whose context dialed it (or was given to
// [WrapConn]), or the one given to the latest [Bind]. See the package
// documentation for the rules.
//
// Its methods are safe for concurrent use as far as the wrapped connection's
// are; Read and Write may run concurrently, as net.Conn allows.
type Conn struct {
	net.Conn
	mode    Mode
	network string
	remote  string

	mu sync.Mutex              // serializes changes of st
	st atomic.Pointer[binding] // never nil
}

// A binding is the request a Conn's operations are recorded in. It is
// immutable once published; changes store a new binding, under Conn.mu.
type binding struct {
	a *recording.ActiveRecord // nil: not recorded

	started bool                  // PerConn: the call was started (or refused)
	call    *recording.ActiveCall // PerConn: the connection's call in a, if any
}

var _ net.Conn = (*Conn)(nil)

// WrapConn wraps conn so that its use is recorded in the request of ctx (if
// any), in the given mode. In PerConn mode the connection's call starts now.
// Wrapping a *Conn again returns it re-bound to ctx, as [Bind] does, keeping
// its mode.
func WrapConn(ctx context.Context, conn net.Conn, mode Mode) *Conn {
	if c, ok := conn.(*Conn); ok {
		c.Bind(ctx)
		return c
	}
	c := newConn(conn, mode)
	b := &binding{a: recording.FromContext(ctx)}
	if mode == PerConn && b.a != nil {
		b.call = c.startConnCall(b.a)
		b.started = true
	}
	c.st.Store(b)
	return c
}

func newConn(conn net.Conn, mode Mode) *Conn {
	c := &Conn{Conn: conn, mode: mode, network: "tcp"}
	if ra := conn.RemoteAddr(); ra != nil {
		c.network = ra.Network()
		c.remote = ra.String()
	}
	return c
}

func (c *Conn) startConnCall(a *recording.ActiveRecord) *recording.ActiveCall {
	call := a.StartCall(ServiceNet, "conn "+c.network)
	if call != nil {
		call.SetRequest(c.remote)
		if host, port, err := net.SplitHostPort(c.remote); err == nil {
			call.SetAttrs(
				recording.Attr{Key: convention.KeyNetworkTransport, Value: c.network},
				recording.Attr{Key: convention.KeyNetworkPeerAddress, Value: host},
				recording.Attr{Key: convention.KeyNetworkPeerPort, Value: port})
		} else {
			call.SetAttr(convention.KeyNetworkTransport, c.network)
		}
		call.AddSizes(0, 0)
	}
	return call
}

// Mode returns the conn's recording mode.
func (c *Conn) Mode() Mode { return c.mode }

// NetConn returns the wrapped connection.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// Bind attributes the conn's further operations to the request of ctx; see
// the function [Bind]. Binding to the request it is already bound to changes
// nothing.
func (c *Conn) Bind(ctx context.Context) {
	a := recording.FromContext(ctx)
	c.mu.Lock()
	if c.st.Load().a == a {
		c.mu.Unlock()
		return // already bound there: keep the call
	}
	old := c.st.Swap(&binding{a: a})
	c.mu.Unlock()
	if old != nil && old.call != nil {
		old.call.End(nil)
	}
}

// connCall returns the PerConn call of the current binding, starting it on
// the first operation after a Bind.
func (c *Conn) connCall() *recording.ActiveCall {
	b := c.st.Load()
	if b.a == nil || b.started {
		return b.call
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b = c.st.Load()
	if b.a == nil || b.started {
		return b.call
	}
	nb := &binding{a: b.a, started: true}
	nb.call = c.startConnCall(b.a)
	c.st.Store(nb)
	return nb.call
}

// opError reports whether err from Read or Write is a failure worth
// recording: not the end of the stream, nor the conn's own closing.
func opError(err error) error {
	if err == nil || err == io.EOF || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Read reads from the connection, recording the bytes read.
func (c *Conn) Read(p []byte) (int, error) {
	if c.mode == PerOp {
		call := c.startOp("read")
		n, err := c.Conn.Read(p)
		if call != nil {
			call.SetResponseSize(int64(n))
			call.End(opError(err))
		}
		return n, err
	}
	call := c.connCall()
	n, err := c.Conn.Read(p)
	if call != nil {
		call.AddSizes(0, int64(n))
		if e := opError(err); e != nil {
			call.SetError(e.Error())
		}
	}
	return n, err
}

// Write writes to the connection, recording the bytes written.
func (c *Conn) Write(p []byte) (int, error) {
	if c.mode == PerOp {
		call := c.startOp("write")
		n, err := c.Conn.Write(p)
		if call != nil {
			call.SetRequestSize(int64(n))
			call.End(opError(err))
		}
		return n, err
	}
	call := c.connCall()
	n, err := c.Conn.Write(p)
	if call != nil {
		call.AddSizes(int64(n), 0)
		if e := opError(err); e != nil {
			call.SetError(e.Error())
		}
	}
	return n, err
}

// Close closes the connection. In PerConn mode it ends the connection's
// call; in PerOp mode it is recorded as a call "close".
func (c *Conn) Close() error {
	if c.mode == PerOp {
		call := c.startOp("close")
		err := c.Conn.Close()
		call.End(err)
		return err
	}
	c.mu.Lock()
	old := c.st.Swap(&binding{})
	c.mu.Unlock()
	err := c.Conn.Close()
	if old.call != nil {
		old.call.End(err)
	}
	return err
}

func (c *Conn) startOp(method string) *recording.ActiveCall {
	a := c.st.Load().a
	if a == nil {
		return nil
	}
	call := a.StartCall(ServiceNet, method)
	if call != nil && c.remote != "" {
		call.SetRequest(c.remote)
	}
	return call
}

// Bind attributes the further operations of conn — a [*Conn], or a
// connection wrapping one that has a NetConn method, such as a
// [crypto/tls.Conn] — to the request of ctx, replacing any earlier binding:
// the binding belongs to the connection, and the latest Bind wins. In
// PerConn mode the call of the previous binding ends, and a new call starts
// in ctx's request at the conn's next operation. A ctx without a recorded
// request stops recording the conn's operations. Bind reports whether conn
// was a netstats connection.
func Bind(ctx context.Context, conn net.Conn) bool {
	for range 8 { // unwrap a few layers at most
		switch x := conn.(type) {
		case *Conn:
			x.Bind(ctx)
			return true
		case interface{ NetConn() net.Conn }:
			conn = x.NetConn()
		default:
			return false
		}
	}
	return false
}
