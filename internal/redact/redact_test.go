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
		// A password that starts with digits and holds an unescaped '#',
		// '?' or '/' parses as host:port, the rest as fragment, query or
		// path, with no user.
		{"redis://admin:1234#hunter2@host:6379", "redis://xxxxx@host:6379"},
		{"http://u:99?hunter2@collector:4318", "http://xxxxx@collector:4318"},
		{"http://u:99/hunter2@collector:4318/v1/traces", "http://xxxxx@collector:4318/v1/traces"},
		{"redis://:1234#hunter2@host:6379/0", "redis://xxxxx@host:6379/0"},
		{"redis://admin:#hunter2@host:6379", "redis://xxxxx@host:6379"},
		// An '@' after a host with no ':' before it hides no password.
		{"http://host/a@b", "http://host/a@b"},
		{"http://host:4318/v1?to=a@b", "http://xxxxx@b"}, // user host, password 4318/v1?to=a
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
