// Package netstats records sockets and name lookups as calls of the request
// being recorded, the way App Engine's socket API showed every socket
// operation as an RPC: dials, connections, reads and writes (service "net")
// and DNS lookups (service "dns").
//
// # Dials and connections
//
// A [Dialer] records each dial as a call "dial tcp" (or "dial udp", …) with
// the address and the error (a dial that panics: "panicked", and the panic
// goes on unchanged), and returns a [Conn]. Its DialContext fits
// [net/http.Transport.DialContext]:
//
//	d := &netstats.Dialer{}
//	client := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
//
// A [Conn] records its use in one of two modes:
//
//   - [PerConn] (the default): one call "conn tcp" per connection and
//     request, from the dial (or the first operation after a [Bind]) to
//     Close, with the bytes written and read as its request and response
//     sizes;
//   - [PerOp]: each Read and Write is a call of its own, "read" or "write",
//     with its byte count, and Close is a call "close".
//
// [WrapConn] wraps a connection made some other way.
//
// # What the wrapped code sees
//
// A Conn is meant to be invisible to the code using it. It has exactly the
// optional interfaces of the connection it wraps among [syscall.Conn],
// [io.ReaderFrom], [io.WriterTo], CloseRead, CloseWrite and the packet
// methods of [net.PacketConn]: a client library that checks its pooled
// connections through syscall.Conn (go-redis does) works as with the bare
// connection, and a UDP connection stays a PacketConn, so that a Dialer can
// be the Dial of a [net.Resolver] with PreferGo (Go's resolver frames DNS
// messages as TCP otherwise):
//
//	d := &netstats.Dialer{}
//	r := &net.Resolver{PreferGo: true, Dial: d.DialContext}
//
// Each Conn also has NetConn, as [crypto/tls.Conn] does, to reach the wrapped
// connection and the rest of its methods.
//
// # Which request a connection's operations belong to
//
// A connection outlives the request that opened it when it is kept in a
// pool or a package variable, so attribution follows one rule:
//
//   - operations are recorded in the request bound to the connection most
//     recently by [Bind] (or [Conn.Bind]);
//   - a connection never re-bound belongs to the request whose context
//     dialed it (or was given to [WrapConn]);
//   - once that request has ended, nothing more is recorded for it: in PerOp
//     mode each operation is counted by the recorder as a late call
//     ([recording.Stats].LateCalls), in PerConn mode the bytes no longer
//     reach the finished record, whose connection call is marked as still
//     running when the request ended (the connection was left open).
//
// A binding belongs to the connection, not to a goroutine: code that shares
// a connection between requests concurrently cannot attribute its operations
// exactly, and the latest Bind wins. In PerConn mode Bind ends the previous
// request's call for the connection; binding a context without a recorded
// request stops recording until the next Bind.
//
// Errors of reads and writes are recorded, except the end of the stream
// ([io.EOF]) and the connection's own closing ([net.ErrClosed]).
//
// # Name lookups
//
// A [Resolver] wraps a [net.Resolver]: each lookup is a call "lookup host",
// "lookup ip", "lookup ipaddr", "lookup addr", "lookup cname", "lookup srv",
// "lookup txt", "lookup mx" or "lookup ns", with the name as its request, a
// short summary of the answer as its response, the number of answers as its
// response size, and the error — a name that does not exist included. The
// lookups a dial makes internally are part of the dial's call.
//
// # Attributes
//
// Calls carry the OpenTelemetry semantic conventions' attributes:
// network.transport ("tcp", "udp", "unix") and network.type ("ipv4",
// "ipv6", when the network names one: "tcp4", "ip6"), server.address and
// server.port of a dial, network.peer.address and network.peer.port of a
// connection's operations, dns.question.name of a lookup and dns.answers
// (the addresses of a lookup of addresses, comma-separated; exported as a
// list), and error.type for a failure.
package netstats
