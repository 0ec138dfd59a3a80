package recording

import (
	"strings"

	"github.com/goappstats/appstats/internal/convention"
)

// Redacted ("[REDACTED]") replaces a value that redaction hid.
const Redacted = convention.Redacted

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

// SecretName reports whether a parameter called name should be hidden: its
// name contains one of r.Params, compared without regard to case.
func (r *Redaction) SecretName(name string) bool { return convention.SecretName(name, r.Params) }

// Query returns the raw query with the values of secret-looking parameters
// replaced. Both "&" and ";" separate parameters, as many servers accept
// either; a name that does not unescape is checked as it is.
func (r *Redaction) Query(raw string) string { return convention.RedactQuery(raw, r.Params) }

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
