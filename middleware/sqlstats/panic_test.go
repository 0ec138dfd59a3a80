package sqlstats_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/goappstats/appstats/middleware/sqlstats"
)

// panicValue is what panickyConn panics with: a pointer, so that the
// value recovered can be told to be the very one.
type panicValue struct{ op string }

// panickyConn is a driver connection (with every context method) whose
// operation named panicOn panics.
type panickyConn struct{ panicOn string }

func (c *panickyConn) maybe(op string) {
	if c.panicOn == op {
		panic(&panicValue{op})
	}
}

func (c *panickyConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}
func (c *panickyConn) PrepareContext(_ context.Context, _ string) (driver.Stmt, error) {
	c.maybe("prepare")
	return panickyStmt{c}, nil
}
func (c *panickyConn) Close() error { return nil }
func (c *panickyConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}
func (c *panickyConn) BeginTx(context.Context, driver.TxOptions) (driver.Tx, error) {
	c.maybe("begin")
	return panickyTx{c}, nil
}
func (c *panickyConn) Ping(context.Context) error { c.maybe("ping"); return nil }
func (c *panickyConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	c.maybe("query")
	return emptyRows{}, nil
}
func (c *panickyConn) ExecContext(context.Context, string, []driver.NamedValue) (driver.Result, error) {
	c.maybe("exec")
	return driver.RowsAffected(1), nil
}

type panickyTx struct{ c *panickyConn }

func (t panickyTx) Commit() error   { t.c.maybe("commit"); return nil }
func (t panickyTx) Rollback() error { t.c.maybe("rollback"); return nil }

type panickyStmt struct{ c *panickyConn }

func (s panickyStmt) Close() error  { return nil }
func (s panickyStmt) NumInput() int { return -1 }
func (s panickyStmt) Exec([]driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), nil)
}
func (s panickyStmt) Query([]driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), nil)
}
func (s panickyStmt) ExecContext(context.Context, []driver.NamedValue) (driver.Result, error) {
	s.c.maybe("stmt exec")
	return driver.RowsAffected(1), nil
}
func (s panickyStmt) QueryContext(context.Context, []driver.NamedValue) (driver.Rows, error) {
	s.c.maybe("stmt query")
	return emptyRows{}, nil
}

type emptyRows struct{}

func (emptyRows) Columns() []string         { return []string{"x"} }
func (emptyRows) Close() error              { return nil }
func (emptyRows) Next([]driver.Value) error { return io.EOF }

type panickyDriver struct{}

func (panickyDriver) Open(string) (driver.Conn, error) { return nil, errors.New("use the connector") }

type panickyConnector struct{ panicOn string }

func (c panickyConnector) Connect(context.Context) (driver.Conn, error) {
	if c.panicOn == "connect" {
		panic(&panicValue{"connect"})
	}
	return &panickyConn{panicOn: c.panicOn}, nil
}
func (panickyConnector) Driver() driver.Driver { return panickyDriver{} }

// TestDriverPanicEndsCall checks that a driver call that panics reaches
// the caller with the driver's very panic value, and that its call is
// ended, as an error, rather than left running in the finished record.
func TestDriverPanicEndsCall(t *testing.T) {
	ops := map[string]func(ctx context.Context, db *sql.DB){
		"connect": func(ctx context.Context, db *sql.DB) { db.PingContext(ctx) },
		"ping":    func(ctx context.Context, db *sql.DB) { db.PingContext(ctx) },
		"query":   func(ctx context.Context, db *sql.DB) { db.QueryContext(ctx, "SELECT x FROM t") },
		"exec":    func(ctx context.Context, db *sql.DB) { db.ExecContext(ctx, "DELETE FROM t") },
		"prepare": func(ctx context.Context, db *sql.DB) { db.PrepareContext(ctx, "SELECT x FROM t") },
		"begin":   func(ctx context.Context, db *sql.DB) { db.BeginTx(ctx, nil) },
		"commit": func(ctx context.Context, db *sql.DB) {
			if tx, err := db.BeginTx(ctx, nil); err == nil {
				tx.Commit()
			}
		},
		"rollback": func(ctx context.Context, db *sql.DB) {
			if tx, err := db.BeginTx(ctx, nil); err == nil {
				tx.Rollback()
			}
		},
		"stmt exec": func(ctx context.Context, db *sql.DB) {
			if s, err := db.PrepareContext(ctx, "DELETE FROM t"); err == nil {
				s.ExecContext(ctx)
			}
		},
		"stmt query": func(ctx context.Context, db *sql.DB) {
			if s, err := db.PrepareContext(ctx, "SELECT x FROM t"); err == nil {
				s.QueryContext(ctx)
			}
		},
	}
	// A COPY … FROM STDIN (lib/pq's) is one call over several driver
	// calls: the prepare and each Exec.
	copyOps := map[string]func(ctx context.Context, db *sql.DB){
		"prepare": func(ctx context.Context, db *sql.DB) { db.PrepareContext(ctx, "COPY t (x) FROM STDIN") },
		"stmt exec": func(ctx context.Context, db *sql.DB) {
			if s, err := db.PrepareContext(ctx, "COPY t (x) FROM STDIN"); err == nil {
				s.ExecContext(ctx, 1)
			}
		},
	}
	for op, run := range copyOps {
		ops["copy "+op] = run
	}
	for name, run := range ops {
		op := strings.TrimPrefix(name, "copy ")
		t.Run(name, func(t *testing.T) {
			db := sql.OpenDB(sqlstats.WrapConnector(panickyConnector{panicOn: op}))
			defer db.Close()
			var got any
			r := record(t, func(ctx context.Context) {
				defer func() { got = recover() }()
				run(ctx, db)
			})
			if pv, ok := got.(*panicValue); !ok || pv.op != op {
				t.Fatalf("recovered %#v, want the driver's panic value", got)
			}
			failed := 0
			for _, c := range r.Calls {
				if c.Running {
					t.Errorf("call %s still running in the finished record", c.Method)
				}
				if c.Error != "" {
					failed++
					if c.Error != "panicked" || c.Attr("error.type") != "panic" {
						t.Errorf("call %s: error %q, error.type %q", c.Method, c.Error, c.Attr("error.type"))
					}
				}
			}
			if failed != 1 {
				t.Errorf("%d of %d calls failed, want 1", failed, len(r.Calls))
			}
		})
	}
}
