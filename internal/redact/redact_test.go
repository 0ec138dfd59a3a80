package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://user:hunter2@127.0.0.1:4318/v1/traces", "http://user:xxxxx@127.0.0.1:4318/v1/traces"},
		{"redis://:hunter2@127.0.0.1:6379/0", "redis://:xxxxx@127.0.0.1:6379/0"},
		{"http://127.0.0.1:4318", "http://127.0.0.1:4318"},
		{"http://host/a@b", "http://host/a@b"},
		// Not a URL: an invalid escape.
		{"http://user:hunter2%zz@127.0.0.1:1", "http://xxxxx@127.0.0.1:1"},
		// No scheme: parses as scheme "user" with an opaque part.
		{"user:hunter2@127.0.0.1:1", "xxxxx@127.0.0.1:1"},
		{"mailto:hunter2@example.com", "xxxxx@example.com"},
		{"127.0.0.1:4317", "127.0.0.1:4317"},
		{"", ""},
	} {
		got := URL(tc.in)
		if got != tc.want {
			t.Errorf("URL(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, "hunter2") {
			t.Errorf("URL(%q) = %q shows the password", tc.in, got)
		}
	}
}
