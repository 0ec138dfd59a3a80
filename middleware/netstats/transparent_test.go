package netstats_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/netstats"
	"github.com/goappstats/appstats/recording"
)

// claims lists which optional interfaces c has.
func claims(c net.Conn) string {
	var has []string
	if _, ok := c.(syscall.Conn); ok {
		has = append(has, "syscall.Conn")
	}
	if _, ok := c.(io.ReaderFrom); ok {
		has = append(has, "io.ReaderFrom")
	}
	if _, ok := c.(io.WriterTo); ok {
		has = append(has, "io.WriterTo")
	}
	if _, ok := c.(interface{ CloseRead() error }); ok {
		has = append(has, "CloseRead")
	}
	if _, ok := c.(interface{ CloseWrite() error }); ok {
		has = append(has, "CloseWrite")
	}
	if _, ok := c.(net.PacketConn); ok {
		has = append(has, "net.PacketConn")
	}
	return strings.Join(has, " ")
}

// shortTempDir returns a directory whose paths fit a unix socket address.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ns")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestConnInterfaces checks that a wrapped connection of each kind the net
// package makes, and a TLS connection, has the same optional interfaces as
// the bare one, dialed by a Dialer in and out of a recorded request, and
// wrapped by WrapConn.
func TestConnInterfaces(t *testing.T) {
	dir := shortTempDir(t)
	unixLn, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer unixLn.Close()
	go func() {
		for {
			c, err := unixLn.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	gram, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "g"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer gram.Close()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	endpoints := []struct{ network, addr, want string }{
		{"tcp", echoServer(t), "syscall.Conn io.ReaderFrom io.WriterTo CloseRead CloseWrite"},
		{"udp", udp.LocalAddr().String(), "syscall.Conn net.PacketConn"},
		{"unix", unixLn.Addr().String(), "syscall.Conn CloseRead CloseWrite net.PacketConn"},
		{"unixgram", gram.LocalAddr().String(), "syscall.Conn CloseRead CloseWrite net.PacketConn"},
	}
	rec, _, _ := newRecorder(t)
	for _, ep := range endpoints {
		bare, err := net.Dial(ep.network, ep.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer bare.Close()
		if got := claims(bare); got != ep.want {
			t.Fatalf("%s: the bare conn claims %q, want %q (has the net package changed?)", ep.network, got, ep.want)
		}
		for _, mode := range []netstats.Mode{netstats.PerConn, netstats.PerOp} {
			for _, recorded := range []bool{false, true} {
				ctx := context.Background()
				if recorded {
					var ar *recording.ActiveRecord
					ctx, ar = start(rec, "/"+ep.network)
					defer ar.Finish()
				}
				c, err := (&netstats.Dialer{Mode: mode}).DialContext(ctx, ep.network, ep.addr)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if got := claims(c); got != ep.want {
					t.Errorf("%s %s (recorded %v): wrapped conn claims %q, bare %q", ep.network, mode, recorded, got, ep.want)
				}
			}
		}
		if got := claims(netstats.WrapConn(context.Background(), bare, netstats.PerOp)); got != ep.want {
			t.Errorf("%s: WrapConn claims %q, bare %q", ep.network, got, ep.want)
		}
	}

	p1, p2 := net.Pipe()
	defer p1.Close()
	defer p2.Close()
	tc := tls.Client(p1, &tls.Config{InsecureSkipVerify: true})
	for _, c := range []net.Conn{p1, tc} {
		if got, want := claims(netstats.WrapConn(context.Background(), c, netstats.PerConn)), claims(c); got != want {
			t.Errorf("%T: WrapConn claims %q, bare %q", c, got, want)
		}
	}
}

// TestCopyRecorded checks that bytes moved through io.ReaderFrom and
// io.WriterTo (what io.Copy uses, splicing where it can) and the packet
// methods are recorded as those of Write and Read.
func TestCopyRecorded(t *testing.T) {
	const msg = "hello, splice"
	addr := echoServer(t)
	for _, mode := range []netstats.Mode{netstats.PerConn, netstats.PerOp} {
		t.Run("tcp/"+mode.String(), func(t *testing.T) {
			rec, s, done := newRecorder(t)
			ctx, ar := start(rec, "/copy")
			c, err := (&netstats.Dialer{Mode: mode}).DialContext(ctx, "tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := io.Copy(c, strings.NewReader(msg)); err != nil || n != int64(len(msg)) {
				t.Fatalf("copy to the conn: %d, %v", n, err)
			}
			if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if _, err := io.Copy(&got, c); err != nil || got.String() != msg {
				t.Fatalf("copy from the conn: %q, %v", got.String(), err)
			}
			c.Close()
			ar.Finish()
			done()
			r := byPath(t, s, "/copy")
			var sent, received int64
			for _, call := range r.Calls {
				sent += max(call.RequestSize, 0)
				received += max(call.ResponseSize, 0)
			}
			if sent != int64(len(msg)) || received != int64(len(msg)) {
				t.Errorf("recorded %d bytes sent, %d received, want %d each; calls %q", sent, received, len(msg), methods(r))
			}
			want := []string{"net dial tcp", "net conn tcp"}
			if mode == netstats.PerOp {
				want = []string{"net dial tcp", "net write", "net close write", "net read", "net close"}
			}
			if got := methods(r); !slices.Equal(got, want) {
				t.Errorf("calls %q, want %q", got, want)
			}
		})
	}

	t.Run("udp", func(t *testing.T) {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		go func() { // echo one datagram
			buf := make([]byte, 64)
			n, from, err := pc.ReadFrom(buf)
			if err == nil {
				pc.WriteTo(buf[:n], from)
			}
		}()
		rec, s, done := newRecorder(t)
		ctx, ar := start(rec, "/udp")
		c, err := (&netstats.Dialer{Mode: netstats.PerOp}).DialContext(ctx, "udp", pc.LocalAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 64)
		n, from, err := c.(net.PacketConn).ReadFrom(buf)
		if err != nil || string(buf[:n]) != msg || from.String() != pc.LocalAddr().String() {
			t.Fatalf("ReadFrom: %q from %v, %v", buf[:n], from, err)
		}
		// A connected UDP socket refuses WriteTo, and the refusal is the
		// wrapped conn's.
		if _, err := c.(net.PacketConn).WriteTo([]byte(msg), pc.LocalAddr()); err == nil {
			t.Error("WriteTo on a connected socket succeeded")
		}
		c.Close()
		ar.Finish()
		done()
		r := byPath(t, s, "/udp")
		want := []string{"net dial udp", "net write", "net read", "net write", "net close"}
		if got := methods(r); !slices.Equal(got, want) {
			t.Fatalf("calls %q, want %q", got, want)
		}
		if r.Calls[2].ResponseSize != int64(len(msg)) || r.Calls[3].Error == "" {
			t.Errorf("read %d bytes, failed write error %q", r.Calls[2].ResponseSize, r.Calls[3].Error)
		}
	})
}

// TestDialerAsResolverDial runs the same lookups through Go's resolver with
// a bare dialer and with a netstats Dialer in each mode, against a loopback
// DNS server that answers over UDP only: the answers must be the same, and
// the wrapped lookups recorded as UDP exchanges.
func TestDialerAsResolverDial(t *testing.T) {
	addr := startDNS(t)
	lookups := []struct {
		name string
		run  func(ctx context.Context, r *net.Resolver) (any, error)
	}{
		{"host app.test.", func(ctx context.Context, r *net.Resolver) (any, error) { return sorted(r.LookupHost(ctx, "app.test.")) }},
		{"host alias.test.", func(ctx context.Context, r *net.Resolver) (any, error) {
			return sorted(r.LookupHost(ctx, "alias.test."))
		}},
		{"ip4", func(ctx context.Context, r *net.Resolver) (any, error) { return r.LookupIP(ctx, "ip4", "app.test.") }},
		{"ip6", func(ctx context.Context, r *net.Resolver) (any, error) { return r.LookupIP(ctx, "ip6", "app.test.") }},
		{"netip", func(ctx context.Context, r *net.Resolver) (any, error) {
			return r.LookupNetIP(ctx, "ip4", "alias.test.")
		}},
		{"cname", func(ctx context.Context, r *net.Resolver) (any, error) { return r.LookupCNAME(ctx, "alias.test.") }},
		{"txt", func(ctx context.Context, r *net.Resolver) (any, error) { return r.LookupTXT(ctx, "txt.test.") }},
		{"mx", func(ctx context.Context, r *net.Resolver) (any, error) { return values(r.LookupMX(ctx, "mail.test.")) }},
		{"srv", func(ctx context.Context, r *net.Resolver) (any, error) {
			_, srvs, err := r.LookupSRV(ctx, "http", "tcp", "svc.test.")
			return values(srvs, err)
		}},
		{"ns", func(ctx context.Context, r *net.Resolver) (any, error) { return values(r.LookupNS(ctx, "zone.test.")) }},
		{"addr", func(ctx context.Context, r *net.Resolver) (any, error) { return r.LookupAddr(ctx, "10.0.0.1") }},
		{"missing", func(ctx context.Context, r *net.Resolver) (any, error) {
			_, err := r.LookupHost(ctx, "nope.test.")
			var dnsErr *net.DNSError
			if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
				return "not found", nil
			}
			return nil, fmt.Errorf("want not found, got %v", err)
		}},
	}
	run := func(r *net.Resolver, ctx context.Context) []string {
		out := make([]string, len(lookups))
		for i, l := range lookups {
			lctx, cancel := context.WithTimeout(ctx, 30*time.Second) // only a bound on a hang: every lookup answers
			v, err := l.run(lctx, r)
			cancel()
			if err != nil {
				out[i] = "error: " + err.Error()
			} else {
				out[i] = fmt.Sprint(v)
			}
		}
		return out
	}
	var d net.Dialer
	bare := run(resolverOf(addr, d.DialContext), context.Background())
	for i, l := range lookups {
		if strings.HasPrefix(bare[i], "error") {
			t.Fatalf("bare lookup %s failed: %s", l.name, bare[i])
		}
	}
	for _, mode := range []netstats.Mode{netstats.PerConn, netstats.PerOp} {
		rec, s, done := newRecorder(t)
		ctx, ar := start(rec, "/lookups")
		got := run(resolverOf(addr, (&netstats.Dialer{Mode: mode}).DialContext), ctx)
		ar.Finish()
		done()
		same := 0
		for i, l := range lookups {
			if got[i] == bare[i] {
				same++
			} else {
				t.Errorf("%s: lookup %s = %s, bare %s", mode, l.name, got[i], bare[i])
			}
		}
		t.Logf("%s: %d of %d lookups answered as bare", mode, same, len(lookups))
		var dials, sent, received int64
		for _, c := range byPath(t, s, "/lookups").Calls {
			switch c.Method {
			case "dial udp":
				dials++
			case "dial tcp":
				t.Errorf("%s: a lookup fell back to TCP", mode)
			}
			sent += max(c.RequestSize, 0)
			received += max(c.ResponseSize, 0)
		}
		if dials < int64(len(lookups)) || sent == 0 || received == 0 {
			t.Errorf("%s: recorded %d UDP dials, %d bytes sent, %d received", mode, dials, sent, received)
		}
	}
}

func sorted(xs []string, err error) ([]string, error) {
	slices.Sort(xs)
	return xs, err
}

// values returns the values xs point to, for printing.
func values[T any](xs []*T, err error) ([]T, error) {
	out := make([]T, len(xs))
	for i, x := range xs {
		out[i] = *x
	}
	return out, err
}
