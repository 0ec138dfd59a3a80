package httpstats

import (
	"net/http"
	"strings"
)

// An Option configures [NewHandler] or [NewMiddleware].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	routeFunc func(*http.Request) string
	userFunc  func(*http.Request) string
	headers   bool
}

func newConfig(opts []Option) config {
	c := config{headers: true}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithRouteFunc sets how a request's route is found, for routers other than
// [net/http.ServeMux]. It is called after the handler returned, with the
// request the handler saw; an empty result falls back to r.Pattern, then to
// the normalized path.
func WithRouteFunc(f func(r *http.Request) string) Option {
	return optionFunc(func(c *config) { c.routeFunc = f })
}

// WithUser sets a hook that names the request's user (for [recording.Record.User]).
// It is called after the handler returned.
func WithUser(f func(r *http.Request) string) Option {
	return optionFunc(func(c *config) { c.userFunc = f })
}

// WithHeaders says whether request headers are kept in full records (default
// true; they are always redacted by the recorder's rules).
func WithHeaders(keep bool) Option {
	return optionFunc(func(c *config) { c.headers = keep })
}

// NormalizePath replaces path segments that look like identifiers — numbers,
// UUIDs, long hex strings — with "{id}", so that /users/42/orders and
// /users/43/orders group under one route.
func NormalizePath(p string) string {
	if p == "" {
		return "/"
	}
	// Fast path: nothing to replace.
	need := false
	for i := 0; i < len(p); i++ {
		if c := p[i]; c >= '0' && c <= '9' {
			need = true
			break
		}
	}
	if !need {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	rest := p
	first := true
	for {
		seg, tail, more := strings.Cut(rest, "/")
		if !first {
			b.WriteByte('/')
		}
		first = false
		if idLike(seg) {
			b.WriteString("{id}")
		} else {
			b.WriteString(seg)
		}
		if !more {
			break
		}
		rest = tail
	}
	return b.String()
}

func idLike(s string) bool {
	if s == "" {
		return false
	}
	digits, hex, other := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			hex++
		case c == '-' || c == '_':
		default:
			other++
		}
	}
	switch {
	case digits == len(s):
		return true // 42
	case other == 0 && digits > 0 && len(s) >= 16:
		return true // UUIDs, hashes, object IDs
	case other == 0 && digits > 0 && hex == 0 && strings.ContainsAny(s, "-_"):
		return true // 2024-01-02
	}
	return false
}
