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
	m := methodIndex(method)
	class := 0 // outside 100–599
	if status >= 100 && status <= 599 {
		class = status / 100
	}
	return unmatchedRoutes[m][class]
}

// methodIndex returns the index of method in routeMethods, or
// len(routeMethods) for any other. A switch compares the few bytes of each
// method in place, where slices.Index called memequal for each (~45
// instructions for a GET request); TestMethodIndex checks it against
// routeMethods.
func methodIndex(method string) int {
	switch method {
	case http.MethodGet:
		return 0
	case http.MethodHead:
		return 1
	case http.MethodPost:
		return 2
	case http.MethodPut:
		return 3
	case http.MethodPatch:
		return 4
	case http.MethodDelete:
		return 5
	case http.MethodConnect:
		return 6
	case http.MethodOptions:
		return 7
	case http.MethodTrace:
		return 8
	}
	return len(routeMethods)
}

// routeMethods are the methods UnmatchedRoute names; any other is "_OTHER".
var routeMethods = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace,
}

// unmatchedRoutes holds every answer of UnmatchedRoute, by method (the
// index in routeMethods, or len(routeMethods) for "_OTHER") and status class
// (0 for none), so that a request's route costs no allocation.
var unmatchedRoutes = func() (t [len(routeMethods) + 1][6]string) {
	for i := range t {
		m := "_OTHER"
		if i < len(routeMethods) {
			m = routeMethods[i]
		}
		t[i][0] = m + " (unmatched)"
		for c := 1; c <= 5; c++ {
			t[i][c] = m + " (unmatched " + strconv.Itoa(c) + "xx)"
		}
	}
	return t
}()
