package netstats

//go:generate go run gen_combos.go

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

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
// A Conn has the optional interfaces of the connection it wraps, and no
// others: [syscall.Conn], [io.ReaderFrom], [io.WriterTo], CloseRead and
// CloseWrite (as [net.TCPConn] and [net.UnixConn] have them), and the packet
// methods ReadFrom and WriteTo of [net.PacketConn] (as [net.UDPConn] has
// them), so that code asserting them — a pool checking its idle connections
// through syscall.Conn, Go's resolver framing DNS messages as datagrams on a
// PacketConn, io.Copy splicing — behaves as with the bare connection. Bytes
// moved by ReadFrom and WriteTo are recorded as those of Write and Read;
// io.Copy or io.CopyN between two Conns hands the one socket the other's
// own, so that the kernel can splice between them as bare, and records the
// bytes on both. I/O done on the raw connection that SyscallConn returns is
// not recorded.
// Other methods of the wrapped connection are reached through NetConn.
//
// Its methods are safe for concurrent use as far as the wrapped connection's
// are; Read and Write may run concurrently, as net.Conn allows. Only this
// package implements Conn.
type Conn interface {
	net.Conn
	// Bind attributes the conn's further operations to the request of ctx;
	// see the function [Bind]. Binding to the request it is already bound to
	// changes nothing.
	Bind(ctx context.Context)
	// Mode returns the conn's recording mode.
	Mode() Mode
	// NetConn returns the wrapped connection.
	NetConn() net.Conn

	conn() *conn
}

// conn is the implementation of Conn. It has the methods of every optional
// interface but the packet ones (see packetConn); compose (combos.go)
// returns it inside a value that claims those of the wrapped connection only.
type conn struct {
	net.Conn
	mode    Mode
	network string
	remote  string

	// The wrapped connection's optional interfaces, nil where it lacks them.
	sys sysConn
	rf  io.ReaderFrom
	wt  io.WriterTo
	cr  closeReader
	cw  closeWriter
	pc  packetIO

	mu sync.Mutex              // serializes changes of st
	st atomic.Pointer[binding] // never nil
}

// sysConn is [syscall.Conn], named so as not to clash with Conn where it
// is embedded.
type sysConn = syscall.Conn

type closeReader interface{ CloseRead() error }
type closeWriter interface{ CloseWrite() error }

// packetIO is the part of [net.PacketConn] that [net.Conn] lacks.
type packetIO interface {
	ReadFrom(p []byte) (n int, addr net.Addr, err error)
	WriteTo(p []byte, addr net.Addr) (n int, err error)
}

// A binding is the request a conn's operations are recorded in. It is
// immutable once published; changes store a new binding, under conn.mu.
type binding struct {
	a *recording.ActiveRecord // nil: not recorded

	started bool                  // PerConn: the call was started (or refused)
	call    *recording.ActiveCall // PerConn: the connection's call in a, if any
}

var (
	_ Conn          = (*conn)(nil)
	_ syscall.Conn  = (*conn)(nil)
	_ io.ReaderFrom = (*conn)(nil)
	_ io.WriterTo   = (*conn)(nil)
	_ closeReader   = (*conn)(nil)
	_ closeWriter   = (*conn)(nil)
	_ packetIO      = packetConn{}
)

// WrapConn wraps nc so that its use is recorded in the request of ctx (if
// any), in the given mode. In PerConn mode the connection's call starts now.
// Wrapping a Conn again returns it re-bound to ctx, as [Bind] does, keeping
// its mode.
func WrapConn(ctx context.Context, nc net.Conn, mode Mode) Conn {
	if c, ok := nc.(Conn); ok {
		c.Bind(ctx)
		return c
	}
	c := newConn(nc, mode)
	b := &binding{a: recording.FromContext(ctx)}
	if mode == PerConn && b.a != nil {
		b.call = c.startConnCall(b.a)
		b.started = true
	}
	c.st.Store(b)
	return c.compose()
}

func newConn(nc net.Conn, mode Mode) *conn {
	c := &conn{Conn: nc, mode: mode, network: "tcp"}
	if ra := nc.RemoteAddr(); ra != nil {
		c.network = ra.Network()
		c.remote = ra.String()
	}
	c.sys, _ = nc.(syscall.Conn)
	c.cr, _ = nc.(closeReader)
	c.cw, _ = nc.(closeWriter)
	if pc, ok := nc.(packetIO); ok {
		c.pc = pc
	} else {
		c.rf, _ = nc.(io.ReaderFrom)
		c.wt, _ = nc.(io.WriterTo)
	}
	return c
}

func (c *conn) conn() *conn { return c }

func (c *conn) startConnCall(a *recording.ActiveRecord) *recording.ActiveCall {
	call := a.StartCall(ServiceNet, "conn "+c.network)
	if call != nil {
		call.SetRequest(c.remote)
		var buf [4]recording.Attr
		call.SetAttrs(addrAttrs(buf[:0], c.network, c.remote, convention.KeyNetworkPeerAddress, convention.KeyNetworkPeerPort)...)
		call.AddSizes(0, 0)
	}
	return call
}

// addrAttrs appends to dst the attributes of addr, an address on a Go
// network ("tcp4", "udp", "unix"): network.transport ("tcp", "udp",
// "unix"), network.type when the network pins the IP version ("ipv4"), and
// addr's host and port under hostKey and portKey (the whole of addr under
// hostKey when it has no port, as a Unix socket's path).
func addrAttrs(dst []recording.Attr, network, addr, hostKey, portKey string) []recording.Attr {
	transport, typ := convention.NetworkTransport(network)
	dst = append(dst, recording.Attr{Key: convention.KeyNetworkTransport, Value: transport})
	if typ != "" {
		dst = append(dst, recording.Attr{Key: convention.KeyNetworkType, Value: typ})
	}
	if host, port, err := net.SplitHostPort(addr); err == nil {
		return append(dst, recording.Attr{Key: hostKey, Value: host}, recording.Attr{Key: portKey, Value: port})
	}
	if addr != "" {
		dst = append(dst, recording.Attr{Key: hostKey, Value: addr})
	}
	return dst
}

func (c *conn) Mode() Mode { return c.mode }

func (c *conn) NetConn() net.Conn { return c.Conn }

func (c *conn) Bind(ctx context.Context) {
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
func (c *conn) connCall() *recording.ActiveCall {
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

// startIO returns the call an operation is recorded in: a new call named
// method in PerOp mode, the connection's call in PerConn mode.
func (c *conn) startIO(method string) *recording.ActiveCall {
	if c.mode == PerOp {
		return c.startOp(method)
	}
	return c.connCall()
}

// endIO records n bytes written (write) or read and the operation's error
// in call, which startIO returned.
func (c *conn) endIO(call *recording.ActiveCall, write bool, n int64, err error) {
	if call == nil {
		return
	}
	if c.mode == PerOp {
		if write {
			call.SetRequestSize(n)
		} else {
			call.SetResponseSize(n)
		}
		call.End(opError(err))
		return
	}
	if write {
		call.AddSizes(n, 0)
	} else {
		call.AddSizes(0, n)
	}
	if e := opError(err); e != nil {
		call.SetError(e.Error())
	}
}

// Read reads from the connection, recording the bytes read.
func (c *conn) Read(p []byte) (int, error) {
	call := c.startIO("read")
	n, err := c.Conn.Read(p)
	c.endIO(call, false, int64(n), err)
	return n, err
}

// Write writes to the connection, recording the bytes written.
func (c *conn) Write(p []byte) (int, error) {
	call := c.startIO("write")
	n, err := c.Conn.Write(p)
	c.endIO(call, true, int64(n), err)
	return n, err
}

// ReadFrom is the wrapped connection's [io.ReaderFrom], recorded as a write.
// When r is another Conn of this package, or an [io.LimitedReader] of one
// (what io.CopyN makes), the wrapped connection is handed r's own
// connection, so that it can splice between the two sockets as it would
// bare; the bytes are then recorded as a read of r as well.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	var src *conn // r's Conn, if r is one or limits one
	var limited, inner *io.LimitedReader
	switch v := r.(type) {
	case Conn:
		src = v.conn()
		r = src.Conn
	case *io.LimitedReader:
		if s, ok := v.R.(Conn); ok {
			src = s.conn()
			limited, inner = v, &io.LimitedReader{R: src.Conn, N: v.N}
			r = inner
		}
	}
	var read *recording.ActiveCall
	if src != nil {
		read = src.startIO("read")
	}
	call := c.startIO("write")
	n, err := c.rf.ReadFrom(r) // an error of r's is reported here, as bare
	if limited != nil {
		limited.N = inner.N
	}
	c.endIO(call, true, n, err)
	if src != nil {
		src.endIO(read, false, n, nil)
	}
	return n, err
}

// WriteTo is the wrapped connection's [io.WriterTo], recorded as a read.
// When w is another Conn of this package, the wrapped connection is handed
// w's own connection, so that it can splice between the two sockets as it
// would bare; the bytes are then recorded as a write of w as well.
func (c *conn) WriteTo(w io.Writer) (int64, error) {
	var dst *conn
	var write *recording.ActiveCall
	if d, ok := w.(Conn); ok {
		dst = d.conn()
		w = dst.Conn
		write = dst.startIO("write")
	}
	call := c.startIO("read")
	n, err := c.wt.WriteTo(w)
	c.endIO(call, false, n, err)
	if dst != nil {
		dst.endIO(write, true, n, nil)
	}
	return n, err
}

// SyscallConn is the wrapped connection's [syscall.Conn]. What is read or
// written through the raw connection is not recorded.
func (c *conn) SyscallConn() (syscall.RawConn, error) { return c.sys.SyscallConn() }

// CloseRead shuts down the reading side of the wrapped connection. In PerOp
// mode it is recorded as a call "close read".
func (c *conn) CloseRead() error { return c.closeHalf("close read", c.cr.CloseRead) }

// CloseWrite shuts down the writing side of the wrapped connection. In PerOp
// mode it is recorded as a call "close write".
func (c *conn) CloseWrite() error { return c.closeHalf("close write", c.cw.CloseWrite) }

func (c *conn) closeHalf(method string, f func() error) error {
	if c.mode != PerOp {
		return f()
	}
	call := c.startOp(method)
	err := f()
	call.End(err)
	return err
}

// packetConn gives a conn the packet methods of the [net.PacketConn] it
// wraps; they cannot be methods of conn, whose ReadFrom and WriteTo are
// those of io.ReaderFrom and io.WriterTo.
type packetConn struct{ c *conn }

// ReadFrom reads a packet, recorded as a read.
func (p packetConn) ReadFrom(b []byte) (int, net.Addr, error) {
	call := p.c.startIO("read")
	n, addr, err := p.c.pc.ReadFrom(b)
	p.c.endIO(call, false, int64(n), err)
	return n, addr, err
}

// WriteTo writes a packet to addr, recorded as a write.
func (p packetConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	call := p.c.startIO("write")
	n, err := p.c.pc.WriteTo(b, addr)
	p.c.endIO(call, true, int64(n), err)
	return n, err
}

// Close closes the connection. In PerConn mode it ends the connection's
// call; in PerOp mode it is recorded as a call "close".
func (c *conn) Close() error {
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

func (c *conn) startOp(method string) *recording.ActiveCall {
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

// Bind attributes the further operations of conn — a [Conn], or a
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
		case Conn:
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
