package netstats_test

import (
	"net"
	"syscall"
	"testing"

	"github.com/goappstats/appstats/middleware/netstats"
)

// TestDialPanicEndsCall checks that a dial that panics (here in the
// net.Dialer's Control hook) reaches the caller with its very panic value,
// and that the dial's call is ended, as an error, rather than left running
// in the finished record.
func TestDialPanicEndsCall(t *testing.T) {
	addr := echoServer(t)
	rec, s, done := newRecorder(t)
	v := new(int)
	d := &netstats.Dialer{Dialer: &net.Dialer{Control: func(string, string, syscall.RawConn) error { panic(v) }}}
	ctx, ar := start(rec, "/dial-panic")
	var got any
	func() {
		defer func() { got = recover() }()
		d.DialContext(ctx, "tcp", addr)
	}()
	ar.Finish()
	done()
	if got != any(v) {
		t.Fatalf("recovered %#v, want the dial's panic value", got)
	}
	r := byPath(t, s, "/dial-panic")
	if len(r.Calls) != 1 {
		t.Fatalf("%d calls, want 1", len(r.Calls))
	}
	c := r.Calls[0]
	if c.Running || c.Error != "panicked" || c.Attr("error.type") != "panic" {
		t.Errorf("call %s: running %v, error %q, error.type %q; want it ended, panicked", c.Method, c.Running, c.Error, c.Attr("error.type"))
	}
}
