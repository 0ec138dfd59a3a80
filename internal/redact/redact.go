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
// the last "@" (after "://" if there is one) is shown as "xxxxx".
func URL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Opaque == "" {
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
