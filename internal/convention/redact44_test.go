package convention_test

import (
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// TestTextDigitsFirstPasswords checks passwords that begin with digits and
// white space or a ":" after them, which read as a clock time's, a line
// number's or a port's (round 44: "u:12 34x@tcp(127.0.0.1:3306)/db" and
// "postgres://u:12 34@h/db" were left whole, "redis://:pa ss@h" too): in a
// MySQL DSN before "@net(addr)/" or "@/", in a URL that is not a web one,
// and a Redis URL's password after an empty user. Text and Error hide them
// whole, with and without the detection of secret-looking values.
func TestTextDigitsFirstPasswords(t *testing.T) {
	const R = convention.Redacted
	tests := []textCase{
		{"u:12 34x@tcp(127.0.0.1:3306)/db", "u:" + R + "@tcp(127.0.0.1:3306)/db"},
		{"dial u:12 34x@tcp(127.0.0.1:3306)/db failed", "dial u:" + R + "@tcp(127.0.0.1:3306)/db failed"},
		{"open u:12\t34@unix(/tmp/my.sock)/db", "open u:" + R + "@unix(/tmp/my.sock)/db"},
		{"open u:9 s3cr3t@/db?parseTime=true", "open u:" + R + "@/db?parseTime=true"},
		{"open u:1 2 3@tcp(h)/db", "open u:" + R + "@tcp(h)/db"},
		{"open u:12:34 x@tcp(h)/db", "open u:" + R + "@tcp(h)/db"},
		{"postgres://u:12 34@h/db", "postgres://" + R + "@h/db"},
		{"cannot parse postgres://u:12 34x@h:5432/db: invalid port", "cannot parse postgres://" + R + "@h:5432/db: invalid port"},
		{"redis://:pa ss@h:6379/0", "redis://" + R + "@h:6379/0"},
		{"rediss://default:12 34@h:6379", "rediss://" + R + "@h:6379"},
		{"redis://:12 34@h:6379/0", "redis://" + R + "@h:6379/0"},
		// Unchanged: clock times, line numbers and "host:port" before
		// white space and an "@" that no password ends.
		{"12:30:45 failed installing @types/node", "12:30:45 failed installing @types/node"},
		{"12:30:45 connect alice@tcp(h)/db", "12:30:45 connect alice@tcp(h)/db"},
		{"main.go:12: connect alice@tcp(h)/db", "main.go:12: connect alice@tcp(h)/db"},
		{"source=main.go:12 msg=connect dsn=alice@tcp(h)/db", "source=main.go:12 msg=connect dsn=alice@tcp(h)/db"},
		{"at 10:30 alice@tcp(h)/db", "at 10:30 alice@tcp(h)/db"},
		{"GET http://localhost:8080 ok@home", "GET http://localhost:8080 ok@home"},
		{"postgres://h:5432 took 3 ms @ 4", "postgres://h:5432 took 3 ms @ 4"},
		{"postgres://h:5432/db by ok@home", "postgres://h:5432/db by ok@home"},
		{"redis://h:6379 and redis://:6379", "redis://h:6379 and redis://:6379"},
	}
	for _, r := range []*convention.Rules{defaultRules(), convention.NewRules(convention.DefaultSecretWords(), false)} {
		checkTexts(t, r, tests)
		for _, tt := range tests {
			if got := r.Error(tt.in); got != tt.want {
				t.Errorf("Error(%q)\n = %q\nwant %q", tt.in, got, tt.want)
			}
		}
	}
}
