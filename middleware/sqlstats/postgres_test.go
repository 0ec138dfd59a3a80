package sqlstats_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/middleware/sqlstats"
	"github.com/goappstats/appstats/recording"
)

// pgScenario exercises database/sql against PostgreSQL and returns a
// transcript of what it observed, for comparing a bare driver with the
// wrapped one. copyIn says whether the driver supports lib/pq's CopyIn.
func pgScenario(ctx context.Context, t *testing.T, db *sql.DB, copyIn bool) []string {
	t.Helper()
	var out []string
	logf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.ExecContext(ctx, "DROP TABLE IF EXISTS items; DROP TABLE IF EXISTS copy_target"))
	must(db.ExecContext(ctx, `CREATE TABLE items (
		id serial PRIMARY KEY, name text NOT NULL UNIQUE, price numeric(10,2), data bytea,
		created timestamptz NOT NULL DEFAULT '2020-01-02T03:04:05Z', tags text[], doc jsonb, ok boolean)`))
	must(db.ExecContext(ctx, "CREATE TABLE copy_target (name text, n integer)"))

	// Inserts, with RETURNING and with Exec results.
	for i, name := range []string{"ann", "bob", "cid"} {
		var id int64
		err := db.QueryRowContext(ctx, "INSERT INTO items (name, price, data, doc, ok) VALUES ($1, $2, $3, $4, $5) RETURNING id",
			name, fmt.Sprintf("%d.5", i), []byte{0, byte(i), 0xff}, fmt.Sprintf(`{"n": %d}`, i), i%2 == 0).Scan(&id)
		logf("insert %s id=%d %s", name, id, errText(err))
	}
	res, err := db.ExecContext(ctx, "INSERT INTO items (name) VALUES ($1)", "dan")
	if err != nil {
		t.Fatal(err)
	}
	id, err1 := res.LastInsertId()
	n, err2 := res.RowsAffected()
	logf("exec insert id=%d %s affected=%d %s", id, errText(err1), n, errText(err2))
	res, err = db.ExecContext(ctx, "UPDATE items SET price = price + 1 WHERE price IS NOT NULL")
	if err == nil {
		n, _ = res.RowsAffected()
	}
	logf("update affected=%d %s", n, errText(err))

	// Column types and values, NULLs included.
	rows, err := db.QueryContext(ctx, "SELECT id, name, price, data, created, doc, ok, NULL::text AS nothing, 1.5::float8 AS f FROM items ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	transcribeRows(t, rows, logf)
	logf("rows.Err %s; next result set %v; close %s", errText(rows.Err()), rows.NextResultSet(), errText(rows.Close()))

	// Failures: syntax, a unique constraint, no rows, a wrong argument type,
	// a wrong argument count, a context cancelled before the query, a query
	// cancelled by its deadline on the server.
	_, err = db.ExecContext(ctx, "SELEKT 1")
	logf("syntax %s", errText(err))
	_, err = db.ExecContext(ctx, "INSERT INTO items (name) VALUES ($1)", "ann")
	logf("unique %s", errText(err))
	var name string
	logf("norows %s", errText(db.QueryRowContext(ctx, "SELECT name FROM items WHERE id = $1", -1).Scan(&name)))
	_, err = db.ExecContext(ctx, "UPDATE items SET price = $1 WHERE id = 1", "not a number")
	logf("bad value %s", errText(err))
	_, err = db.ExecContext(ctx, "SELECT $1::int, $2::int", 1)
	logf("argcount failed=%v", err != nil)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = db.QueryContext(cctx, "SELECT 1")
	logf("cancelled before %s", errText(err))
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = db.ExecContext(tctx, "SELECT pg_sleep(10)")
	cancel()
	logf("deadline failed=%v", err != nil)

	// A query cancelled while its rows are read: the application gets the
	// context's error. database/sql sees the cancellation only once its
	// own goroutine runs and closes the rows: rows that end before that
	// end with no error (on a loaded machine lib/pq read 100,000 rows
	// first). So the rows go on until the cancellation stops them: a
	// billion, streamed (a set-returning function in the select list,
	// not in FROM, which would compute them all first).
	cctx, cancel = context.WithCancel(ctx)
	rows, err = db.QueryContext(cctx, "SELECT generate_series(1, 1000000000) AS g")
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatalf("no first row: %v", rows.Err())
	}
	cancel()
	for rows.Next() {
	}
	logf("cancelled while read: canceled=%v", errors.Is(rows.Err(), context.Canceled))
	rows.Close()
	// The same, closing the rows right after the cancellation.
	cctx, cancel = context.WithCancel(ctx)
	rows, err = db.QueryContext(cctx, "SELECT g AS first FROM generate_series(1, 100000) AS g")
	if err != nil {
		t.Fatal(err)
	}
	var first int
	if !rows.Next() || rows.Scan(&first) != nil {
		t.Fatalf("no first row: %v", rows.Err())
	}
	cancel()
	rows.Close()
	logf("cancelled after row %d", first)

	// Transactions.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	must(tx.ExecContext(ctx, "DELETE FROM items WHERE name = 'dan'"))
	logf("rollback %s; again %s", errText(tx.Rollback()), errText(tx.Rollback()))
	tx, err = db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.ExecContext(ctx, "DELETE FROM items")
	logf("read-only write %s", errText(err))
	logf("read-only commit %s", errText(tx.Commit()))
	_, err = db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelLinearizable})
	logf("linearizable %s", errText(err))
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	must(tx.ExecContext(ctx, "DELETE FROM items WHERE name = 'dan'"))
	logf("commit %s", errText(tx.Commit()))

	transcribeStmt(ctx, t, db, "SELECT name FROM items WHERE id = $1", logf)

	// Several statements in one Exec.
	_, err = db.ExecContext(ctx, "UPDATE items SET ok = true WHERE id = 1; UPDATE items SET ok = false WHERE id = 2")
	logf("multi %s", errText(err))

	if copyIn {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		//lint:ignore SA1019 lib/pq users still build COPY this way; the wrapper must record it
		st, err := tx.PrepareContext(ctx, pq.CopyIn("copy_target", "name", "n"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, err := st.ExecContext(ctx, fmt.Sprint("row", i), i); err != nil {
				t.Fatal(err)
			}
		}
		res, err := st.ExecContext(ctx)
		n := int64(-1)
		if err == nil {
			n, _ = res.RowsAffected()
		}
		logf("copy end affected=%d %s; close %s; commit %s", n, errText(err), errText(st.Close()), errText(tx.Commit()))
		var count int
		logf("copied %s %d", errText(db.QueryRowContext(ctx, "SELECT count(*) FROM copy_target").Scan(&count)), count)
	}

	transcribeConn(ctx, t, db, logf)
	logf("ping %s", errText(db.PingContext(ctx)))
	return out
}

// TestPostgres runs the same scenario against a real PostgreSQL through pgx
// and lib/pq, bare and wrapped each of the three ways (Open, WrapConnector,
// Wrap): the transcripts must be identical, and the wrapped runs recorded.
func TestPostgres(t *testing.T) {
	dsn := testservers.StartPostgres(t)
	opts := []sqlstats.Option{sqlstats.WithSystem("postgresql")}
	connector := func(d driver.Driver) driver.Connector {
		c, err := d.(driver.DriverContext).OpenConnector(dsn)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	pqConnector := func() driver.Connector {
		c, err := pq.NewConnector(dsn)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, drv := range []struct {
		name   string // as registered
		copyIn bool
		bare   func() *sql.DB
		ways   map[string]func() *sql.DB
	}{
		{"pgx", false,
			func() *sql.DB { return sql.OpenDB(connector(stdlib.GetDefaultDriver())) },
			map[string]func() *sql.DB{
				"WrapConnector": func() *sql.DB {
					return sql.OpenDB(sqlstats.WrapConnector(connector(stdlib.GetDefaultDriver()), opts...))
				},
				"Wrap": func() *sql.DB { return sql.OpenDB(connector(sqlstats.Wrap(stdlib.GetDefaultDriver(), opts...))) },
			}},
		{"postgres", true,
			func() *sql.DB { return sql.OpenDB(pqConnector()) },
			map[string]func() *sql.DB{
				"WrapConnector": func() *sql.DB { return sql.OpenDB(sqlstats.WrapConnector(pqConnector(), opts...)) },
				"Wrap":          func() *sql.DB { return sql.OpenDB(connector(sqlstats.Wrap(pq.Driver{}, opts...))) },
			}},
	} {
		drv.ways["Open"] = func() *sql.DB {
			db, err := sqlstats.Open(drv.name, dsn, opts...)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}
		t.Run(drv.name, func(t *testing.T) {
			bare := drv.bare()
			want := pgScenario(context.Background(), t, bare, drv.copyIn)
			bare.Close()
			for _, way := range []string{"Open", "WrapConnector", "Wrap"} {
				db := drv.ways[way]()
				var got []string
				r := record(t, func(ctx context.Context) { got = pgScenario(ctx, t, db, drv.copyIn) })
				db.Close()
				same := 0
				for i := range max(len(got), len(want)) {
					if i < len(got) && i < len(want) && got[i] == want[i] {
						same++
						continue
					}
					var g, w string
					if i < len(got) {
						g = got[i]
					}
					if i < len(want) {
						w = want[i]
					}
					t.Errorf("%s, line %d:\nwrapped %s\nbare    %s", way, i, g, w)
				}
				t.Logf("%s: %d of %d transcript lines as bare", way, same, len(want))
				checkPostgresRecord(t, way, r, drv.copyIn)
			}
			if testing.Verbose() {
				t.Log(strings.Join(want, "\n"))
			}
		})
	}
}

// checkPostgresRecord checks the record of a wrapped scenario: connections
// opened are recorded, the cancelled read carries its error, a COPY is one
// call naming its table.
func checkPostgresRecord(t *testing.T, way string, r *recording.Record, copyIn bool) {
	t.Helper()
	count := map[string]int{}
	for _, c := range r.Calls {
		count[c.Method]++
		if c.Running {
			t.Errorf("%s: call %s still running", way, c.Method)
		}
		if strings.Contains(c.Request, "generate_series") {
			if !strings.Contains(c.Error, "canceled") || c.Response != "" {
				t.Errorf("%s: the read cancelled by its context was recorded with error %q, response %q", way, c.Error, c.Response)
			}
		}
	}
	if count["CONNECT"] == 0 {
		t.Errorf("%s: no CONNECT recorded; calls %v", way, count)
	}
	if count["SELECT items"] < 5 || count["INSERT items"] < 4 || count["BEGIN"] < 3 {
		t.Errorf("%s: calls %v", way, count)
	}
	if copyIn {
		if count["COPY copy_target"] != 1 || count["PREPARE COPY"]+count["COPY"] != 0 {
			t.Errorf("%s: COPY recorded as %v", way, count)
		}
		for _, c := range r.Calls {
			if c.Method == "COPY copy_target" && (c.Response != "5 rows copied" || c.Error != "" || c.Attr(sqlstats.AttrQuerySummary) != "COPY copy_target") {
				t.Errorf("%s: COPY call %+v", way, c)
			}
		}
	}
	for _, w := range r.Warnings {
		if w.Kind == recording.WarnRepeated && strings.HasPrefix(w.Method, "COPY") {
			t.Errorf("%s: warning %s", way, w.Message)
		}
	}
}

// TestSystemFromDriver checks that db.system.name is found from the driver
// when WithSystem does not set it — modernc.org/sqlite, lib/pq and pgx,
// opened by name, wrapped as drivers and as connectors — and that
// WithSystem wins. PostgreSQL need not run: the failed CONNECT is recorded
// with it.
func TestSystemFromDriver(t *testing.T) {
	closed := "postgres://u:p@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"
	pqConnector, err := pq.NewConnector(closed)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		open func() (*sql.DB, error)
		want string
	}{
		{"sqlite by name", func() (*sql.DB, error) {
			return sqlstats.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "s.db"))
		}, "sqlite"},
		{"WithSystem wins", func() (*sql.DB, error) {
			return sqlstats.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "s.db"), sqlstats.WithSystem("other_sql"))
		}, "other_sql"},
		{"lib/pq driver", func() (*sql.DB, error) {
			return sql.OpenDB(mustConnector(t, sqlstats.Wrap(&pq.Driver{}), closed)), nil
		}, "postgresql"},
		{"lib/pq connector", func() (*sql.DB, error) {
			return sql.OpenDB(sqlstats.WrapConnector(pqConnector)), nil
		}, "postgresql"},
		{"pgx", func() (*sql.DB, error) {
			return sql.OpenDB(mustConnector(t, sqlstats.Wrap(stdlib.GetDefaultDriver()), closed)), nil
		}, "postgresql"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := tt.open()
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			r := record(t, func(ctx context.Context) { db.PingContext(ctx) })
			if len(r.Calls) == 0 {
				t.Fatal("no call recorded")
			}
			for _, c := range r.Calls {
				if got := c.Attr(sqlstats.AttrSystem); got != tt.want {
					t.Errorf("call %s: db.system.name %q, want %q", c.Method, got, tt.want)
				}
			}
		})
	}
}

func mustConnector(t *testing.T, d driver.Driver, dsn string) driver.Connector {
	t.Helper()
	c, err := d.(driver.DriverContext).OpenConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pgDriver is a PostgreSQL driver the tests run through: pgx's stdlib or
// lib/pq (pq set), open making a connector to the DSN pgDrivers was given.
type pgDriver struct {
	name string
	pq   bool
	open func(t *testing.T) driver.Connector
}

// pgDrivers returns pgx's stdlib and lib/pq, opening connectors to dsn.
func pgDrivers(dsn string) []pgDriver {
	return []pgDriver{
		{"pgx", false, func(t *testing.T) driver.Connector { return mustConnector(t, stdlib.GetDefaultDriver(), dsn) }},
		{"pq", true, func(t *testing.T) driver.Connector {
			c, err := pq.NewConnector(dsn)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}},
	}
}

// startPostgresAdmin starts a PostgreSQL for t, and returns its DSN and a
// bare database on it (pgx) for what an administrator does, closed when t
// ends.
func startPostgresAdmin(t *testing.T) (dsn string, admin *sql.DB) {
	t.Helper()
	dsn = testservers.StartPostgres(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return dsn, admin
}

// TestPostgresTarget: against a real PostgreSQL opened by URL with Open,
// each call (the connection's and the statements') names the database
// (db.namespace, which the conventions require when it is known without
// asking the server) and the server (server.address, server.port), read
// from the data source name; the user is not among them. On main they
// were missing.
func TestPostgresTarget(t *testing.T) {
	dsn := testservers.StartPostgres(t)
	_, hostPort, _ := strings.Cut(strings.TrimPrefix(dsn, "postgres://"), "@")
	hostPort, _, _ = strings.Cut(hostPort, "/")
	host, port, _ := strings.Cut(hostPort, ":")
	for _, name := range []string{"pgx", "postgres"} {
		db, err := sqlstats.Open(name, dsn)
		if err != nil {
			t.Fatal(err)
		}
		r := record(t, func(ctx context.Context) {
			if _, err := db.ExecContext(ctx, "SELECT 1"); err != nil {
				t.Error(err)
			}
		})
		db.Close()
		if len(r.Calls) < 2 {
			t.Fatalf("%s: %d calls, want CONNECT and SELECT", name, len(r.Calls))
		}
		for _, c := range r.Calls {
			for k, want := range map[string]string{"db.namespace": "postgres", "server.address": host, "server.port": port} {
				if got := c.Attr(k); got != want {
					t.Errorf("%s: call %q: %s = %q, want %q", name, c.Method, k, got, want)
				}
			}
			for _, a := range c.Attrs {
				if a.Value == "appstats" {
					t.Errorf("%s: call %q: %s holds the user", name, c.Method, a.Key)
				}
			}
		}
	}
}
