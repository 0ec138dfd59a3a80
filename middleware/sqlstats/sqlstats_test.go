package sqlstats_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/goappstats/appstats/middleware/sqlstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
	_ "modernc.org/sqlite"
)

// record runs fn in a recorded request and returns the record as a sink
// received it.
func record(t testing.TB, fn func(ctx context.Context)) *recording.Record {
	t.Helper()
	s := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(s))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Method: "TEST", Path: "/" + t.Name()})
	if ar == nil {
		t.Fatal("request not sampled")
	}
	fn(ctx)
	ar.Finish()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	recs := s.Records()
	if len(recs) != 1 {
		t.Fatalf("sink got %d records, want 1", len(recs))
	}
	return recs[0]
}

// openDB opens a wrapped sqlite database in a temporary file, with a users
// table of three rows.
func openDB(t testing.TB, opts ...sqlstats.Option) *sql.DB {
	t.Helper()
	dsn := "file:" + filepath.Join(t.TempDir(), "test.db")
	db, err := sqlstats.Open("sqlite", dsn, append([]sqlstats.Option{sqlstats.WithSystem("sqlite")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	setup(t, db)
	return db
}

func setup(t testing.TB, db *sql.DB) {
	t.Helper()
	for _, q := range []string{
		"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT, score REAL, password TEXT)",
		"INSERT INTO users (name, email, score, password) VALUES ('ann', 'ann@example.com', 1.5, 'pw1'), ('bob', NULL, 2, 'pw2'), ('cid', 'cid@example.com', NULL, 'pw3')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// calls returns the record's calls as "service method" strings.
func calls(r *recording.Record) []string {
	var out []string
	for _, c := range r.Calls {
		out = append(out, c.Service+" "+c.Method)
	}
	return out
}

func findCall(t *testing.T, r *recording.Record, method string) *recording.Call {
	t.Helper()
	for i := range r.Calls {
		if r.Calls[i].Method == method {
			return &r.Calls[i]
		}
	}
	t.Fatalf("no call %q in %q", method, calls(r))
	return nil
}

func TestQuery(t *testing.T) {
	db := openDB(t)
	var names []string
	r := record(t, func(ctx context.Context) {
		rows, err := db.QueryContext(ctx, "SELECT name FROM users WHERE score > 0.5 OR name = 'cid' ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			names = append(names, n)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	})
	if got := strings.Join(names, ","); got != "ann,bob,cid" {
		t.Fatalf("names = %s", got)
	}
	c := findCall(t, r, "SELECT users")
	want := map[string]string{
		"db.system.name":            "sqlite",
		"db.query.text":             "SELECT name FROM users WHERE score > ? OR name = ? ORDER BY id",
		"db.query.summary":          "SELECT users",
		"db.operation.name":         "", // parsed from the text: the summary says it
		"db.collection.name":        "",
		"db.response.returned_rows": "3",
	}
	for k, v := range want {
		if got := c.Attr(k); got != v {
			t.Errorf("attr %s = %q, want %q", k, got, v)
		}
	}
	if c.Service != "sql" || c.Request != want["db.query.text"] || c.Error != "" || c.Running {
		t.Errorf("call = %+v", c)
	}
	if c.Response != "3 rows" {
		t.Errorf("response = %q", c.Response)
	}
	if len(c.Stack) == 0 {
		t.Error("no stack")
	}
}

func TestExecAndError(t *testing.T) {
	db := openDB(t)
	r := record(t, func(ctx context.Context) {
		res, err := db.ExecContext(ctx, "UPDATE users SET score = ? WHERE score IS NOT NULL", 7)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := res.RowsAffected(); n != 2 {
			t.Errorf("RowsAffected = %d", n)
		}
		if _, err := db.QueryContext(ctx, "SELECT * FROM missing WHERE id = 3"); err == nil {
			t.Error("query of a missing table succeeded")
		}
		if _, err := db.ExecContext(ctx, "INSERT INTO users (name) VALUES (NULL)"); err == nil {
			t.Error("insert of NULL into NOT NULL succeeded")
		}
		if err := db.PingContext(ctx); err != nil {
			t.Error(err)
		}
	})
	upd := findCall(t, r, "UPDATE users")
	if upd.Attr(sqlstats.AttrAffectedRows) != "2" || upd.Error != "" {
		t.Errorf("update call = %+v", upd)
	}
	for _, m := range []string{"SELECT missing", "INSERT users"} {
		c := findCall(t, r, m)
		if c.Error == "" {
			t.Errorf("%s: no error recorded", m)
		}
	}
	if c := findCall(t, r, "SELECT missing"); !strings.Contains(c.Error, "no such table") {
		t.Errorf("error = %q", c.Error)
	}
	// SQLite's result code is the failure's status code and its class.
	for _, m := range []string{"SELECT missing", "INSERT users"} {
		c := findCall(t, r, m)
		code := c.Attr(sqlstats.AttrStatusCode)
		if _, err := strconv.Atoi(code); err != nil || c.Attr("error.type") != code {
			t.Errorf("%s: db.response.status_code %q, error.type %q; want SQLite's result code in both", m, code, c.Attr("error.type"))
		}
	}
	if c := findCall(t, r, "UPDATE users"); c.Attr(sqlstats.AttrStatusCode) != "" || c.Attr("error.type") != "" {
		t.Errorf("a call that succeeded has %v", c.Attrs)
	}
	findCall(t, r, "PING")
	if s := r.Summary(); s.ErrorCalls != 2 {
		t.Errorf("ErrorCalls = %d, want 2; calls %q", s.ErrorCalls, calls(r))
	}
}

func TestPrepared(t *testing.T) {
	db := openDB(t)
	r := record(t, func(ctx context.Context) {
		st, err := db.PrepareContext(ctx, "SELECT email FROM users WHERE id = ?")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for id := 1; id <= 3; id++ {
			var e sql.NullString
			if err := st.QueryRowContext(ctx, id).Scan(&e); err != nil {
				t.Fatal(err)
			}
			if e.Valid != (id != 2) {
				t.Errorf("id %d: email %v", id, e)
			}
		}
		ins, err := db.PrepareContext(ctx, "INSERT INTO users (name) VALUES (?)")
		if err != nil {
			t.Fatal(err)
		}
		defer ins.Close()
		res, err := ins.ExecContext(ctx, "dan")
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := res.LastInsertId(); id != 4 {
			t.Errorf("LastInsertId = %d", id)
		}
	})
	want := []string{"sql PREPARE SELECT users", "sql SELECT users", "sql SELECT users", "sql SELECT users", "sql PREPARE INSERT users", "sql INSERT users"}
	if got := calls(r); !reflect.DeepEqual(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
	for _, c := range r.Calls[1:4] {
		if c.Attr("db.response.returned_rows") != "1" || c.Request != "SELECT email FROM users WHERE id = ?" {
			t.Errorf("call %+v", c)
		}
	}
}

func TestTransactions(t *testing.T) {
	db := openDB(t)
	r := record(t, func(ctx context.Context) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO users (name) VALUES ('eve')"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		tx, err = db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM users"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
	})
	want := []string{"sql BEGIN", "sql INSERT users", "sql COMMIT", "sql BEGIN", "sql DELETE users", "sql ROLLBACK"}
	if got := calls(r); !reflect.DeepEqual(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
	if c := findCall(t, r, "DELETE users"); c.Attr(sqlstats.AttrAffectedRows) != "4" {
		t.Errorf("DELETE affected %q rows", c.Attr(sqlstats.AttrAffectedRows))
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM users").Scan(&n); err != nil || n != 4 {
		t.Errorf("after commit and rollback: %d rows, %v", n, err)
	}
}

func TestArgs(t *testing.T) {
	const q = "SELECT name FROM users WHERE name = :name OR password = :password"
	t.Run("default", func(t *testing.T) {
		db := openDB(t)
		r := record(t, func(ctx context.Context) {
			var n string
			if err := db.QueryRowContext(ctx, q, sql.Named("name", "ann"), sql.Named("password", "hunter2")).Scan(&n); err != nil {
				t.Fatal(err)
			}
		})
		for _, c := range r.Calls {
			for _, a := range c.Attrs {
				if strings.HasPrefix(a.Key, "db.query.parameter.") || strings.Contains(a.Value, "hunter2") || strings.Contains(a.Value, "ann") {
					t.Errorf("argument recorded: %s=%s", a.Key, a.Value)
				}
			}
			if strings.Contains(c.Request, "hunter2") {
				t.Errorf("argument in request %q", c.Request)
			}
		}
	})
	t.Run("enabled", func(t *testing.T) {
		db := openDB(t, sqlstats.WithArgs(true))
		r := record(t, func(ctx context.Context) {
			var n string
			if err := db.QueryRowContext(ctx, q, sql.Named("name", "ann"), sql.Named("password", "hunter2")).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if err := db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = ? AND name <> ?", 2, "x").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "UPDATE users SET password = ? WHERE id = ?", "s3cret", 2); err != nil {
				t.Fatal(err)
			}
			// Harmless-looking names: a secret word (ssn), and positional
			// arguments whose values look secret.
			if _, err := db.ExecContext(ctx, "UPDATE users SET name = :ssn WHERE id = :id", sql.Named("ssn", "078-05-1120"), sql.Named("id", 9)); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, "UPDATE users SET name = ?, score = ? WHERE name IN (?, ?, ?, ?)",
				"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlXzEyMzQ1", int64(4111111111111111), "ann@example.com",
				"Zx81kQ2mP9vL3nR7tY5wB1cD", "550e8400-e29b-41d4-a716-446655440000", "ann"); err != nil {
				t.Fatal(err)
			}
		})
		tests := []struct {
			call  int
			attrs map[string]string
		}{
			{0, map[string]string{"db.query.parameter.name": `"ann"`, "db.query.parameter.password": recording.Redacted}},
			{1, map[string]string{"db.query.parameter.0": "2", "db.query.parameter.1": `"x"`}},
			{2, map[string]string{"db.query.parameter.0": recording.Redacted, "db.query.parameter.1": recording.Redacted}},
			{3, map[string]string{"db.query.parameter.ssn": recording.Redacted, "db.query.parameter.id": "9"}},
			{4, map[string]string{"db.query.parameter.0": recording.Redacted, "db.query.parameter.1": recording.Redacted,
				"db.query.parameter.2": recording.Redacted, "db.query.parameter.3": recording.Redacted,
				"db.query.parameter.4": `"550e8400-e29b-41d4-a716-446655440000"`, "db.query.parameter.5": `"ann"`}},
		}
		if len(r.Calls) != 5 {
			t.Fatalf("calls = %q", calls(r))
		}
		for _, tt := range tests {
			c := &r.Calls[tt.call]
			for k, v := range tt.attrs {
				if got := c.Attr(k); got != v {
					t.Errorf("call %d (%s): %s = %q, want %q", tt.call, c.Request, k, got, v)
				}
			}
		}
	})
}

// TestDialectFromDriver: without WithSystem, statements are normalized in
// the dialect of the driver (modernc.org/sqlite here), so a double-quoted
// string is hidden and a double-quoted table name is kept.
func TestDialectFromDriver(t *testing.T) {
	dsn := "file:" + filepath.Join(t.TempDir(), "test.db")
	db, err := sqlstats.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	setup(t, db)
	r := record(t, func(ctx context.Context) {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM "users" WHERE name <> "SECRET" /* SECRET2 */`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		// SQLite quotes the rejected token in its error message.
		if _, err := db.ExecContext(ctx, `SELECT 1 WHERE 'FIRST_LIT' 'SECOND_LIT'`); err == nil || !strings.Contains(err.Error(), "SECOND_LIT") {
			t.Fatalf("error %v does not quote the literal", err)
		}
	})
	if got, want := r.Calls[0].Request, `SELECT count(*) FROM "users" WHERE name <> ?`; got != want {
		t.Errorf("request %q, want %q", got, want)
	}
	if got := r.Calls[0].Attr(sqlstats.AttrQuerySummary); got != "SELECT users" {
		t.Errorf("summary %q, want the table read from the unquoted identifier", got)
	}
	if c := r.Calls[1]; strings.Contains(c.Error, "LIT") || !strings.Contains(c.Error, recording.Redacted) {
		t.Errorf("error stored as %q", c.Error)
	}
}

func TestNotRecorded(t *testing.T) {
	s := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(s))
	db := openDB(t)
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "/other"})
	// Calls without the request's context belong to no request.
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM users").Scan(&n); err != nil || n != 3 {
		t.Fatal(n, err)
	}
	ar.Finish()
	// A call made with the context of a finished request is counted as late.
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if recs := s.Records(); len(recs) != 1 || len(recs[0].Calls) != 0 {
		t.Fatalf("records %d, want 1 without calls", len(recs))
	}
	if st := rec.Stats(); st.LateCalls == 0 {
		t.Errorf("late calls not counted: %+v", st)
	}
}

func TestNPlusOne(t *testing.T) {
	db := openDB(t)
	for i := 0; i < 7; i++ {
		if _, err := db.Exec("INSERT INTO users (name) VALUES (?)", fmt.Sprint("u", i)); err != nil {
			t.Fatal(err)
		}
	}
	loop := record(t, func(ctx context.Context) {
		for id := 1; id <= 10; id++ {
			var n string
			if err := db.QueryRowContext(ctx, "SELECT name FROM users WHERE id = ?", id).Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
	})
	var reps []recording.Warning
	for _, w := range loop.Warnings {
		if w.Kind == recording.WarnRepeated {
			reps = append(reps, w)
		}
	}
	if len(reps) != 1 || reps[0].Count != 10 || reps[0].Method != "SELECT users" || reps[0].Request != "SELECT name FROM users WHERE id = ?" {
		t.Errorf("warnings = %+v", loop.Warnings)
	}
	batch := record(t, func(ctx context.Context) {
		rows, err := db.QueryContext(ctx, "SELECT name FROM users WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			n++
		}
		if n != 10 {
			t.Errorf("%d rows", n)
		}
	})
	if len(batch.Warnings) != 0 || len(batch.Calls) != 1 {
		t.Errorf("batched query: warnings %+v, calls %q", batch.Warnings, calls(batch))
	}
}

// legacyDriver exposes only driver.Conn of sqlite's connections: no
// context methods, no Queryer, no Pinger. database/sql must then prepare
// every statement, which the wrapper must allow by returning ErrSkip.
type legacyDriver struct{ d driver.Driver }

func (d legacyDriver) Open(name string) (driver.Conn, error) {
	c, err := d.d.Open(name)
	if err != nil {
		return nil, err
	}
	return struct{ driver.Conn }{c}, nil
}

// skipConn's QueryContext always answers driver.ErrSkip, as some drivers do
// for some queries.
type skipConn struct {
	driver.Conn
}

func (skipConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	return nil, driver.ErrSkip
}

type skipDriver struct{ d driver.Driver }

func (d skipDriver) Open(name string) (driver.Conn, error) {
	c, err := d.d.Open(name)
	if err != nil {
		return nil, err
	}
	return skipConn{c}, nil
}

type dsnConnector struct {
	d   driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

func sqliteDriver(t testing.TB) driver.Driver {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return db.Driver()
}

func TestErrSkip(t *testing.T) {
	for _, tt := range []struct {
		name string
		d    driver.Driver
	}{
		{"legacy", legacyDriver{sqliteDriver(t)}},
		{"skip", skipDriver{sqliteDriver(t)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dsn := "file:" + filepath.Join(t.TempDir(), "test.db")
			db := sql.OpenDB(sqlstats.WrapConnector(dsnConnector{tt.d, dsn}))
			defer db.Close()
			setup(t, db)
			r := record(t, func(ctx context.Context) {
				var n int
				if err := db.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE id > ?", 1).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 2 {
					t.Errorf("count = %d", n)
				}
			})
			want := []string{"sql PREPARE SELECT users", "sql SELECT users"}
			if got := calls(r); !reflect.DeepEqual(got, want) {
				t.Errorf("calls = %q, want %q", got, want)
			}
			for _, c := range r.Calls {
				if c.Error != "" {
					t.Errorf("%s: error %q", c.Method, c.Error)
				}
			}
			// The wrapped connection claims no Pinger, as the driver's has none.
			conn, err := db.Conn(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.Raw(func(dc any) error {
				if _, ok := dc.(driver.Pinger); ok {
					t.Error("wrapped conn claims driver.Pinger")
				}
				if _, ok := dc.(driver.SessionResetter); ok {
					t.Error("wrapped conn claims driver.SessionResetter")
				}
				u, ok := dc.(sqlstats.Unwrapper)
				if !ok {
					t.Fatal("no Unwrapper")
				}
				if _, ok := u.Unwrap().(driver.Pinger); ok {
					t.Error("Unwrap returned the wrong conn")
				}
				return nil
			})
		})
	}
}

// ctxDriver adds driver.DriverContext to a driver.
type ctxDriver struct{ driver.Driver }

func (d ctxDriver) OpenConnector(dsn string) (driver.Connector, error) {
	return dsnConnector{d.Driver, dsn}, nil
}

func TestOpenUnknownDriver(t *testing.T) {
	_, err := sqlstats.Open("no-such-driver", "x")
	if err == nil || !strings.Contains(err.Error(), "no-such-driver") {
		t.Errorf("err = %v", err)
	}
}

// TestWrapDriver checks that a wrapped driver, with DriverContext or without
// (as sqlite's and lib/pq's), opens its connections through a connector, so
// that opening one inside a request is recorded.
func TestWrapDriver(t *testing.T) {
	for _, tt := range []struct {
		name string
		d    driver.Driver
	}{
		{"without DriverContext", sqliteDriver(t)},
		{"with DriverContext", ctxDriver{sqliteDriver(t)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := sqlstats.Wrap(tt.d)
			dc, ok := d.(driver.DriverContext)
			if !ok {
				t.Fatal("wrapped driver lacks DriverContext")
			}
			c, err := dc.OpenConnector("file:" + filepath.Join(t.TempDir(), "w.db"))
			if err != nil {
				t.Fatal(err)
			}
			if c.Driver() != d {
				t.Error("the connector's driver is not the wrapped driver")
			}
			db := sql.OpenDB(c)
			defer db.Close()
			r := record(t, func(ctx context.Context) {
				if err := db.PingContext(ctx); err != nil {
					t.Fatal(err)
				}
			})
			if got := calls(r); !reflect.DeepEqual(got[:2], []string{"sql CONNECT", "sql PING"}) {
				t.Errorf("calls = %q", got)
			}
		})
	}
}

// closingConnector counts its Close calls.
type closingConnector struct {
	dsnConnector
	closed *int
}

func (c closingConnector) Close() error {
	*c.closed++
	return nil
}

func TestConnectorClose(t *testing.T) {
	dsn := "file:" + filepath.Join(t.TempDir(), "c.db")
	closed := 0
	wc := sqlstats.WrapConnector(closingConnector{dsnConnector{sqliteDriver(t), dsn}, &closed})
	if _, ok := wc.(io.Closer); !ok {
		t.Fatal("wrapped connector lost io.Closer")
	}
	db := sql.OpenDB(wc)
	r := record(t, func(ctx context.Context) {
		if err := db.PingContext(ctx); err != nil {
			t.Fatal(err)
		}
	})
	if got := calls(r); !reflect.DeepEqual(got, []string{"sql CONNECT", "sql PING"}) {
		t.Errorf("calls = %q", got)
	}
	db.Close()
	if closed != 1 {
		t.Errorf("connector closed %d times", closed)
	}
	if _, ok := sqlstats.WrapConnector(dsnConnector{sqliteDriver(t), dsn}).(io.Closer); ok {
		t.Error("wrapped connector claims io.Closer")
	}
}

// TestCancelledWhileRead checks that rows whose context is cancelled while
// they are read record the context's error the application gets, whether it
// closes them at once or reads on until database/sql has closed them.
func TestCancelledWhileRead(t *testing.T) {
	db := openDB(t)
	const q = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100000) SELECT x FROM c"
	for _, readOn := range []bool{false, true} {
		var appErr error
		r := record(t, func(ctx context.Context) {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			rows, err := db.QueryContext(cctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !rows.Next() {
				t.Fatalf("no first row: %v", rows.Err())
			}
			cancel()
			if readOn {
				for rows.Next() {
				}
				appErr = rows.Err()
			}
			rows.Close()
		})
		if readOn && !errors.Is(appErr, context.Canceled) {
			t.Fatalf("the application got %v, want context canceled", appErr)
		}
		c := r.Calls[0]
		if c.Error != context.Canceled.Error() || c.Response != "" {
			t.Errorf("read on %v: call recorded with error %q, response %q", readOn, c.Error, c.Response)
		}
	}
	// Rows read to the end, or closed early, before a cancellation are not
	// failures.
	r := record(t, func(ctx context.Context) {
		cctx, cancel := context.WithCancel(ctx)
		var x int
		if err := db.QueryRowContext(cctx, q).Scan(&x); err != nil {
			t.Fatal(err)
		}
		rows, err := db.QueryContext(cctx, "SELECT 1 UNION ALL SELECT 2")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
		}
		cancel()
		rows.Close()
	})
	for _, c := range r.Calls {
		if c.Error != "" || c.Response != "1 row" && c.Response != "2 rows" {
			t.Errorf("%s: error %q, response %q", c.Method, c.Error, c.Response)
		}
	}
}
