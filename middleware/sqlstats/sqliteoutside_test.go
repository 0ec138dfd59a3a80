package sqlstats_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"modernc.org/sqlite"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/middleware/sqlstats"
)

// sqliteErrKind describes err as an application inspects it.
func sqliteErrKind(err error) string {
	if err == nil {
		return "<nil>"
	}
	var se *sqlite.Error
	s := fmt.Sprintf("%T %q sqlite=%v canceled=%v deadline=%v", err, err, errors.As(err, &se), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded))
	if se != nil {
		s += fmt.Sprintf(" code=%d", se.Code())
	}
	return s
}

// sqliteOutside returns a transcript of what the application sees of db
// (modernc.org/sqlite) beyond plain statements; other is a bare connection
// to the same file.
func sqliteOutside(ctx context.Context, t *testing.T, db, other *sql.DB) []string {
	t.Helper()
	var out []string
	logf := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS k (v int)"); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	rows, err := db.QueryContext(cctx, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x FROM c")
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal(rows.Err())
	}
	cancel()
	for rows.Next() {
	}
	logf("cancel mid read: %s; close %s", sqliteErrKind(rows.Err()), sqliteErrKind(rows.Close()))
	for _, o := range []*sql.TxOptions{{ReadOnly: true}, {Isolation: sql.LevelSerializable}, {Isolation: sql.LevelReadCommitted}, {Isolation: sql.LevelLinearizable}} {
		tx, err := db.BeginTx(ctx, o)
		if err != nil {
			logf("tx %v %s", o, sqliteErrKind(err))
			continue
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO k VALUES (1)")
		logf("tx %v write %s rollback %s", o, sqliteErrKind(err), sqliteErrKind(tx.Rollback()))
	}
	// Busy: another connection holds the write lock.
	tx, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("INSERT INTO k VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, "INSERT INTO k VALUES (3)")
	logf("busy %s", sqliteErrKind(err))
	tx.Rollback()
	rows, err = db.QueryContext(ctx, "SELECT 1; SELECT 2")
	if err != nil {
		logf("multi %s", sqliteErrKind(err))
	} else {
		for {
			for rows.Next() {
				var v int
				rows.Scan(&v)
				logf("multi row %d", v)
			}
			if !rows.NextResultSet() {
				break
			}
		}
		logf("multi err %s", sqliteErrKind(rows.Err()))
		rows.Close()
	}
	_, err = db.ExecContext(ctx, "INSERT INTO k VALUES ($1)", sql.Out{Dest: new(int)})
	logf("out %s", sqliteErrKind(err))
	return out
}

// TestSQLiteOutside runs sqliteOutside bare and wrapped: a read cancelled
// mid-way, each transaction option, a database locked by another
// connection, several statements in one query and an argument database/sql
// refuses must look the same to the application, errors' types included.
func TestSQLiteOutside(t *testing.T) {
	open := func(wrap bool) (db, other *sql.DB) {
		dsn := "file:" + filepath.Join(t.TempDir(), "o.db") + "?_pragma=busy_timeout(0)"
		var err error
		if wrap {
			db, err = sqlstats.Open("sqlite", dsn)
		} else {
			db, err = sql.Open("sqlite", dsn)
		}
		if err != nil {
			t.Fatal(err)
		}
		other, err = sql.Open("sqlite", dsn)
		if err != nil {
			t.Fatal(err)
		}
		return db, other
	}
	db, other := open(false)
	want := sqliteOutside(context.Background(), t, db, other)
	db.Close()
	other.Close()
	db, other = open(true)
	var got []string
	r := record(t, func(ctx context.Context) { got = sqliteOutside(ctx, t, db, other) })
	db.Close()
	other.Close()
	testservers.SameTranscript(t, got, want)
	if c := findCall(t, r, "INSERT k"); c == nil {
		t.Error("no INSERT recorded")
	}
}
