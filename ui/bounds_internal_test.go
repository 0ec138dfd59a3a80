package ui

import (
	"strconv"
	"testing"

	"github.com/goappstats/appstats/store"
)

// boundStats ends whatever the lengths of its lists: with more than
// maxStatRows RPCs of short names and fewer routes than that, it went
// round for ever on main (the test ran until go test's timeout), hanging
// the dashboard and api/stats of a service with over 100 RPCs and under
// 100 routes. The same the other way round, and with both long.
func TestBoundStatsEnds(t *testing.T) {
	rpcs := func(n int) []store.RPCStats {
		out := make([]store.RPCStats, n)
		for i := range out {
			out[i] = store.RPCStats{Service: "sql", Method: "SELECT " + strconv.Itoa(i)}
		}
		return out
	}
	routes := func(n int) []store.RouteStats {
		out := make([]store.RouteStats, n)
		for i := range out {
			out[i] = store.RouteStats{Route: "GET /r/" + strconv.Itoa(i)}
		}
		return out
	}
	for _, c := range []struct{ rpcs, routes, wantRPCs, wantRoutes int }{
		{150, 3, 100, 3},
		{3, 150, 3, 100},
		{150, 150, 100, 100},
		{0, 0, 0, 0},
		{100, 0, 100, 0},
	} {
		s := boundStats(&store.Stats{RPCs: rpcs(c.rpcs), Routes: routes(c.routes)})
		if len(s.RPCs) != c.wantRPCs || s.RPCsOmitted != c.rpcs-c.wantRPCs || len(s.Routes) != c.wantRoutes || s.RoutesOmitted != c.routes-c.wantRoutes {
			t.Errorf("%d RPCs, %d routes: shown %d (%d omitted) and %d (%d omitted)", c.rpcs, c.routes,
				len(s.RPCs), s.RPCsOmitted, len(s.Routes), s.RoutesOmitted)
		}
	}
}
