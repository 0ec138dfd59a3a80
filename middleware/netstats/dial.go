package netstats

import (
	"context"
	"net"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// A Dialer dials connections and records each dial as a call "net"/"dial
// tcp" (the network name follows "dial") of the request in the dial's
// context, with the address as its request, the connected peer as its
// response and the error if the dial fails. The connections it returns are
// each a [Conn], recorded in Mode, with the optional interfaces of the connections
// they wrap: a UDP connection is a [net.PacketConn], so that the Dialer can
// serve as the Dial of a [net.Resolver] with PreferGo.
//
// A name in the address is resolved inside the dial, and its lookup is part
// of the dial call; use a [Resolver] to record lookups as calls of their own.
//
// The zero Dialer is ready to use, with a zero [net.Dialer] and PerConn mode.
// A Dialer is safe for concurrent use; its fields must not change once it is
// in use.
type Dialer struct {
	// Dialer dials; nil means a zero net.Dialer.
	Dialer *net.Dialer
	// Mode is how the returned connections record their use.
	Mode Mode
}

// Dial dials without a request context: the dial and the connection are not
// recorded until the connection is bound with [Bind].
func (d *Dialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

// DialContext dials address on network, recording the dial in the request of
// ctx. Its signature fits [net/http.Transport.DialContext].
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	nd := d.Dialer
	if nd == nil {
		nd = &net.Dialer{}
	}
	a := recording.FromContext(ctx)
	if a == nil {
		conn, err := nd.DialContext(ctx, network, address)
		if err != nil {
			return nil, err
		}
		c := newConn(conn, d.Mode)
		c.st.Store(&binding{})
		return c.compose(), nil
	}
	call := a.StartChild(recording.ParentFromContext(ctx), ServiceNet, "dial "+network)
	if call != nil {
		call.SetRequest(address)
		var buf [4]recording.Attr
		call.SetAttrs(addrAttrs(buf[:0], network, address, convention.KeyServerAddress, convention.KeyServerPort)...)
	}
	// A dial that panics ends the call (see convention.EndIfPanicked).
	ended := false
	defer convention.EndIfPanicked(call, &ended)
	conn, err := nd.DialContext(ctx, network, address)
	ended = true
	if err != nil {
		call.End(err)
		return nil, err
	}
	if call != nil {
		if ra := conn.RemoteAddr(); ra != nil {
			call.SetResponse(ra.String())
		}
		call.End(nil)
	}
	return WrapConn(ctx, conn, d.Mode), nil
}
