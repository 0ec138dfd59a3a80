package sqlstats

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"

	"github.com/goappstats/appstats/internal/convention"
)

// Wrap returns a driver that records the calls made through d's connections.
//
// The result implements [driver.DriverContext] whether d does or not, so that
// database/sql opens connections through a connector, with the context of the
// request waiting for one, and each is recorded as a call "CONNECT". For a
// driver without DriverContext, the connector opens connections with d.Open
// and the data source name, as database/sql does for such a driver.
//
// Wrap registers nothing: use the result with a [driver.Connector] of your
// own and [database/sql.OpenDB], register it with [database/sql.Register], or
// call [Open] or [WrapConnector].
func Wrap(d driver.Driver, opts ...Option) driver.Driver {
	return newWDriver(d, newWrapper(opts))
}

// newWDriver wraps d, taking the SQL dialect from d unless an option named
// it.
func newWDriver(d driver.Driver, w *wrapper) *wdriver {
	w.detect(d)
	return &wdriver{d: d, w: w}
}

type wdriver struct {
	d driver.Driver
	w *wrapper
}

var _ driver.DriverContext = (*wdriver)(nil)

// Open opens a connection without a context, so the connection is not
// recorded; database/sql uses OpenConnector instead.
func (d *wdriver) Open(name string) (driver.Conn, error) {
	c, err := d.d.Open(name)
	if err != nil {
		return nil, err
	}
	return wrapConn(c, d.w), nil
}

func (d *wdriver) OpenConnector(name string) (driver.Connector, error) {
	dc, ok := d.d.(driver.DriverContext)
	if !ok {
		return wrapConnector(dsnConnector{d: d.d, dsn: name}, d.w, d), nil
	}
	c, err := dc.OpenConnector(name)
	if err != nil {
		return nil, err
	}
	return wrapConnector(c, d.w, d), nil
}

// WrapConnector returns a connector whose connections record their calls.
// Use it with [database/sql.OpenDB]. The result implements [io.Closer]
// exactly when c does, so that [database/sql.DB.Close] closes c as it would
// without the wrapper.
//
// A connection opened while a recorded request waits for it is recorded as a
// call "sql"/"CONNECT".
func WrapConnector(c driver.Connector, opts ...Option) driver.Connector {
	w := newWrapper(opts)
	return wrapConnector(c, w, nil)
}

func wrapConnector(c driver.Connector, w *wrapper, d driver.Driver) driver.Connector {
	if d == nil {
		d = newWDriver(c.Driver(), w)
	}
	wc := &connector{c: c, w: w, d: d}
	if cl, ok := c.(io.Closer); ok {
		return &closingConnector{wc, cl}
	}
	return wc
}

type connector struct {
	c driver.Connector
	w *wrapper
	d driver.Driver // the wrapped driver
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	call := startOpCtx(ctx, c.w, "CONNECT")
	ended := false // the driver returned: see convention.EndIfPanicked
	defer convention.EndIfPanicked(call, &ended)
	conn, err := c.c.Connect(ctx)
	ended = true
	endCall(call, err)
	if err != nil {
		return nil, err
	}
	return wrapConn(conn, c.w), nil
}

// Driver returns the connector's driver, wrapped.
func (c *connector) Driver() driver.Driver { return c.d }

type closingConnector struct {
	*connector
	cl io.Closer
}

func (c *closingConnector) Close() error { return c.cl.Close() }

// Open opens a database with the driver registered as driverName (for
// example "sqlite" after importing modernc.org/sqlite), recording its calls.
// It registers nothing: it looks the driver up, opens a connector for dsn
// with it (through [driver.DriverContext] when the driver has it) and returns
// [database/sql.OpenDB] of the wrapped connector. Like [database/sql.Open] it
// does not connect; use [database/sql.DB.PingContext] to check the database.
//
// database/sql finds a driver by name only through [database/sql.Open],
// which, for a driver with [driver.DriverContext], opens a connector of its
// own: Open closes that one at once and opens the one it wraps, so such a
// driver's OpenConnector runs twice for dsn. To have it run once, open the
// connector yourself and pass it to [WrapConnector].
func Open(driverName, dsn string, opts ...Option) (*sql.DB, error) {
	probe, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstats: %w", err)
	}
	d := probe.Driver()
	if err := probe.Close(); err != nil {
		return nil, fmt.Errorf("sqlstats: %w", err)
	}
	w := newWrapper(opts)
	wd := newWDriver(d, w)
	w.target = targetAttrs(w.cache.dialect, dsn) // the wrapper's only data source
	c, err := wd.OpenConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstats: open connector: %w", err)
	}
	return sql.OpenDB(c), nil
}

// dsnConnector is database/sql's connector for drivers without
// DriverContext.
type dsnConnector struct {
	d   driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }
