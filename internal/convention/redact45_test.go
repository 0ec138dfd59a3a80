package convention_test

import (
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// TestTextLineNumberAndPortNotPasswords checks two texts that a Go
// developer reads as a log's, not as passwords (round 44 hid them): a
// "name:12: message" prefix, digits between two ":" and a space as a file
// and line number are written, before a MySQL DSN's user@net(addr)/db
// ("handler:12: connect alice@tcp(h)/db" was "handler:[REDACTED]@tcp(h)/db");
// and a URL's port before white space and a "user@host" that ends there,
// as an e-mail address does ("redis://:6379 alice@h" was
// "redis://[REDACTED]@h"). Passwords that begin with digits stay hidden
// where the host after the "@" goes on as a URL's does (a port or a path)
// and where the digits go on after the ":" (a clock time's).
func TestTextLineNumberAndPortNotPasswords(t *testing.T) {
	const R = convention.Redacted
	tests := []textCase{
		{"handler:12: connect alice@tcp(h)/db", "handler:12: connect alice@tcp(h)/db"},
		{"handler:12:\tconnect alice@tcp(h)/db", "handler:12:\tconnect alice@tcp(h)/db"},
		{"level=error handler:12: dial alice@tcp(db:3306)/app failed", "level=error handler:12: dial alice@tcp(db:3306)/app failed"},
		{"redis://:6379 alice@h", "redis://:6379 alice@h"},
		{"redis://h:6379 alice@cache", "redis://h:6379 alice@cache"},
		{"dial redis://:6379 as alice@h", "dial redis://:6379 as alice@h"},
		// Still hidden.
		{"u:12:34 x@tcp(h)/db", "u:" + R + "@tcp(h)/db"},
		{"u:12 34x@tcp(127.0.0.1:3306)/db", "u:" + R + "@tcp(127.0.0.1:3306)/db"},
		{"redis://:12 34@h:6379/0", "redis://" + R + "@h:6379/0"},
		{"redis://:6379 alice@h:6379", "redis://" + R + "@h:6379"},
		{"postgres://u:12 34@h/db", "postgres://" + R + "@h/db"},
		{"postgres://u:12 34@[::1]:5432/db", "postgres://" + R + "@[::1]:5432/db"},
		{"rediss://default:12 34@h:6379", "rediss://" + R + "@h:6379"},
		{"redis://:pa ss@h", "redis://" + R + "@h"},
		{"handler:pa ss@tcp(h)/db", "handler:" + R + "@tcp(h)/db"},
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
