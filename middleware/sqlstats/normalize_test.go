package sqlstats

import (
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/sqlnorm"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT * FROM users WHERE id = 42", "SELECT * FROM users WHERE id = ?"},
		{"select  a,\n\tb from t where s = 'it''s' and f = 1.5e-3", "select a, b from t where s = ? and f = ?"},
		{"SELECT x FROM t -- trailing comment\nWHERE y = 0x1F", "SELECT x FROM t WHERE y = ?"},
		{"/* hint */ UPDATE t SET v = -7 WHERE id = $1", "UPDATE t SET v = -? WHERE id = $1"},
		{`SELECT "col 1", t1.c2 FROM "my""table" t1`, `SELECT ?, t1.c2 FROM "my""table" t1`}, // "col 1" may be a string in MySQL or SQLite
		{"INSERT INTO t (a, b) VALUES (:a, @b)", "INSERT INTO t (a, b) VALUES (:a, @b)"},
		{"INSERT INTO b VALUES (X'DEADBEEF', N'x', .5)", "INSERT INTO b VALUES (?, ?, ?)"},
		{"SELECT 'unterminated", "SELECT ?"},
		{"  \n ", ""},
		{"SELECT `a` FROM [dbo].[t]", "SELECT `a` FROM [dbo].[t]"},
		{"SELECT * FROM t WHERE id IN (1, 2, 3) AND k in ('a','b')", "SELECT * FROM t WHERE id IN (?, ...) AND k in (?, ...)"},
		{"SELECT * FROM t WHERE id IN ($1,$2) OR id IN (:a, @b)", "SELECT * FROM t WHERE id IN (?, ...) OR id IN (?, ...)"},
		{"SELECT * FROM t WHERE id IN (7)", "SELECT * FROM t WHERE id IN (?)"},
		{"SELECT * FROM t WHERE id IN (SELECT 1, 2)", "SELECT * FROM t WHERE id IN (SELECT ?, ?)"},
		{"SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))", "SELECT * FROM t WHERE (a, b) IN ((?, ?), (?, ?))"},
		{`SELECT "in (1, 2)", login FROM t WHERE x IN (1 , 2)`, `SELECT ?, login FROM t WHERE x IN (?, ...)`},
		{`SELECT t."in (1, 2)", login FROM t WHERE x IN (1 , 2)`, `SELECT t."in (1, 2)", login FROM t WHERE x IN (?, ...)`},
		{"SELECT * FROM t WHERE id IN (?, ?", "SELECT * FROM t WHERE id IN (?, ?"},
		{"INSERT INTO t VALUES (1, 2)", "INSERT INTO t VALUES (?, ?)"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeFor(t *testing.T) {
	tests := []struct{ system, in, want string }{
		{"postgresql", `SELECT "col 1", E'pw\'hunter2', $$hunter2$$ FROM t WHERE id IN ($1, $2)`, `SELECT "col 1", ?, ? FROM t WHERE id IN (?, ...)`},
		{"postgresql", `SELECT 1 /* a /* b */ hunter2 */ FROM t`, `SELECT ? FROM t`},
		{"cockroachdb", `SELECT ARRAY['hunter2', 'x'] FROM t`, `SELECT ARRAY[?, ?] FROM t`},
		{"mysql", `SELECT * FROM t WHERE n = 'O''Brien' AND password = "SECRET" # SECRET2`, `SELECT * FROM t WHERE n = ? AND password = ?`},
		// Read with and without backslash escapes (NO_BACKSLASH_ESCAPES).
		{"mysql", `SELECT * FROM t WHERE n = 'O\'Brien' AND password = "SECRET" # SECRET2`, `SELECT * FROM t WHERE n = ?`},
		// What follows a backslash-escaped quote is hidden: this statement
		// shares the stats group of the one two above.
		{"mysql", `SELECT * FROM t WHERE n = 'O\'Brien' AND id = 2`, `SELECT * FROM t WHERE n = ?`},
		{"mysql", `INSERT INTO t (dir, pw) VALUES ('C:\', 'hunter2')`, `INSERT INTO t (dir, pw) VALUES (?`},
		// MySQL's -- is a comment only before white space; its comments,
		// as SQLite's, do not nest.
		{"mysql", "SELECT a FROM t WHERE b = 1--'\n OR pw = hunter2'", "SELECT a FROM t WHERE b = ?--?"},
		{"sqlite", "SELECT 1 /* /* */ 'a */ , hunter2, ' FROM t", "SELECT ? ? FROM t"},
		// MySQL runs the content of an executable comment: a string in it
		// may span its */.
		{"mysql", "SELECT a FROM t WHERE b = 1 /*! 'a */ OR pw = hunter2 OR c = ' */", "SELECT a FROM t WHERE b = ? /*! ?"},
		{"mysql", "SELECT /*!50000 STRAIGHT_JOIN */ a FROM t WHERE p = 'pw'", "SELECT /*! STRAIGHT_JOIN */ a FROM t WHERE p = ?"},
		{"", "SELECT a FROM t WHERE b = 1 /*!50000 'a */ OR pw = hunter2 OR c = ' */", "SELECT a FROM t WHERE b = ? /*! ?"},
		// An IN list in an executable comment is collapsed as one out of it.
		{"mysql", "SELECT a FROM t WHERE x IN /*! (1,2,3) */", "SELECT a FROM t WHERE x IN /*! (?, ...) */"},
		{"mysql", "SELECT a FROM t WHERE x IN /*!50000(1, 'pw')*/ AND y IN /*M! (?, ?) */", "SELECT a FROM t WHERE x IN /*! (?, ...) */ AND y IN /*M! (?, ...) */"},
		{"", "SELECT a FROM t WHERE x IN /*! (1,2,3) */", "SELECT a FROM t WHERE x IN /*! (?, ...) */"},
		{"mysql", "SELECT a FROM t WHERE x IN /*! (1,2) OR y IN (3,4) */", "SELECT a FROM t WHERE x IN /*! (?,?) OR y IN (?, ...) */"},
		{"mysql", "SELECT /*!50000STRAIGHT_JOIN*/ a FROM t", "SELECT /*! STRAIGHT_JOIN */ a FROM t"},
		{"", "SELECT /*!40001 SQL_NO_CACHE */ a FROM t", "SELECT /*! SQL_NO_CACHE */ a FROM t"},
		{"", "SELECT 1 /* /* */ 'a */ , hunter2, ' FROM t", "SELECT ?"},
		{"postgresql", `ALTER USER app PASSWORD 'pa\'ss hunter2'`, `ALTER USER app PASSWORD ?`},
		{"sqlite", `SELECT "users"."name" FROM "users" WHERE password = "SECRET"`, `SELECT "users"."name" FROM "users" WHERE password = ?`},
		{"oracle.db", `SELECT "x" FROM t`, `SELECT ? FROM t`},
	}
	for _, tt := range tests {
		if got := NormalizeFor(tt.system, tt.in); got != tt.want {
			t.Errorf("NormalizeFor(%q, %q)\n = %q\nwant %q", tt.system, tt.in, got, tt.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct{ in, op, table string }{
		{"SELECT id FROM users WHERE id = ?", "SELECT", "users"},
		{"select * from main.users u join orders o on o.uid = u.id", "SELECT", "main.users"},
		{"SELECT * FROM (SELECT id FROM inner_t) AS s", "SELECT", "inner_t"},
		{"SELECT ?", "SELECT", ""},
		{"INSERT INTO orders (a) VALUES (?)", "INSERT", "orders"},
		{"insert or replace into \"Order Items\" values (?)", "INSERT", "Order Items"},
		{"UPDATE ONLY accounts SET v = ?", "UPDATE", "accounts"},
		{"UPDATE OR IGNORE accounts SET v = ?", "UPDATE", "accounts"},
		// MySQL's executable comments, kept by normalizing: their
		// delimiters are read as white space.
		{"UPDATE /*! LOW_PRIORITY */ accounts SET v = ?", "UPDATE", "accounts"},
		{"SELECT /*!STRAIGHT_JOIN*/ a FROM /*M! t */ u", "SELECT", "t"},
		{"/*! SET NAMES utf8mb4 */", "SET", ""},
		{"DELETE FROM `sessions` WHERE id = ?", "DELETE", "sessions"},
		{"WITH x AS (SELECT * FROM a) SELECT * FROM x JOIN b", "SELECT", "x"},
		{"WITH RECURSIVE r(n) AS (SELECT ?) INSERT INTO t SELECT n FROM r", "INSERT", "t"},
		{"CREATE TABLE IF NOT EXISTS items (id INTEGER)", "CREATE TABLE", "items"},
		{"CREATE UNIQUE INDEX i ON items (id)", "CREATE INDEX", "items"},
		{"DROP TABLE IF EXISTS items", "DROP TABLE", "items"},
		{"TRUNCATE logs", "TRUNCATE", "logs"},
		{"BEGIN", "BEGIN", ""},
		{"PRAGMA journal_mode = WAL", "PRAGMA", ""},
		{"(SELECT a FROM t1) UNION (SELECT a FROM t2)", "SELECT", "t1"},
		{"", "", ""},
		{"?", "", ""},
	}
	for _, tt := range tests {
		op, table := Describe(tt.in)
		if op != tt.op || table != tt.table {
			t.Errorf("Describe(%q) = %q, %q; want %q, %q", tt.in, op, table, tt.op, tt.table)
		}
	}
}

func TestStatementMethod(t *testing.T) {
	var c cache
	for _, tt := range []struct{ q, method, prepare string }{
		{"SELECT name FROM users WHERE id = 1", "SELECT users", "PREPARE SELECT users"},
		{"COMMIT", "COMMIT", "PREPARE COMMIT"},
		{"", "QUERY", "PREPARE QUERY"},
	} {
		s := c.get(tt.q)
		if s.method != tt.method || s.prepare != tt.prepare {
			t.Errorf("%q: method %q, prepare %q; want %q, %q", tt.q, s.method, s.prepare, tt.method, tt.prepare)
		}
		if c.get(tt.q) != s {
			t.Errorf("%q: not cached", tt.q)
		}
	}
}

func TestLongStatement(t *testing.T) {
	q := "INSERT INTO big (v) VALUES " + strings.Repeat("('xxxxxxxxxx'), ", 100000) + "('y')"
	var c cache
	s := c.get(q)
	if s.method != "INSERT big" || len(s.text) > maxScan+len("…") || !strings.HasSuffix(s.text, "…") {
		t.Errorf("method %q, text of %d bytes", s.method, len(s.text))
	}
	if len(c.m) != 0 {
		t.Error("a long statement was cached")
	}
}

// FuzzNormalize checks that Normalize never panics and that the IN lists
// it collapses are the only thing that can make a text longer.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"SELECT 'a''b' FROM t WHERE x = 1e+5", "/* x", "\"", "[", "WITH (", "e'", "$1$", "x IN (1,2)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, system := range []string{"", "postgresql", "mysql", "sqlite"} {
			n := NormalizeFor(system, s)
			if len(n) > 2*len(s) { // an IN list of 7 bytes or more grows by 4 at most
				t.Errorf("%s: %q (%d bytes) grew to %q (%d)", system, s, len(s), n, len(n))
			}
			Describe(n)
		}
	})
}

// benchStatement is a statement of typical size, with literals of each kind.
const benchStatement = `SELECT u.id, u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id ` +
	`WHERE u.email = 'ann@example.com' AND o.created_at > '2024-01-01' /* recent */ ` +
	`AND o.status IN (1, 2, 3) ORDER BY o.created_at DESC LIMIT 20`

// BenchmarkNormalize measures what a statement costs the wrapper: the first
// time its text is seen (normalized, described, cached), in each dialect and
// when the dialect is unknown, and every time after (a cache hit).
func BenchmarkNormalize(b *testing.B) {
	for _, system := range []string{"postgresql", "mysql", "sqlite", "unknown"} {
		b.Run("first/"+system, func(b *testing.B) {
			d := sqlnorm.Of(system)
			b.ReportAllocs()
			for b.Loop() {
				parseStatement(d, benchStatement)
			}
		})
	}
	b.Run("cached", func(b *testing.B) {
		var c cache
		c.dialect = sqlnorm.PostgreSQL
		c.get(benchStatement)
		b.ReportAllocs()
		for b.Loop() {
			c.get(benchStatement)
		}
	})
}
