package sqlstats

import (
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SELECT * FROM users WHERE id = 42", "SELECT * FROM users WHERE id = ?"},
		{"select  a,\n\tb from t where s = 'it''s' and f = 1.5e-3", "select a, b from t where s = ? and f = ?"},
		{"SELECT x FROM t -- trailing comment\nWHERE y = 0x1F", "SELECT x FROM t WHERE y = ?"},
		{"/* hint */ UPDATE t SET v = -7 WHERE id = $1", "UPDATE t SET v = -? WHERE id = $1"},
		{`SELECT "col 1", t1.c2 FROM "my""table" t1`, `SELECT "col 1", t1.c2 FROM "my""table" t1`},
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
		{`SELECT "in (1, 2)", login FROM t WHERE x IN (1 , 2)`, `SELECT "in (1, 2)", login FROM t WHERE x IN (?, ...)`},
		{"SELECT * FROM t WHERE id IN (?, ?", "SELECT * FROM t WHERE id IN (?, ?"},
		{"INSERT INTO t VALUES (1, 2)", "INSERT INTO t VALUES (?, ?)"},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
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

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"SELECT 'a''b' FROM t WHERE x = 1e+5", "/* x", "\"", "[", "WITH (", "e'", "$1$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if Normalize(n) != n {
			t.Errorf("not idempotent: %q -> %q -> %q", s, n, Normalize(n))
		}
		Describe(n)
	})
}
