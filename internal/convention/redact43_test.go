package convention_test

import (
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// TestTextMySQLDSNOddPasswords checks a DSN of github.com/go-sql-driver/mysql
// whose password holds what the driver takes and a word does not — white
// space, "@", ":", "/", "(", ")" — as an error text or a log echoes it: the
// driver cuts the user information at the last "@" before net(addr)/db, so
// the password runs to that "@" over spaces, and is hidden whole.
func TestTextMySQLDSNOddPasswords(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"open u:pa ss@tcp(h:3306)/db: refused", "open u:" + R + "@tcp(h:3306)/db: refused"},
		{"sql: open u:pa ss@tcp(h:3306)/db", "sql: open u:" + R + "@tcp(h:3306)/db"},
		{`dsn="u:pa ss@tcp(h:3306)/db"`, `dsn="u:` + R + `@tcp(h:3306)/db"`},
		{"open u:pa ss word@tcp(h:3306)/db", "open u:" + R + "@tcp(h:3306)/db"},
		{"open u:p@s s@tcp(h:3306)/db", "open u:" + R + "@tcp(h:3306)/db"},
		{"open u:p:a s@tcp(h:3306)/db", "open u:" + R + "@tcp(h:3306)/db"},
		{"open u:a b:c d@tcp(h:3306)/db", "open u:" + R + "@tcp(h:3306)/db"},
		{"open u:pa/s s@tcp(h:3306)/db", "open u:" + R + "@tcp(h:3306)/db"},
		{"open u:pa(s s@tcp(h:3306)/db", "open u:" + R + "@tcp(h:3306)/db"},
		{"open u:pa s)s@unix(/tmp/s.sock)/db", "open u:" + R + "@unix(/tmp/s.sock)/db"},
		{"open u:pa ss@/db", "open u:" + R + "@/db"},
		{"open u:pa ss@tcp(h)/db?parseTime=true", "open u:" + R + "@tcp(h)/db?parseTime=true"},
		{"u:pa/ss@tcp(h)/db", "u:" + R + "@tcp(h)/db"},
		{"2024-01-01T10:00:00Z open u:pa ss@tcp(h:3306)/db", "2024-01-01T10:00:00Z open u:" + R + "@tcp(h:3306)/db"},
		// Two on a line: each its own.
		{"redis u:pw@host:6379 and mysql v:x y@tcp(h)/db", "redis u:" + R + "@host:6379 and mysql v:" + R + "@tcp(h)/db"},
		// Unchanged: an address, Oracle's "@//host" (its password
		// hidden by its own rule), a path's "@".
		{"dial tcp 10.0.0.1:3306: connect: connection refused", "dial tcp 10.0.0.1:3306: connect: connection refused"},
		{"jdbc:oracle:thin:scott/tiger@//host:1521/svc", "jdbc:oracle:thin:scott/" + R + "@//host:1521/svc"},
		{"see h:8080/users/@me", "see h:8080/users/@me"},
		// Review 43: a clock time's or a line number's digits are
		// no password, "@" and "/" after them on the line no DSN's.
		{"12:30:45 failed installing @types/node", "12:30:45 failed installing @types/node"},
		{"time=12:30:45 msg=fetch @angular/core", "time=12:30:45 msg=fetch @angular/core"},
		{"main.go:12: mail alice@example/org failed", "main.go:12: mail alice@example/org failed"},
		{"main.go:12\nalice@example/org failed", "main.go:12\nalice@example/org failed"},
		// … while a password of digits before its "@" is one.
		{"open u:1234@tcp(h:3306)/db", "open u:" + R + "@tcp(h:3306)/db"},
	})
}

// TestTextPostgresURLOddPasswords checks the PostgreSQL URLs whose password
// holds white space: in the user information, which libpq reads (and
// drivers that refuse it echo), and in a query's password=, which pgx and
// lib/pq read over the space ("?password=pa ss&sslmode=disable").
func TestTextPostgresURLOddPasswords(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"postgres://u:pa ss@h/db", "postgres://" + R + "@h/db"},
		{"cannot parse postgres://u:pa ss@h:5432/db: invalid userinfo", "cannot parse postgres://" + R + "@h:5432/db: invalid userinfo"},
		{"sqlserver://sa:pa ss@h:1433?database=d", "sqlserver://" + R + "@h:1433?database=d"},
		{"postgres://u@h/db?password=pa ss&sslmode=disable", "postgres://" + R + "@h/db?password=" + R + "&sslmode=disable"},
		{"postgres://u@h/db?password=pa%20ss&sslmode=disable", "postgres://" + R + "@h/db?password=" + R + "&sslmode=disable"},
		// Review 43: over more than one space, while the words hold no
		// "/", ":" or "=" before the next "&key=".
		// Several on a line, and on the next: each searched for its own
		// "@" (what a line's search found is remembered).
		{"postgres://u:pa ss@h/db and postgres://v:x y@h2/db, redis://h:1 x\npostgres://w:a b@h3/db", "postgres://" + R + "@h/db and postgres://" + R + "@h2/db, redis://h:1 x\npostgres://" + R + "@h3/db"},
		{"postgres://h:1 x\npostgres://w:a b@h3/db", "postgres://h:1 x\npostgres://" + R + "@h3/db"},
		{"postgres://h/db?password=pa ss word&sslmode=disable", "postgres://h/db?password=" + R + "&sslmode=disable"},
		{"postgres://h/db?password=a b c d&sslmode=disable x", "postgres://h/db?password=" + R + "&sslmode=disable x"},
		{"postgres://h/db?password=pw took 3 ms x=1&y=2", "postgres://h/db?password=" + R + " took 3 ms x=1&y=2"},
		{"postgres://h/db?password=pw see a/b&c=d", "postgres://h/db?password=" + R + " see a/b&c=d"},
		{"postgres://h/db?password=pw at 10:00 a&c=d", "postgres://h/db?password=" + R + " at 10:00 a&c=d"},
		// Unchanged: a request line's query, a URL then prose with "@".
		{"GET /cb?state=abc HTTP/1.1", "GET /cb?state=abc HTTP/1.1"},
		{"postgres://h:5432/db failed at 3 @ 4", "postgres://h:5432/db failed at 3 @ 4"},
		{"redis://localhost:x y @ 4", "redis://localhost:x y @ 4"},
	})
}

// TestTextQuotedConnPasswords checks connection strings' passwords that
// must be quoted: ADO.NET's value in quotes with the quote doubled inside
// (Password="pa""ss x"), Oracle's user/"password"@db with white space in
// the password — hidden whole, where the doubled quote or the space ended
// them.
func TestTextQuotedConnPasswords(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{`Password="pa""ss x";Server=h`, `Password="` + R + `";Server=h`},
		{`Server=h;Password='pa''ss x';Encrypt=true`, `Server=h;Password='` + R + `';Encrypt=true`},
		{`connect scott/"ti ger"@orcl failed`, `connect scott/` + R + `@orcl failed`},
		// Unchanged: an empty quoted value, a quoted path before "@".
		{`password="" next="x"`, `password="" next="x"`},
		{`say "a/b"@orcl`, `say "a/b"@orcl`},
	})
}
