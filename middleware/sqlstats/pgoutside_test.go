package sqlstats_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/lib/pq"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/middleware/sqlstats"
)

// errKind describes err as an application inspects it: its type and text,
// and what errors.Is and errors.As find in it.
func errKind(err error) string {
	if err == nil {
		return "<nil>"
	}
	var pg *pgconn.PgError
	var pqe *pq.Error
	var tm interface{ Timeout() bool }
	return fmt.Sprintf("%T %q pg=%v pq=%v badconn=%v canceled=%v deadline=%v timeout=%v",
		err, err.Error(), errors.As(err, &pg), errors.As(err, &pqe), errors.Is(err, driver.ErrBadConn),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.As(err, &tm) && tm.Timeout())
}

// terminate has the server end the backend pid, as an administrator or a
// failover would, and waits until it has gone.
func terminate(t *testing.T, admin *sql.DB, pid int) {
	t.Helper()
	if _, err := admin.Exec("SELECT pg_terminate_backend($1)", pid); err != nil {
		t.Fatal(err)
	}
	for {
		var n int
		if err := admin.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rowQuerier runs a query for a row: a *sql.DB, *sql.Conn or *sql.Tx.
type rowQuerier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// backendPID returns the server's process id for the connection q's
// query runs on.
func backendPID(ctx context.Context, t *testing.T, q rowQuerier) int {
	t.Helper()
	var pid int
	if err := q.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	return pid
}

// pgOutsideScenario drives db (one connection at most) through what the
// pool and the driver do beyond plain statements — a backend the server
// ends under the pool, a pinned connection and a transaction; a query
// cancelled while the server runs it, and one the server times out; the
// driver's own argument types; several result sets; each isolation level —
// and returns a transcript of what the application saw. admin is a bare
// database on the same server.
func pgOutsideScenario(ctx context.Context, t *testing.T, db, admin *sql.DB, isPQ bool) []string {
	t.Helper()
	var out []string
	logf := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	db.SetMaxOpenConns(1)
	pid := func(q rowQuerier) int { t.Helper(); return backendPID(ctx, t, q) }

	// lib/pq meets a backend the server ended with io.EOF (and gives
	// driver.ErrBadConn, after which database/sql closes the connection)
	// or with a connection reset, as the packets fall, bare as wrapped: its
	// errors then are logged as one kind. pgx sees the end the same way
	// each time.
	killed := func(err error) string {
		if !isPQ {
			return errKind(err)
		}
		var op *net.OpError
		switch {
		case err == nil:
			return "pq: <nil> or a connection error"
		case errors.Is(err, driver.ErrBadConn), errors.As(err, &op), errors.Is(err, sql.ErrConnDone):
			return "pq: <nil> or a connection error"
		}
		return errKind(err)
	}

	// The pool's connection ended by the server: the pool drops it, and
	// the statement runs on a new one.
	first := pid(db)
	terminate(t, admin, first)
	var one int
	logf("pool after kill: %s", killed(db.QueryRowContext(ctx, "SELECT 1").Scan(&one)))
	_, err := db.ExecContext(ctx, "SELECT 1")
	logf("pool after kill, again: %s", errKind(err))
	logf("pool after kill, new backend: %v", pid(db) != first)
	// A pinned connection ended by the server.
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	terminate(t, admin, pid(c))
	_, err = c.ExecContext(ctx, "SELECT 1")
	logf("pinned after kill: %s", killed(err))
	_, err = c.ExecContext(ctx, "SELECT 1")
	logf("pinned after kill, again: %s", killed(err))
	logf("pinned ping: %s; close %s", killed(c.PingContext(ctx)), killed(c.Close()))
	_, err = db.ExecContext(ctx, "SELECT 1")
	logf("pool after the pinned one: %s", errKind(err))
	// A transaction whose connection the server ends.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	terminate(t, admin, pid(tx))
	_, err = tx.ExecContext(ctx, "SELECT 1")
	logf("tx after kill: %s; commit %s", killed(err), killed(tx.Commit()))
	_, err = db.ExecContext(ctx, "SELECT 1")
	logf("pool after the tx: %s", errKind(err))

	// A query cancelled while the server runs it.
	cctx, cancel := context.WithCancel(ctx)
	running := make(chan struct{})
	go func() {
		defer close(running)
		for {
			var n int
			admin.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)'").Scan(&n)
			if n > 0 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	_, err = db.ExecContext(cctx, "SELECT pg_sleep(60)")
	<-running
	logf("cancelled while running: %s", errKind(err))
	_, err = db.ExecContext(ctx, "SELECT 1")
	logf("after the cancel: %s", errKind(err))
	// One the server times out.
	if _, err := db.ExecContext(ctx, "SET statement_timeout = 50"); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, "SELECT pg_sleep(60)")
	logf("server timeout: %s", errKind(err))
	if _, err := db.ExecContext(ctx, "RESET statement_timeout"); err != nil {
		t.Fatal(err)
	}

	// Arguments and results of the drivers' own types, and those
	// database/sql or the driver refuse.
	if isPQ {
		var a pq.Int64Array
		err = db.QueryRowContext(ctx, "SELECT $1::int8[]", pq.Array([]int64{1, 2, 3})).Scan(&a)
		logf("pq array %v %s", a, errKind(err))
	} else {
		m := pgtype.NewMap()
		var a []int64
		err = db.QueryRowContext(ctx, "SELECT $1::int8[]", []int64{1, 2, 3}).Scan(m.SQLScanner(&a))
		logf("pgx array %v %s", a, errKind(err))
		var ts pgtype.Timestamptz
		err = db.QueryRowContext(ctx, "SELECT $1::timestamptz", pgtype.Timestamptz{Time: time.Unix(5, 0).UTC(), Valid: true}).Scan(&ts)
		logf("pgtype timestamptz %v %s", ts.Time.UTC(), errKind(err))
		var iv pgtype.Interval
		err = db.QueryRowContext(ctx, "SELECT '1 day'::interval").Scan(&iv)
		logf("pgtype interval %+v %s", iv, errKind(err))
		var u pgtype.UUID
		err = db.QueryRowContext(ctx, "SELECT $1::uuid", "00000000-0000-0000-0000-000000000001").Scan(&u)
		logf("pgtype uuid %v %s", u, errKind(err))
	}
	var o string
	_, err = db.ExecContext(ctx, "SELECT $1", sql.Out{Dest: &o})
	logf("sql.Out failed=%v", err != nil) // the text holds the pointer
	for _, arg := range []any{struct{ A int }{1}, sql.Named("a", 1), uint64(1 << 63), []string{"a", "b"}} {
		_, err = db.ExecContext(ctx, "SELECT $1::int", arg)
		logf("arg %T: %s", arg, errKind(err))
	}

	// Several result sets in one query (lib/pq has them; pgx refuses).
	rows, err := db.QueryContext(ctx, "SELECT 1 AS a; SELECT 'x' AS b, 2 AS c")
	if err != nil {
		logf("result sets: %s", errKind(err))
	} else {
		for {
			transcribeRows(t, rows, logf)
			if !rows.NextResultSet() {
				break
			}
		}
		logf("result sets: err %s; close %s", errKind(rows.Err()), errKind(rows.Close()))
	}

	// Transaction options, accepted or refused.
	for _, o := range []sql.TxOptions{
		{Isolation: sql.LevelReadUncommitted}, {Isolation: sql.LevelReadCommitted}, {Isolation: sql.LevelRepeatableRead},
		{Isolation: sql.LevelSerializable, ReadOnly: true}, {Isolation: sql.LevelSnapshot}, {Isolation: sql.LevelWriteCommitted},
		{Isolation: sql.LevelLinearizable}, {ReadOnly: true},
	} {
		tx, err := db.BeginTx(ctx, &o)
		if err != nil {
			logf("tx %v: %s", o, errKind(err))
			continue
		}
		var level, ro string
		tx.QueryRowContext(ctx, "SHOW transaction_isolation").Scan(&level)
		tx.QueryRowContext(ctx, "SHOW transaction_read_only").Scan(&ro)
		logf("tx %v: %s, read only %s; rollback %s", o, level, ro, errKind(tx.Rollback()))
	}
	return out
}

// TestPostgresOutside runs pgOutsideScenario through pgx and lib/pq, bare
// and wrapped: the application must see the same in both.
func TestPostgresOutside(t *testing.T) {
	dsn, admin := startPostgresAdmin(t)
	for _, drv := range pgDrivers(dsn) {
		t.Run(drv.name, func(t *testing.T) {
			bare := sql.OpenDB(drv.open(t))
			want := pgOutsideScenario(context.Background(), t, bare, admin, drv.pq)
			bare.Close()
			db := sql.OpenDB(sqlstats.WrapConnector(drv.open(t)))
			var got []string
			r := record(t, func(ctx context.Context) { got = pgOutsideScenario(ctx, t, db, admin, drv.pq) })
			db.Close()
			testservers.SameTranscript(t, got, want)
			if len(r.Calls) < 30 {
				t.Errorf("only %d calls recorded", len(r.Calls))
			}
		})
	}
}

// TestPgxRawUnwrap checks what pgx users get through sql.Conn.Raw: the
// wrapper, not *stdlib.Conn, whose Unwrap gives the *stdlib.Conn that
// CopyFrom and LISTEN/NOTIFY need; and the connection goes back to the pool
// fit for use, its statements recorded again.
func TestPgxRawUnwrap(t *testing.T) {
	dsn := testservers.StartPostgres(t)
	db := sql.OpenDB(sqlstats.WrapConnector(mustConnector(t, stdlib.GetDefaultDriver(), dsn)))
	defer db.Close()
	db.SetMaxOpenConns(1)
	r := record(t, func(ctx context.Context) {
		if _, err := db.ExecContext(ctx, "CREATE TABLE copied (n int)"); err != nil {
			t.Fatal(err)
		}
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = conn.Raw(func(dc any) error {
			if _, ok := dc.(*stdlib.Conn); ok {
				t.Error("Raw gave *stdlib.Conn itself: the wrapper is not in the way")
			}
			u, ok := dc.(sqlstats.Unwrapper)
			if !ok {
				return fmt.Errorf("Raw gave %T, no Unwrapper", dc)
			}
			sc, ok := u.Unwrap().(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("Unwrap gave %T", u.Unwrap())
			}
			pc := sc.Conn()
			n, err := pc.CopyFrom(ctx, pgx.Identifier{"copied"}, []string{"n"}, pgx.CopyFromRows([][]any{{1}, {2}, {3}}))
			if err != nil || n != 3 {
				return fmt.Errorf("CopyFrom: %d, %v", n, err)
			}
			if _, err := pc.Exec(ctx, "LISTEN ch"); err != nil {
				return err
			}
			if _, err := pc.Exec(ctx, "NOTIFY ch, 'hi'"); err != nil {
				return err
			}
			note, err := pc.WaitForNotification(ctx)
			if err != nil || note.Payload != "hi" {
				return fmt.Errorf("notification %+v, %v", note, err)
			}
			_, err = pc.Exec(ctx, "UNLISTEN ch")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		conn.Close()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM copied").Scan(&n); err != nil || n != 3 {
			t.Errorf("after Raw: %d rows, %v", n, err)
		}
	})
	var methods []string
	for _, c := range r.Calls {
		methods = append(methods, c.Method)
	}
	// What the driver's own connection does is not recorded; what goes
	// through database/sql is, before and after.
	if want := "CONNECT,CREATE TABLE copied,SELECT copied"; strings.Join(methods, ",") != want {
		t.Errorf("calls %v, want %s", methods, want)
	}
}

// TestPostgresSecretsNotRecorded runs statements that carry passwords, and
// connections whose DSNs hold one, through pgx and lib/pq: no password
// reaches a record — not the statement's text, not the error a server or a
// driver returns, not an argument that WithArgs records.
func TestPostgresSecretsNotRecorded(t *testing.T) {
	dsn := testservers.StartPostgres(t)
	host := strings.Split(dsn, "@")[1] // 127.0.0.1:port/postgres?sslmode=disable
	statements := []string{
		"DROP USER IF EXISTS secretive",
		"CREATE USER secretive WITH PASSWORD 'hunter2-1'",
		"ALTER USER secretive PASSWORD 'hunter2-2'",
		"ALTER USER nosuch PASSWORD 'hunter2-3'",
		"ALTER ROLE secretive WITH ENCRYPTED PASSWORD E'hunter2\\'4'",
		"ALTER ROLE secretive PASSWORD $q$hunter2-5$q$",
		"ALTER ROLE secretive PASSWORD U&'hunter2-6'",
		"ALTER ROLE secretive PASSWORD 'pa\\'ss hunter2-7'", // a syntax error unless standard_conforming_strings is off
		"SELECT 'hunter2-8'::int",
		"SELECT * FROM pg_user WHERE passwd = 'hunter2-9' AND usename = 'hunter2-10",
		// Round 44: what the server echoes of COPY's program or file
		// (credentials on a command line), SET, psql's \password.
		"CREATE TABLE IF NOT EXISTS copied (a text)",
		"COPY copied FROM PROGRAM 'curl -s -u bob:hunter2-30 http://127.0.0.1:1/x'",
		"COPY copied FROM PROGRAM 'PGPASSWORD=hunter2-31 psql -h 127.0.0.1 -p 1'",
		"COPY copied TO PROGRAM 'curl -T - ftp://bob:hunter2-32@127.0.0.1:1/'",
		"COPY copied FROM '/nonexistent/hunter2-33'",
		"SET password = 'hunter2-34'",
		"SELECT set_config('app.password', 'hunter2-35', false)",
		"ALTER ROLE secretive PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$hunter2-36:hunter2-37'",
		`\password secretive`,
		"CREATE SUBSCRIPTION s CONNECTION 'host=127.0.0.1 port=1 password=hunter2-38' PUBLICATION p",
		"DROP USER secretive",
	}
	for _, name := range []string{"pgx", "postgres"} {
		t.Run(name, func(t *testing.T) {
			db, err := sqlstats.Open(name, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// Arguments recorded (WithArgs), but not those of a statement
			// or a name that says password.
			withArgs, err := sqlstats.Open(name, dsn, sqlstats.WithArgs(true))
			if err != nil {
				t.Fatal(err)
			}
			defer withArgs.Close()
			r := record(t, func(ctx context.Context) {
				for _, q := range statements {
					db.ExecContext(ctx, q)
				}
				withArgs.ExecContext(ctx, "ALTER USER appstats PASSWORD $1", "hunter2-11")
				withArgs.ExecContext(ctx, "SELECT $1::int", sql.Named("password", "hunter2-12"))
				// Arguments, not recorded, that the errors quote.
				if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS pins (n int, d date)"); err != nil {
					t.Fatal(err)
				}
				for _, arg := range []any{"hunter2-13", []byte("hunter2-14"), []string{"hunter2-15"}, struct{ S string }{"hunter2-16"}} {
					db.ExecContext(ctx, "INSERT INTO pins (n) VALUES ($1)", arg)
					db.ExecContext(ctx, "INSERT INTO pins (d) VALUES ($1)", arg)
				}
			})
			for _, d := range []string{
				"postgres://appstats:hunter2-20@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5",
				"postgres://appstats:hunter2-21@127.0.0.1:badport/postgres",
				"postgres://appstats:hunter2-22@" + strings.Replace(host, "sslmode=disable", "sslmode=require", 1),
				"postgres://appstats:hunter2-23@" + strings.Replace(host, "/postgres?", "/nosuchdb?", 1),
				"host=127.0.0.1 port=1 user=appstats password=hunter2-24 sslmode=disable connect_timeout=5",
				"host=127.0.0.1 port=1 user=appstats password='hunter2-25 sslmode=disable",
				// Round 44: passwords with white space, escaped quotes,
				// digits first, as pgx and lib/pq read (or refuse) them.
				"postgres://appstats:12 hunter2-40@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5",
				"postgres://appstats:pa ss hunter2-41@127.0.0.1:1/postgres",
				"postgres://appstats:12%20hunter2-42@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=5",
				"postgres://appstats@127.0.0.1:1/postgres?password=12 hunter2-43&sslmode=disable&connect_timeout=5",
				`host=127.0.0.1 port=1 user=appstats password='it\'s hunter2-44' sslmode=disable connect_timeout=5`,
				`host=127.0.0.1 port=1 user=appstats password='12 hunter2-45' sslmode=disable connect_timeout=5`,
				`host=127.0.0.1 port=1 user=appstats password=12\ hunter2-46 sslmode=disable connect_timeout=5`,
				`host=127.0.0.1 port=1 user=appstats password='it\'s hunter2-47 sslmode=disable`,
			} {
				db, err := sqlstats.Open(name, d)
				if err != nil {
					continue // refused before any connection: nothing recorded
				}
				rc := record(t, func(ctx context.Context) {
					if db.PingContext(ctx) == nil {
						t.Errorf("%s: ping succeeded", d)
					}
				})
				db.Close()
				r.Calls = append(r.Calls, rc.Calls...)
			}
			failed := 0
			for _, c := range r.Calls {
				if c.Error != "" {
					failed++
				}
				text := fmt.Sprintf("%s|%s|%s|%s|%v", c.Method, c.Request, c.Response, c.Error, c.Attrs)
				if strings.Contains(text, "hunter2") {
					t.Errorf("a password in the record: %s", text)
				}
			}
			if failed < 15 {
				t.Errorf("only %d failed calls recorded", failed)
			}
		})
	}
}
