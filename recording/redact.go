package recording

import (
	"net/url"
	"strings"
)

// Redacted replaces a value that redaction hid.
const Redacted = "[REDACTED]"

// Redaction says which recorded values are hidden. The zero value hides
// nothing; [DefaultRedaction] is what a [Recorder] uses unless told otherwise.
type Redaction struct {
	// Headers are header names (any case) whose values are replaced by
	// [Redacted].
	Headers []string
	// Params are case-insensitive substrings: a query parameter, SQL argument
	// or attribute whose name contains one has its value replaced.
	Params []string
}

// DefaultRedaction hides credentials: the Authorization, Cookie, Set-Cookie and
// Proxy-Authorization headers (and common token headers), and parameters whose
// names look secret.
func DefaultRedaction() Redaction {
	return Redaction{
		Headers: []string{"Authorization", "Cookie", "Set-Cookie", "Proxy-Authorization", "X-Api-Key", "X-Auth-Token", "X-Csrf-Token"},
		Params: []string{"token", "password", "passwd", "pwd", "secret", "key", "auth", "session", "signature",
			"sig", "credential", "jwt", "code", "otp"},
	}
}

// SecretName reports whether a parameter called name should be hidden.
func (r *Redaction) SecretName(name string) bool {
	for _, p := range r.Params {
		if containsFold(name, p) {
			return true
		}
	}
	return false
}

// Query returns the raw query with the values of secret-looking parameters
// replaced. Both "&" and ";" separate parameters, as many servers accept
// either; a name that does not unescape is checked as it is.
func (r *Redaction) Query(raw string) string {
	if raw == "" || len(r.Params) == 0 || !r.anySecret(raw) {
		return raw
	}
	var b strings.Builder
	b.Grow(len(raw))
	rest := raw
	for {
		i := strings.IndexAny(rest, "&;")
		part := rest
		if i >= 0 {
			part = rest[:i]
		}
		key, _, hasValue := strings.Cut(part, "=")
		if hasValue && r.SecretName(unescapeName(key)) {
			b.WriteString(key)
			b.WriteString("=")
			b.WriteString(url.QueryEscape(Redacted))
		} else {
			b.WriteString(part)
		}
		if i < 0 {
			break
		}
		b.WriteByte(rest[i])
		rest = rest[i+1:]
	}
	return b.String()
}

func unescapeName(key string) string {
	if name, err := url.QueryUnescape(key); err == nil {
		return name
	}
	return key
}

// anySecret reports whether any parameter name in raw may be secret, without
// allocating: the common case of a query with nothing to hide costs a scan.
func (r *Redaction) anySecret(raw string) bool {
	rest := raw
	for {
		i := strings.IndexAny(rest, "&;")
		part := rest
		if i >= 0 {
			part = rest[:i]
		}
		key, _, _ := strings.Cut(part, "=")
		if strings.IndexByte(key, '%') >= 0 || strings.IndexByte(key, '+') >= 0 || r.SecretName(key) {
			return true // escaped names are decoded and checked on the slow path
		}
		if i < 0 {
			return false
		}
		rest = rest[i+1:]
	}
}

// Header returns a copy of h with the values of redacted headers replaced.
// A nil h gives nil.
func (r *Redaction) Header(h map[string][]string) map[string][]string {
	if h == nil {
		return nil
	}
	// One backing array for all the values, as http.Header.Clone does: two
	// allocations whatever the number of headers.
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	all := make([]string, n)
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		if vs == nil {
			out[k] = nil
			continue
		}
		dst := all[:len(vs):len(vs)]
		all = all[len(vs):]
		copy(dst, vs)
		out[k] = r.headerValues(k, dst, r.secretHeader(k))
	}
	return out
}

// headerValues redacts vs, a copy the caller owns, in place.
func (r *Redaction) headerValues(name string, vs []string, secret bool) []string {
	if secret {
		for i := range vs {
			vs[i] = Redacted
		}
		return vs
	}
	if strings.EqualFold(name, "Referer") {
		// A referring URL carries the previous page's query.
		for i, v := range vs {
			if base, q, ok := strings.Cut(v, "?"); ok {
				vs[i] = base + "?" + r.Query(q)
			}
		}
	}
	return vs
}

// secretHeader reports whether a header is hidden: it is listed, or its
// name looks secret the way a parameter's does (X-Access-Token,
// Private-Token, X-Amz-Security-Token…). Header names compare
// case-insensitively, so name need not be canonical.
func (r *Redaction) secretHeader(name string) bool {
	for _, h := range r.Headers {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return r.SecretName(name)
}

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
