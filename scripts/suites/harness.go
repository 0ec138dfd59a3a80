//go:build ignore

// Package appstatsharness is copied by scripts/suites.sh into another
// project's module (lib/pq, pgx, go-redis, modernc.org/sqlite) so that its
// own test suite runs through appstats' wrappers: the suite's driver or
// dialer is patched to call Driver, Connector or DialContext.
//
// The build tag above keeps it out of appstats' own build; the script drops
// that line when it copies the file.
package appstatsharness

import (
	"context"
	"database/sql/driver"
	"net"
	"os"

	"github.com/goappstats/appstats/middleware/netstats"
	"github.com/goappstats/appstats/middleware/sqlstats"
)

// Driver returns d wrapped by sqlstats.
func Driver(d driver.Driver) driver.Driver { return sqlstats.Wrap(d) }

// Connector returns c wrapped by sqlstats.
func Connector(c driver.Connector) driver.Connector { return sqlstats.WrapConnector(c) }

// DialContext dials through a netstats.Dialer (of nd, which may be nil), in
// PerConn mode, or PerOp with APPSTATS_SUITE_NET_MODE=per-op.
func DialContext(ctx context.Context, nd *net.Dialer, network, addr string) (net.Conn, error) {
	d := netstats.Dialer{Dialer: nd}
	if os.Getenv("APPSTATS_SUITE_NET_MODE") == netstats.PerOp.String() {
		d.Mode = netstats.PerOp
	}
	return d.DialContext(ctx, network, addr)
}

// Unwrap returns the driver's own connection under a wrapped one (for a
// suite that asserts the type of what database/sql.Conn.Raw gives).
func Unwrap(c any) any {
	if u, ok := c.(sqlstats.Unwrapper); ok {
		return u.Unwrap()
	}
	return c
}
