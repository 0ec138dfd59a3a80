//lint:file-ignore SA1019 the test drives the deprecated driver interfaces.

package sqlstats_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/goappstats/appstats/middleware/sqlstats"
)

// csv is an argument type that the default converter rejects and that
// checkingStmt's NamedValueChecker accepts, turning it into "1,2,3".
type csv []int

// checkingStmt is a driver statement with a NamedValueChecker of its own,
// as drivers have them for their own argument types.
type checkingStmt struct{ driver.Stmt }

func (checkingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if v, ok := nv.Value.(csv); ok {
		s := make([]string, len(v))
		for i, n := range v {
			s[i] = strconv.Itoa(n)
		}
		nv.Value = strings.Join(s, ",")
		return nil
	}
	return driver.ErrSkip
}

// prepareOnlyConn is a connection with driver.Conn's methods alone, whose
// statements check their arguments: database/sql prepares every statement
// on it and converts a statement's arguments with the statement's checker.
type prepareOnlyConn struct{ c driver.Conn }

func (c prepareOnlyConn) Prepare(query string) (driver.Stmt, error) {
	s, err := c.c.Prepare(query)
	if err != nil {
		return nil, err
	}
	return checkingStmt{s}, nil
}
func (c prepareOnlyConn) Close() error              { return c.c.Close() }
func (c prepareOnlyConn) Begin() (driver.Tx, error) { return c.c.Begin() }

type prepareOnlyDriver struct{ d driver.Driver }

func (d prepareOnlyDriver) Open(name string) (driver.Conn, error) {
	c, err := d.d.Open(name)
	if err != nil {
		return nil, err
	}
	return prepareOnlyConn{c}, nil
}

// countingValuer counts the calls of its Value method.
type countingValuer struct{ n *atomic.Int32 }

func (v countingValuer) Value() (driver.Value, error) {
	v.n.Add(1)
	return "v", nil
}

// TestPrepareOnlyDriverArgs checks that the arguments of a query and an Exec
// sent directly (db.QueryContext, db.ExecContext) on a driver whose
// connections have neither Queryer nor Execer, in either form, are converted
// as without the wrapper: by the prepared statement's own checker, and each
// Valuer once.
func TestPrepareOnlyDriverArgs(t *testing.T) {
	run := func(t *testing.T, ctx context.Context, db *sql.DB) string {
		t.Helper()
		setup(t, db)
		var out []string
		var got string
		err := db.QueryRowContext(ctx, "SELECT ?", csv{1, 2, 3}).Scan(&got)
		out = append(out, fmt.Sprintf("query %v %q", err, got))
		_, err = db.ExecContext(ctx, "UPDATE users SET email = ? WHERE id = 1", csv{4, 5})
		out = append(out, fmt.Sprintf("exec %v", err))
		err = db.QueryRowContext(ctx, "SELECT email FROM users WHERE id = 1").Scan(&got)
		out = append(out, fmt.Sprintf("read %v %q", err, got))
		var n atomic.Int32
		db.QueryRowContext(ctx, "SELECT ?", countingValuer{&n}).Scan(&got)
		_, err = db.ExecContext(ctx, "SELECT ?", countingValuer{&n})
		out = append(out, fmt.Sprintf("valuer %v, called %d times", err, n.Load()))
		return strings.Join(out, "\n")
	}
	bare := sql.OpenDB(dsnConnector{prepareOnlyDriver{sqliteDriver(t)}, "file:" + filepath.Join(t.TempDir(), "bare.db")})
	defer bare.Close()
	want := run(t, context.Background(), bare)
	if !strings.Contains(want, `query <nil> "1,2,3"`) {
		t.Fatalf("bare driver:\n%s", want)
	}

	wrapped := sql.OpenDB(sqlstats.WrapConnector(dsnConnector{prepareOnlyDriver{sqliteDriver(t)}, "file:" + filepath.Join(t.TempDir(), "wrapped.db")}))
	defer wrapped.Close()
	var got string
	r := record(t, func(ctx context.Context) { got = run(t, ctx, wrapped) })
	if got != want {
		t.Errorf("wrapped:\n%s\nbare:\n%s", got, want)
	}
	for _, c := range r.Calls {
		if c.Error != "" || c.Running {
			t.Errorf("call %s: error %q, running %v", c.Method, c.Error, c.Running)
		}
	}
	if len(r.Calls) == 0 {
		t.Error("no call recorded")
	}
}
