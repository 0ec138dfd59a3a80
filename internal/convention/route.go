package convention

import (
	"net/http"
	"strconv"
)

// Routes are the keys records are grouped by, so there must be few of
// them: a route comes from a router (a pattern, a template, a registered
// gRPC method), never from a request's raw path, which a client chooses.
// (The recorder also cuts a route longer than its name cap, 256 bytes by
// default: recording.WithMaxName.)

// RouteUnknownGRPC is the route of every gRPC call to a service or method
// the server does not know (answered Unimplemented before any handler ran),
// so that calls to made-up method names share one route.
const RouteUnknownGRPC = "(unknown gRPC method)"

// UnmatchedRoute returns the route of an HTTP request no router matched
// (no [net/http.ServeMux] pattern, no route from a router's hook): its
// method and status class, "GET (unmatched 4xx)". Every such request of a
// method and class shares the route, whatever its path. A method other
// than the nine of RFC 9110 and RFC 5789 is written "_OTHER", as
// OpenTelemetry does, since a client can send any token; a status outside
// 100–599 gives "GET (unmatched)".
func UnmatchedRoute(method string, status int) string {
	m := method
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
	default:
		m = "_OTHER"
	}
	if status < 100 || status > 599 {
		return m + " (unmatched)"
	}
	return m + " (unmatched " + strconv.Itoa(status/100) + "xx)"
}
