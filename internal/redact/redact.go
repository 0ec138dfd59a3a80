// Package redact hides the credentials in text that names a server, for
// error messages and logs.
package redact

import (
	"net/url"
	"strings"
)

// URL returns s with the password of its user information hidden, as
// [url.URL.Redacted] does, also when s does not parse as a URL or parses
// without an authority ("user:secret@host:port" has no scheme and parses as
// the opaque "secret@host:port" of a scheme "user"). Then everything before
// the last "@" (after "://" if there is one) is shown as "xxxxx". So it is
// when s parses with no user but an "@" follows "://" with a ":" between
// them: a password that starts with digits and holds an unescaped "#", "?"
// or "/" ("redis://admin:1234#abc@host") parses as host:port ("admin:1234")
// and a fragment, query or path. (A URL that holds such an "@" of its own,
// "http://host:80/a@b", is as ambiguous, and is hidden the same way.)
func URL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Opaque == "" && (u.User != nil || !CutUser(s)) {
		return u.Redacted()
	}
	at := strings.LastIndex(s, "@")
	if at < 0 {
		return s
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 && i < at {
		start = i + len("://")
	}
	return s[:start] + "xxxxx" + s[at:]
}

// CutUser reports whether s has an "@" after "://" with a ":" between
// them: in a URL that parses with no user, user information that the
// parser read as host:port, its password cut at an unescaped "#", "?" or
// "/".
func CutUser(s string) bool {
	i := strings.Index(s, "://")
	if i < 0 {
		return false
	}
	rest := s[i+len("://"):]
	at := strings.LastIndex(rest, "@")
	return at >= 0 && strings.Contains(rest[:at], ":")
}

// Parse parses s as [url.Parse] does, and reports false where that fails
// and where s's user information parsed as a host:port ([CutUser]): s
// names no server it can be sent to as written.
func Parse(s string) (*url.URL, bool) {
	u, err := url.Parse(s)
	if err != nil || u.User == nil && CutUser(s) {
		return nil, false
	}
	return u, true
}
