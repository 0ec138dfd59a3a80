package convention

import (
	"net/url"
	"strings"
)

// Redacted replaces a value that redaction hid.
const Redacted = "[REDACTED]"

// SecretName reports whether a parameter (of a query, an SQL statement, a
// header) called name should be hidden: it contains one of params, compared
// without regard to case.
func SecretName(name string, params []string) bool {
	for _, p := range params {
		if containsFold(name, p) {
			return true
		}
	}
	return false
}

// RedactQuery returns the raw query with the values of the parameters whose
// names are secret ([SecretName]) replaced by [Redacted], query-escaped.
// Both "&" and ";" separate parameters, as many servers accept either; a
// name that does not unescape is checked as it is. A query with nothing to
// hide is returned as it is, without allocating.
func RedactQuery(raw string, params []string) string {
	if raw == "" || len(params) == 0 || !anySecret(raw, params) {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	for rest := raw; ; {
		part, sep, tail := cutParam(rest)
		key, _, hasValue := strings.Cut(part, "=")
		if hasValue && SecretName(unescapeName(key), params) {
			b.WriteString(key)
			b.WriteString("=")
			b.WriteString(url.QueryEscape(Redacted))
		} else {
			b.WriteString(part)
		}
		if sep == 0 {
			return b.String()
		}
		b.WriteByte(sep)
		rest = tail
	}
}

// RedactURL returns u as a string without its user information (which
// holds credentials) and with its query redacted by [RedactQuery]. u is not
// modified.
func RedactURL(u *url.URL, params []string) string {
	if u.User == nil && (u.RawQuery == "" || !anySecret(u.RawQuery, params)) {
		return u.String()
	}
	c := *u
	c.User = nil
	c.RawQuery = RedactQuery(c.RawQuery, params)
	return c.String()
}

// cutParam cuts the first parameter off a raw query: the parameter, the
// separator after it ('&' or ';'; 0 at the end) and what follows.
func cutParam(raw string) (part string, sep byte, rest string) {
	i := strings.IndexAny(raw, "&;")
	if i < 0 {
		return raw, 0, ""
	}
	return raw[:i], raw[i], raw[i+1:]
}

func unescapeName(key string) string {
	if name, err := url.QueryUnescape(key); err == nil {
		return name
	}
	return key
}

// anySecret reports whether any parameter name in raw may be secret, without
// allocating: the common case of a query with nothing to hide costs a scan.
func anySecret(raw string, params []string) bool {
	if len(params) == 0 {
		return false
	}
	for rest := raw; ; {
		part, sep, tail := cutParam(rest)
		key, _, _ := strings.Cut(part, "=")
		if strings.IndexByte(key, '%') >= 0 || strings.IndexByte(key, '+') >= 0 || SecretName(key, params) {
			return true // escaped names are decoded and checked on the slow path
		}
		if sep == 0 {
			return false
		}
		rest = tail
	}
}

// containsFold reports whether sub is within s, without regard to case.
func containsFold(s, sub string) bool {
	if len(sub) > len(s) {
		return false
	}
	if len(sub) == 0 || !isASCII(sub) {
		for i := 0; i+len(sub) <= len(s); i++ {
			if strings.EqualFold(s[i:i+len(sub)], sub) {
				return true
			}
		}
		return false
	}
	// An ASCII sub can only fold-match a window that starts with its first
	// letter in either case (a multi-byte rune would make the window hold
	// fewer runes than sub), so most positions are skipped with a byte
	// comparison instead of a call to EqualFold.
	c0 := lowerASCII(sub[0])
	for i := 0; i+len(sub) <= len(s); i++ {
		if lowerASCII(s[i]) == c0 && strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
