//lint:file-ignore SA1019 the test checks the deprecated driver interfaces too.

package sqlstats

import (
	"database/sql/driver"
	"testing"
)

// TestCompose checks that every combination of optional interfaces of a
// driver's connection is claimed exactly by the wrapped connection, with
// QueryerContext (ExecerContext) claimed for Queryer (Execer) too.
func TestCompose(t *testing.T) {
	has := []struct {
		name  string
		set   func(c *conn)
		claim func(dc driver.Conn) bool
	}{
		{"Queryer", func(c *conn) { c.queryer = c }, func(dc driver.Conn) bool { _, ok := dc.(driver.Queryer); return ok }},
		{"Execer", func(c *conn) { c.execer = c }, func(dc driver.Conn) bool { _, ok := dc.(driver.Execer); return ok }},
		{"QueryerContext", func(c *conn) { c.queryerCtx = c }, func(dc driver.Conn) bool { _, ok := dc.(driver.QueryerContext); return ok }},
		{"ExecerContext", func(c *conn) { c.execerCtx = c }, func(dc driver.Conn) bool { _, ok := dc.(driver.ExecerContext); return ok }},
		{"Pinger", func(c *conn) { c.pinger = c }, func(dc driver.Conn) bool { _, ok := dc.(driver.Pinger); return ok }},
		{"SessionResetter", func(c *conn) { c.resetter = c }, func(dc driver.Conn) bool { _, ok := dc.(driver.SessionResetter); return ok }},
		{"Validator", func(c *conn) { c.validator = c }, func(dc driver.Conn) bool { _, ok := dc.(driver.Validator); return ok }},
		{"NamedValueChecker", func(c *conn) { c.checker = c }, func(dc driver.Conn) bool { _, ok := dc.(driver.NamedValueChecker); return ok }},
	}
	for m := 0; m < 1<<len(has); m++ {
		c := &conn{}
		for i, h := range has {
			if m&(1<<i) != 0 {
				h.set(c)
			}
		}
		dc := c.compose()
		for i, h := range has {
			want := m&(1<<i) != 0
			// The context forms are claimed with the legacy ones too.
			switch h.name {
			case "QueryerContext":
				want = want || c.queryer != nil
			case "ExecerContext":
				want = want || c.execer != nil
			}
			if h.claim(dc) != want {
				t.Errorf("mask %08b: claims %s = %v, want %v", m, h.name, !want, want)
			}
		}
		if _, ok := dc.(connCore); !ok {
			t.Errorf("mask %08b: lacks the core interfaces", m)
		}
		if u, ok := dc.(Unwrapper); !ok || u.Unwrap() != nil {
			t.Errorf("mask %08b: Unwrap", m)
		}
	}
}
