package netstats

import (
	"io"
	"net"
	"syscall"
	"testing"
)

// TestCompose checks that every possible combination of optional interfaces
// of a wrapped connection is claimed exactly by the wrapper.
func TestCompose(t *testing.T) {
	has := []struct {
		name  string
		set   func(c *conn)
		claim func(nc net.Conn) bool
	}{
		{"syscall.Conn", func(c *conn) { c.sys = c }, func(nc net.Conn) bool { _, ok := nc.(syscall.Conn); return ok }},
		{"io.ReaderFrom", func(c *conn) { c.rf = c }, func(nc net.Conn) bool { _, ok := nc.(io.ReaderFrom); return ok }},
		{"io.WriterTo", func(c *conn) { c.wt = c }, func(nc net.Conn) bool { _, ok := nc.(io.WriterTo); return ok }},
		{"CloseRead", func(c *conn) { c.cr = c }, func(nc net.Conn) bool { _, ok := nc.(closeReader); return ok }},
		{"CloseWrite", func(c *conn) { c.cw = c }, func(nc net.Conn) bool { _, ok := nc.(closeWriter); return ok }},
		{"net.PacketConn", func(c *conn) { c.pc = packetConn{c} }, func(nc net.Conn) bool { _, ok := nc.(net.PacketConn); return ok }},
	}
	const rf, wt, packet = 1 << 1, 1 << 2, 1 << 5
	n := 0
	for m := 0; m < 1<<len(has); m++ {
		if m&packet != 0 && m&(rf|wt) != 0 {
			continue // no connection has both kinds of ReadFrom and WriteTo
		}
		n++
		c := &conn{}
		for i, h := range has {
			if m&(1<<i) != 0 {
				h.set(c)
			}
		}
		wc := c.compose()
		for i, h := range has {
			if want := m&(1<<i) != 0; h.claim(wc) != want {
				t.Errorf("mask %06b: claims %s = %v, want %v", m, h.name, !want, want)
			}
		}
		if wc.conn() != c {
			t.Errorf("mask %06b: the wrapper does not hold its conn", m)
		}
	}
	if n != 40 {
		t.Errorf("%d combinations checked, want 40", n)
	}
}
