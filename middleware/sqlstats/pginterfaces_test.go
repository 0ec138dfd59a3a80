package sqlstats_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/lib/pq"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/middleware/sqlstats"
)

// driverInterfaces names the optional interfaces of database/sql/driver
// that v has.
func driverInterfaces(v any) string {
	checks := []struct {
		name string
		ok   bool
	}{
		//lint:ignore SA1019 database/sql still uses it when a driver has no ExecerContext: the wrapper must claim it as its driver does
		{"Execer", is[driver.Execer](v)},
		{"ExecerContext", is[driver.ExecerContext](v)},
		//lint:ignore SA1019 as Execer
		{"Queryer", is[driver.Queryer](v)},
		{"QueryerContext", is[driver.QueryerContext](v)},
		{"ConnPrepareContext", is[driver.ConnPrepareContext](v)},
		{"ConnBeginTx", is[driver.ConnBeginTx](v)},
		{"Pinger", is[driver.Pinger](v)},
		{"SessionResetter", is[driver.SessionResetter](v)},
		{"Validator", is[driver.Validator](v)},
		{"NamedValueChecker", is[driver.NamedValueChecker](v)},
	}
	var out []string
	for _, c := range checks {
		if c.ok {
			out = append(out, c.name)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func is[T any](v any) bool { _, ok := v.(T); return ok }

// pgInterfacesScenario exercises, through database/sql, what a driver's
// optional interfaces decide: the interfaces of the connection Raw gives
// (for the wrapper, of the one it wraps — and the wrapper's own), Ping,
// ResetSession and IsValid called on it, BeginTx with every isolation level
// read-only or not, arguments of types only the driver's NamedValueChecker
// takes (through the connection and through a prepared statement), several
// result sets, and the column types of a result.
func pgInterfacesScenario(ctx context.Context, t *testing.T, db *sql.DB) []string {
	var out []string
	say := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	db.SetMaxOpenConns(1)

	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = conn.Raw(func(dc any) error {
		inner := dc
		if u, ok := dc.(sqlstats.Unwrapper); ok {
			inner = u.Unwrap()
			if got, want := driverInterfaces(dc), driverInterfaces(inner); got != want {
				say("the wrapper claims %s, its connection has %s", got, want)
			}
		}
		say("Raw: %T: %s", inner, driverInterfaces(inner))
		if p, ok := dc.(driver.Pinger); ok {
			say("Ping: %v", p.Ping(ctx))
		}
		if r, ok := dc.(driver.SessionResetter); ok {
			say("ResetSession: %v", r.ResetSession(ctx))
		}
		if v, ok := dc.(driver.Validator); ok {
			say("IsValid: %v", v.IsValid())
		}
		return nil
	})
	say("Raw: %v", err)
	conn.Close()
	say("db.Ping: %v", db.PingContext(ctx))

	for _, iso := range []sql.IsolationLevel{sql.LevelDefault, sql.LevelReadUncommitted, sql.LevelReadCommitted, sql.LevelWriteCommitted,
		sql.LevelRepeatableRead, sql.LevelSnapshot, sql.LevelSerializable, sql.LevelLinearizable} {
		for _, ro := range []bool{false, true} {
			tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: iso, ReadOnly: ro})
			if err != nil {
				say("BeginTx %v read-only %v: %v", iso, ro, err)
				continue
			}
			var level, readOnly string
			err = tx.QueryRowContext(ctx, "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')").Scan(&level, &readOnly)
			_, werr := tx.ExecContext(ctx, "CREATE TEMP TABLE ifaces_ro (n int)")
			say("BeginTx %v read-only %v: %s %s %v; a write: %v; rollback: %v", iso, ro, level, readOnly, err, werr, tx.Rollback())
		}
	}

	args := []struct {
		name, query string
		v           []any
	}{
		{"int64 slice", "SELECT ($1::int8[])::text", []any{[]int64{1, 2}}},
		{"string slice", "SELECT ($1::text[])::text", []any{[]string{"a", "b"}}},
		{"pgtype.Int4", "SELECT ($1::int4)::text", []any{pgtype.Int4{Int32: 7, Valid: true}}},
		{"pq.Array", "SELECT ($1::int8[])::text", []any{pq.Array([]int64{3, 4})}},
		{"uint64 max", "SELECT ($1::numeric)::text", []any{uint64(math.MaxUint64)}},
		{"uint32", "SELECT ($1::int8)::text", []any{uint32(9)}},
		{"struct", "SELECT $1::text", []any{struct{ A int }{1}}},
		{"named", "SELECT ($1::int4)::text", []any{sql.Named("a", 1)}},
		{"nil pointer", "SELECT ($1::int4)::text", []any{(*int)(nil)}},
		{"map", "SELECT ($1::jsonb)::text", []any{map[string]any{"k": 1}}},
		{"pgx simple protocol", "SELECT ($1::int4)::text", []any{pgx.QueryExecModeSimpleProtocol, 5}},
	}
	for _, a := range args {
		var s sql.NullString
		err := db.QueryRowContext(ctx, a.query, a.v...).Scan(&s)
		say("query arg %s: %q %v", a.name, s.String, err)
		st, err := db.PrepareContext(ctx, a.query)
		if err != nil {
			say("prepare: %v", err)
			continue
		}
		s = sql.NullString{}
		err = st.QueryRowContext(ctx, a.v...).Scan(&s)
		say("statement arg %s: %q %v", a.name, s.String, err)
		st.Close()
	}
	// pgx runs several statements in one text with the simple protocol.
	for _, extra := range [][]any{nil, {pgx.QueryExecModeSimpleProtocol}} {
		rows, err := db.QueryContext(ctx, "SELECT 1 AS a; SELECT 'x' AS b, 2 AS c", extra...)
		if err != nil {
			say("several result sets %v: %v", extra, err)
			continue
		}
		for set := 0; ; set++ {
			cols, _ := rows.Columns()
			var vals []string
			for rows.Next() {
				v := make([]any, len(cols))
				p := make([]any, len(cols))
				for i := range v {
					p[i] = &v[i]
				}
				rows.Scan(p...)
				vals = append(vals, fmt.Sprint(v...))
			}
			say("result set %d: %v %v", set, cols, vals)
			if !rows.NextResultSet() {
				break
			}
		}
		say("result sets: %v", rows.Err())
		rows.Close()
	}

	rows, err := db.QueryContext(ctx, "SELECT 1::int4 AS a, 'x'::varchar(10) AS b, 1.5::numeric(10,2) AS c, NULL::text AS d, now() AS e, '{1}'::int8[] AS f, 'y'::bytea AS g")
	if err != nil {
		t.Fatal(err)
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		say("ColumnTypes: %v", err)
	}
	for _, ct := range cts {
		l, lok := ct.Length()
		p, s, dok := ct.DecimalSize()
		n, nok := ct.Nullable()
		say("column %s: %s length %d %v decimal %d,%d %v nullable %v %v scan %v", ct.Name(), ct.DatabaseTypeName(), l, lok, p, s, dok, n, nok, ct.ScanType())
	}
	rows.Close()
	return out
}

// TestPostgresDriverInterfaces runs pgInterfacesScenario through pgx's
// stdlib and lib/pq, bare and wrapped (recorded and not): the application
// must see the same — but for the type Raw gives, which is the wrapper
// (Unwrap gives the driver's; see TestPgxRawUnwrap).
func TestPostgresDriverInterfaces(t *testing.T) {
	for _, drv := range pgDrivers(testservers.StartPostgres(t)) {
		t.Run(drv.name, func(t *testing.T) {
			bare := sql.OpenDB(drv.open(t))
			want := pgInterfacesScenario(context.Background(), t, bare)
			bare.Close()
			db := sql.OpenDB(sqlstats.WrapConnector(drv.open(t)))
			got := pgInterfacesScenario(context.Background(), t, db)
			testservers.SameTranscript(t, got, want)
			var rgot []string
			r := record(t, func(ctx context.Context) { rgot = pgInterfacesScenario(ctx, t, db) })
			db.Close()
			testservers.SameTranscript(t, rgot, want)
			if len(r.Calls) < 20 {
				t.Errorf("only %d calls recorded", len(r.Calls))
			}
		})
	}
}
