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

// BenchmarkNormalizeHostile normalizes texts of one hostile shape repeated
// to 64 KiB, 256 KiB and 1 MiB, in PostgreSQL and read by every dialect
// (Unknown): PostgreSQL's dollar quotes never closed or closed by the
// next ("$a$" repeated, "$$" openers among tags), nested comments never
// closed, E'…' strings with backslashes, runs of "@", ":", "//" and "%".
// Normalization is linear when the time a byte (MB/s) stays flat (round
// 44: it does; instruction counts for 16 and 64 KiB of each shape, under
// callgrind, grow 4.0 times).
func BenchmarkNormalizeHostile(b *testing.B) {
	for _, c := range []struct{ name, p string }{
		{"dollar", "$a$"},
		{"dollarspace", "$a$ "},
		{"openers", "$$ $a$ $b$c$ "},
		{"dobodies", "DO $a$ $b$ "},
		{"comments", "/* /* /*"},
		{"escapes", "E'\\"},
		{"at", "@"},
		{"colon", ":"},
		{"slashes", "//"},
		{"percent", "%"},
	} {
		for _, size := range []int{64 << 10, 256 << 10, 1 << 20} {
			q := strings.Repeat(c.p, size/len(c.p))
			for _, d := range []Dialect{PostgreSQL, Unknown} {
				name := d.String()
				if name == "" {
					name = "unknown"
				}
				b.Run(c.name+"/"+name+"/"+strconv.Itoa(size>>10)+"KiB", func(b *testing.B) {
					b.SetBytes(int64(len(q)))
					for b.Loop() {
						Normalize(d, q)
					}
				})
			}
		}
	}
}
