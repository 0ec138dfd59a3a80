package httpstats

import (
	"net/http"

	"github.com/goappstats/appstats/internal/convention"
)

// An Option configures [NewHandler] or [NewMiddleware].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	routeFunc func(*http.Request) string
	userFunc  func(*http.Request) string
	headers   bool
	instance  string
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
// [net/http.ServeMux]: chi's RouteContext(r.Context()).RoutePattern(),
// gorilla/mux's CurrentRoute(r).GetPathTemplate(), and so on. (chi keeps its
// route in a context of its own, which the request seen outside its router
// does not carry: mount the middleware with the router's Use, where the
// hook finds it; mounted around the router, every request is unmatched.) It is called
// after the handler returned, with the request the handler saw; an empty
// result falls back to r.Pattern, then to the route of unmatched requests
// ("GET (unmatched 4xx)"). Return the router's template, never the raw
// path: records are grouped by route. The recorder cuts a result longer
// than its name cap ([recording.WithMaxName], 256 bytes by default). If f
// panics, the request is still recorded, with the panic as its
// [recording.Record.Panic] (unless the handler panicked first), and the
// panic goes on to net/http.
func WithRouteFunc(f func(r *http.Request) string) Option {
	return optionFunc(func(c *config) { c.routeFunc = f })
}

// WithUser sets a hook that names the request's user (for [recording.Record.User]).
// It is called after the handler returned. A panic of f is handled as
// [WithRouteFunc] says.
func WithUser(f func(r *http.Request) string) Option {
	return optionFunc(func(c *config) { c.userFunc = f })
}

// WithHeaders says whether request headers are kept in full records (default
// true; they are always redacted by the recorder's rules).
func WithHeaders(keep bool) Option {
	return optionFunc(func(c *config) { c.headers = keep })
}

// WithInstance names the server in the records of its requests
// ([recording.Record.Instance]) instead of the recorder's instance
// ([recording.WithInstance], host/pid by default): servers of one process
// that share a recorder — an app and its push hub on two ports, say — are
// then told apart on the dashboard. Empty keeps the recorder's.
func WithInstance(name string) Option {
	return optionFunc(func(c *config) { c.instance = name })
}

// NormalizePath replaces path segments that look like identifiers —
// numbers, UUIDs, long hex strings, dates — with "{id}", so that
// /users/42/orders and /users/43/orders group under one name. It is the
// normalization of the path in the name of every HTTP client call,
// whichever wrapper recorded it ([NewTransport], or otelexport's bridge).
func NormalizePath(p string) string { return convention.NormalizePath(p) }
