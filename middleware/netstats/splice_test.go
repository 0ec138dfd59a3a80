package netstats_test

import (
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/middleware/netstats"
	"github.com/goappstats/appstats/recording"
)

// sourceServer starts a loopback server on network that writes size bytes
// (size < 0: until the peer leaves) to each connection it accepts and closes
// it.
func sourceServer(t testing.TB, network, addr string, size int64) string {
	return serve(t, network, addr, func(c net.Conn) {
		if size < 0 {
			io.Copy(c, zeros{})
		} else {
			io.CopyN(c, zeros{}, size)
		}
	})
}

// sinkServer starts a loopback server on network that reads each connection
// it accepts to its end and sends the count on the returned channel (if
// there is room).
func sinkServer(t testing.TB, network, addr string) (string, <-chan int64) {
	got := make(chan int64, 4)
	return serve(t, network, addr, func(c net.Conn) {
		n, _ := io.Copy(io.Discard, c)
		select {
		case got <- n:
		default:
		}
	}), got
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// readFromSpy is a TCP connection that notes what its ReadFrom is handed.
type readFromSpy struct {
	*net.TCPConn
	mu   sync.Mutex
	seen []string
}

func (s *readFromSpy) ReadFrom(r io.Reader) (int64, error) {
	what := fmt.Sprintf("%T", r)
	if lr, ok := r.(*io.LimitedReader); ok {
		what += fmt.Sprintf(" of %T", lr.R)
	}
	s.mu.Lock()
	s.seen = append(s.seen, what)
	s.mu.Unlock()
	return s.TCPConn.ReadFrom(r)
}

// sizes sums the recorded calls named method: their count and bytes (the
// request size of writes, the response size of reads).
func sizes(r *recording.Record, method string) (calls int, bytes int64) {
	for _, c := range r.Calls {
		if c.Service+" "+c.Method != method {
			continue
		}
		calls++
		bytes += max(c.RequestSize, 0) + max(c.ResponseSize, 0)
	}
	return calls, bytes
}

// TestCopyNBetweenConns checks that io.CopyN from one wrapped TCP connection
// to another hands the destination's socket the source's own socket (inside
// the io.LimitedReader io.CopyN makes), as bare, so that the kernel can
// splice between them; and that the bytes are recorded once on each side.
// Before, the destination's socket was handed the wrapped source, which it
// cannot splice from: the bytes went through a user-space buffer, read by
// 32 KiB recorded reads.
func TestCopyNBetweenConns(t *testing.T) {
	const size = 1 << 20
	from := sourceServer(t, "tcp", "127.0.0.1:0", size)
	to, got := sinkServer(t, "tcp", "127.0.0.1:0")
	rec, s, done := newRecorder(t)
	ctx, ar := start(rec, "/copyn")
	src, err := (&netstats.Dialer{Mode: netstats.PerOp}).DialContext(ctx, "tcp", from)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Dial("tcp", to)
	if err != nil {
		t.Fatal(err)
	}
	spy := &readFromSpy{TCPConn: raw.(*net.TCPConn)}
	dst := netstats.WrapConn(ctx, spy, netstats.PerOp)
	if n, err := io.CopyN(dst, src, size); n != size || err != nil {
		t.Fatalf("CopyN: %d, %v", n, err)
	}
	src.Close()
	dst.Close()
	if n := <-got; n != size {
		t.Errorf("the sink read %d bytes, want %d", n, size)
	}
	if want := "*io.LimitedReader of *net.TCPConn"; strings.Join(spy.seen, ", ") != want {
		t.Errorf("the destination's socket was handed %q, want %q", spy.seen, want)
	}
	ar.Finish()
	done()
	r := byPath(t, s, "/copyn")
	if n, b := sizes(r, "net read"); n != 1 || b != size {
		t.Errorf("reads recorded: %d calls, %d bytes; want 1 call of %d (calls %q)", n, b, size, methods(r))
	}
	if n, b := sizes(r, "net write"); n != 1 || b != size {
		t.Errorf("writes recorded: %d calls, %d bytes; want 1 call of %d (calls %q)", n, b, size, methods(r))
	}
}

// TestCopyTCPToUnix checks that io.Copy from a wrapped TCP connection to a
// wrapped Unix socket hands the TCP socket's WriteTo the Unix socket itself,
// which it splices to as bare; the bytes are recorded once on each side.
// Before, WriteTo was handed the wrapped Unix socket: no splice, and the
// bytes went out in 32 KiB recorded writes.
func TestCopyTCPToUnix(t *testing.T) {
	const size = 1 << 20
	from := sourceServer(t, "tcp", "127.0.0.1:0", size)
	to, got := sinkServer(t, "unix", filepath.Join(shortTempDir(t), "s"))
	rec, s, done := newRecorder(t)
	ctx, ar := start(rec, "/copy")
	d := &netstats.Dialer{Mode: netstats.PerOp}
	src, err := d.DialContext(ctx, "tcp", from)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := d.DialContext(ctx, "unix", to)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(dst, src); n != size || err != nil {
		t.Fatalf("Copy: %d, %v", n, err)
	}
	src.Close()
	dst.Close()
	if n := <-got; n != size {
		t.Errorf("the sink read %d bytes, want %d", n, size)
	}
	ar.Finish()
	done()
	r := byPath(t, s, "/copy")
	if n, b := sizes(r, "net read"); n != 1 || b != size {
		t.Errorf("reads recorded: %d calls, %d bytes; want 1 call of %d (calls %q)", n, b, size, methods(r))
	}
	if n, b := sizes(r, "net write"); n != 1 || b != size {
		t.Errorf("writes recorded: %d calls, %d bytes; want 1 call of %d (calls %q)", n, b, size, methods(r))
	}
}
