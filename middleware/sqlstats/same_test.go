//lint:file-ignore SA1019 the test checks the deprecated driver interfaces too.

package sqlstats_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/sqlstats"
)

// upper is a driver.Valuer, converted by database/sql before the driver
// sees it.
type upper string

func (u upper) Value() (driver.Value, error) { return strings.ToUpper(string(u)), nil }

// scenario exercises database/sql broadly and returns a transcript of what it
// observed, for comparing a bare driver with the wrapped one.
func scenario(ctx context.Context, t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	logf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	setup(t, db)

	// Column types, NULLs, blobs, values scanned as any.
	rows, err := db.QueryContext(ctx, "SELECT id, name, email, score, NULL AS n, x'00ff' AS b, 1.5 AS f, CAST(7 AS INTEGER) AS i FROM users ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	transcribeRows(t, rows, logf)
	logf("rows.Err %s; next result set %v", errText(rows.Err()), rows.NextResultSet())
	logf("close %s", errText(rows.Close()))

	// Exec results.
	res, err := db.ExecContext(ctx, "INSERT INTO users (name, email) VALUES (?, ?)", "dan", upper("dan@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	id, err1 := res.LastInsertId()
	n, err2 := res.RowsAffected()
	logf("insert id=%d %s affected=%d %s", id, errText(err1), n, errText(err2))
	var email string
	logf("valuer %s %s", errText(db.QueryRowContext(ctx, "SELECT email FROM users WHERE id = ?", id).Scan(&email)), email)
	res, err = db.ExecContext(ctx, "UPDATE users SET score = score + 1 WHERE score IS NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	n, _ = res.RowsAffected()
	logf("update affected=%d", n)
	_, err = db.ExecContext(ctx, "INSERT INTO users (name) VALUES ('m1'); INSERT INTO users (name) VALUES ('m2')")
	logf("multi %s", errText(err))
	// Round 44: RETURNING through Query and Exec, a multi-statement Exec
	// whose second statement fails, the same with arguments.
	var rid int64
	var rname string
	err = db.QueryRowContext(ctx, "INSERT INTO users (name) VALUES (?) RETURNING id, name", "ret").Scan(&rid, &rname)
	logf("returning %s %d %s", errText(err), rid, rname)
	res, err = db.ExecContext(ctx, "UPDATE users SET score = 9 WHERE name = 'ret' RETURNING id")
	if err == nil {
		n, _ = res.RowsAffected()
	}
	logf("exec returning %s affected=%d", errText(err), n)
	_, err = db.ExecContext(ctx, "INSERT INTO users (name) VALUES ('m3'); INSERT INTO nosuch VALUES (1); INSERT INTO users (name) VALUES ('m4')")
	logf("multi failing %s", errText(err))
	_, err = db.ExecContext(ctx, "INSERT INTO users (name) VALUES (?); INSERT INTO users (name) VALUES (?)", "m5", "m6")
	logf("multi args %s", errText(err))
	var multi int
	logf("multi count %s %d", errText(db.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE name LIKE 'm%'").Scan(&multi)), multi)

	// Named parameters.
	var name string
	err = db.QueryRowContext(ctx, "SELECT name FROM users WHERE email = :e", sql.Named("e", "ann@example.com")).Scan(&name)
	logf("named %s %s", errText(err), name)

	// Failures: a syntax error, a constraint, no rows, argument conversion,
	// argument count, a cancelled context.
	_, err = db.ExecContext(ctx, "SELEKT 1")
	logf("syntax %s", errText(err))
	_, err = db.ExecContext(ctx, "INSERT INTO users (id, name) VALUES (1, 'dup')")
	logf("constraint %s", errText(err))
	logf("norows %s", errText(db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = -1").Scan(&name)))
	_, err = db.ExecContext(ctx, "SELECT ?", struct{ X int }{1})
	logf("convert %s", errText(err))
	_, err = db.ExecContext(ctx, "SELECT ?, ?", 1)
	logf("argcount %s", errText(err))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = db.QueryContext(cctx, "SELECT 1")
	logf("cancelled %s", errText(err))

	// Transactions.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx.ExecContext(ctx, "DELETE FROM users WHERE name = 'dan'")
	logf("rollback %s", errText(tx.Rollback()))
	logf("rollback again %s", errText(tx.Rollback()))
	tx, err = db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
	logf("serializable %s", errText(err))
	if err == nil {
		tx.Rollback()
	}
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx.ExecContext(ctx, "DELETE FROM users WHERE name = 'm1'")
	logf("commit %s", errText(tx.Commit()))
	var count int
	db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&count)
	logf("count %d", count)

	transcribeStmt(ctx, t, db, "SELECT name FROM users WHERE id = ?", logf)
	transcribeConn(ctx, t, db, logf)
	logf("ping %s", errText(db.PingContext(ctx)))
	return out
}

// queryerDriver exposes sqlite's connections with the legacy Queryer and
// Execer but none of the context interfaces.
type queryerDriver struct{ d driver.Driver }

func (d queryerDriver) Open(name string) (driver.Conn, error) {
	c, err := d.d.Open(name)
	if err != nil {
		return nil, err
	}
	return struct {
		driver.Conn
		driver.Queryer
		driver.Execer
	}{c, c.(driver.Queryer), c.(driver.Execer)}, nil
}

// errText returns err's text, or "<nil>".
func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// transcribeStmt prepares query, which takes an id, and logs what it returns
// for ids of several types.
func transcribeStmt(ctx context.Context, t *testing.T, db *sql.DB, query string, logf func(format string, args ...any)) {
	t.Helper()
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []any{1, int64(2), "3", nil} {
		var n sql.NullString
		err := st.QueryRowContext(ctx, id).Scan(&n)
		logf("stmt %v: %v %s", id, n, errText(err))
	}
	logf("stmt close %s", errText(st.Close()))
}

// transcribeConn logs which optional interfaces the driver connection seen
// through Raw has, and pings it.
func transcribeConn(ctx context.Context, t *testing.T, db *sql.DB, logf func(format string, args ...any)) {
	t.Helper()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	conn.Raw(func(dc any) error {
		for _, it := range []reflect.Type{
			reflect.TypeFor[driver.Pinger](),
			reflect.TypeFor[driver.Execer](),
			reflect.TypeFor[driver.ExecerContext](),
			reflect.TypeFor[driver.Queryer](),
			reflect.TypeFor[driver.QueryerContext](),
			reflect.TypeFor[driver.ConnPrepareContext](),
			reflect.TypeFor[driver.ConnBeginTx](),
			reflect.TypeFor[driver.SessionResetter](),
			reflect.TypeFor[driver.Validator](),
			reflect.TypeFor[driver.NamedValueChecker](),
		} {
			logf("raw %v %v", it, reflect.TypeOf(dc).Implements(it))
		}
		return nil
	})
	logf("conn ping %s; close %s", errText(conn.PingContext(ctx)), errText(conn.Close()))
}

// transcribeRows logs the columns of rows, their types as database/sql
// reports them, and every value, scanned as any.
func transcribeRows(t *testing.T, rows *sql.Rows, logf func(format string, args ...any)) {
	t.Helper()
	cols, _ := rows.Columns()
	logf("columns %v", cols)
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range cts {
		n, nok := ct.Nullable()
		l, lok := ct.Length()
		p, s, pok := ct.DecimalSize()
		logf("type %s db=%q scan=%v null=%v/%v len=%d/%v dec=%d,%d/%v", ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), n, nok, l, lok, p, s, pok)
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			if tm, ok := v.(time.Time); ok {
				v = tm.UTC() // drivers may give the process's local zone
			}
			logf("%s=%T(%v)", cols[i], v, v)
		}
	}
}

func TestBehaviourUnchanged(t *testing.T) {
	// The context-taking interfaces the wrapper always claims (see
	// conn.go); a driver without them is still driven the same way.
	always := []string{"raw driver.ConnPrepareContext", "raw driver.ConnBeginTx"}
	// And those it claims for their legacy forms.
	legacy := append([]string{"raw driver.ExecerContext", "raw driver.QueryerContext"}, always...)
	for _, tt := range []struct {
		name   string
		open   func(dsn string) *sql.DB
		ignore []string
	}{
		{"sqlite", func(dsn string) *sql.DB { return sql.OpenDB(dsnConnector{sqliteDriver(t), dsn}) }, nil},
		{"legacy", func(dsn string) *sql.DB { return sql.OpenDB(dsnConnector{legacyDriver{sqliteDriver(t)}, dsn}) }, always},
		{"queryer", func(dsn string) *sql.DB { return sql.OpenDB(dsnConnector{queryerDriver{sqliteDriver(t)}, dsn}) }, legacy},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bare := tt.open("file:" + filepath.Join(t.TempDir(), "bare.db"))
			defer bare.Close()
			want := scenario(context.Background(), t, bare)

			wdsn := "file:" + filepath.Join(t.TempDir(), "wrapped.db")
			wrapped := sql.OpenDB(sqlstats.WrapConnector(dsnConnector{tt.open(wdsn).Driver(), wdsn}, sqlstats.WithArgs(true)))
			defer wrapped.Close()
			var got []string
			r := record(t, func(ctx context.Context) { got = scenario(ctx, t, wrapped) })

			if len(got) != len(want) {
				t.Errorf("transcripts differ in length: %d wrapped, %d bare", len(got), len(want))
			}
		lines:
			for i := range min(len(got), len(want)) {
				for _, p := range tt.ignore {
					if strings.HasPrefix(want[i], p+" ") {
						continue lines
					}
				}
				if got[i] != want[i] {
					t.Errorf("line %d:\nwrapped %s\nbare    %s", i, got[i], want[i])
				}
			}
			if len(r.Calls) < 20 {
				t.Errorf("only %d calls recorded: %q", len(r.Calls), calls(r))
			}
			for _, c := range r.Calls {
				if c.Running {
					t.Errorf("call %s still running", c.Method)
				}
			}
			if testing.Verbose() {
				for _, l := range want {
					t.Log(l)
				}
			}
		})
	}
}
