package sqlnorm

import (
	"strconv"
	"strings"
	"testing"
)

// BenchmarkNormalize normalizes a statement without a backslash, with
// strings, numbers and comments, in each dialect (normalization runs once a
// distinct text: sqlstats caches its results).
func BenchmarkNormalize(b *testing.B) {
	const q = `SELECT u.id, u.name /* the user */ FROM users u -- by id
WHERE u.id = 42 AND u.email = 'a@example.com' AND u.note <> 'it''s' ORDER BY u.name LIMIT 10`
	for _, d := range []Dialect{PostgreSQL, MySQL, SQLite, Unknown} {
		name := d.String()
		if name == "" {
			name = "unknown"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Normalize(d, q)
			}
		})
	}
}

// BenchmarkNormalizeBody normalizes statements that hold others: a MySQL
// procedure's body and a PostgreSQL DO block (read as code), each with
// a password statement.
func BenchmarkNormalizeBody(b *testing.B) {
	for _, c := range []struct {
		name string
		d    Dialect
		q    string
	}{
		{"mysql", MySQL, "CREATE PROCEDURE p(IN pw TEXT) BEGIN UPDATE users SET password = pw WHERE id = 3; ALTER USER u IDENTIFIED BY 'x'; SELECT a FROM big WHERE b = 'c'; END"},
		{"postgresql", PostgreSQL, "DO $$ BEGIN PERFORM refresh_totals(7); ALTER ROLE u PASSWORD 'pw'; UPDATE t SET n = n + 1 WHERE id = 3; END $$"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Normalize(c.d, c.q)
			}
		})
	}
}

// BenchmarkNormalizeManyBodies normalizes texts of ever more DO blocks, 1
// KiB to 64 KiB: the time a byte (ns/op over the size, shown as MB/s)
// stays flat, as each body's search for LANGUAGE looks up the words found
// once a text instead of reading the rest of it (review 43: it grew with
// the size, 82 s for 1 MiB).
func BenchmarkNormalizeManyBodies(b *testing.B) {
	for _, size := range []int{1 << 10, 4 << 10, 16 << 10, 64 << 10} {
		q := strings.Repeat("DO $$ $$;", size/len("DO $$ $$;"))
		b.Run(strconv.Itoa(size>>10)+"KiB", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(q)))
			for b.Loop() {
				Normalize(PostgreSQL, q)
			}
		})
	}
}
