package sqlnorm

import "testing"

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
