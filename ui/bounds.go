package ui

import (
	"context"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// Every page and API answer is bounded, whatever the store holds: a store
// caps the keys of its aggregates (store.DefaultMaxKeys), but the cap is
// configurable and the store may be another implementation, and record
// lists carry paths and queries a client chose. The bounds keep each answer
// under about 1 MiB.
const (
	// maxStatRows is how many RPCs and how many routes the stats tables and
	// api/stats list at most, the largest by total time; maxRouteRPCRows
	// how many route×RPC breakdown entries they attach in all.
	maxStatRows     = 100
	maxRouteRPCRows = 300
	// rowsBudget and routeRPCBudget bound, in bytes of statCost, the rows
	// and the breakdown entries, so that long names (up to 256 bytes, each
	// shown several times) list fewer of them.
	rowsBudget, routeRPCBudget = 256 << 10, 160 << 10
	// A list of records is cut to a budget of bytes (see list): in
	// api/records, where a summary takes about 480 bytes besides its texts,
	// and in the history table of the dashboard, which shares the page with
	// the stats tables and whose rows take about 900.
	apiListBudget, apiListFixed   = 900 << 10, 480
	pageListBudget, pageListFixed = 320 << 10, 900
)

// shownStats is a [store.Stats] cut to the bounds, with how much was left
// out.
type shownStats struct {
	*store.Stats
	RPCsOmitted, RoutesOmitted, RouteRPCsOmitted, InstancesOmitted int
}

// boundStats keeps the largest RPCs and routes of st, at most maxStatRows
// of each, and the largest route×RPC entries of those, at most
// maxRouteRPCRows, within statsBudget. st's lists are sorted by total time,
// largest first. st is not modified.
func boundStats(st *store.Stats) shownStats {
	out := *st
	s := shownStats{Stats: &out}
	budget := rowsBudget
	// The budget is shared in turns, so that long RPC names cannot crowd
	// the routes out, nor the reverse.
	// It ends when neither list takes another row: once maxStatRows RPCs
	// were taken beside fewer routes than that (all of them), it went
	// round for ever, and the dashboard and api/stats with it.
	nRPC, nRoute := 0, 0
	for budget > 0 {
		took := false
		if nRPC < len(st.RPCs) && nRPC < maxStatRows {
			r := &st.RPCs[nRPC]
			budget -= statCost(r.Service, r.Method)
			nRPC++
			took = true
		}
		if nRoute < len(st.Routes) && nRoute < maxStatRows {
			budget -= statCost(st.Routes[nRoute].Route)
			nRoute++
			took = true
		}
		if !took {
			break
		}
	}
	out.RPCs, s.RPCsOmitted = st.RPCs[:nRPC], len(st.RPCs)-nRPC
	out.Routes, s.RoutesOmitted = st.Routes[:nRoute], len(st.Routes)-nRoute
	rpcs := make(map[[2]string]bool, len(out.RPCs))
	for _, r := range out.RPCs {
		rpcs[[2]string{r.Service, r.Method}] = true
	}
	routes := make(map[string]bool, len(out.Routes))
	for _, r := range out.Routes {
		routes[r.Route] = true
	}
	// Instances are a fleet's processes: a few, or many under autoscaling.
	n := 0
	for budget = rowsBudget / 4; n < len(st.Instances) && n < maxStatRows && budget > 0; n++ {
		budget -= statCost(st.Instances[n].Instance)
	}
	out.Instances, s.InstancesOmitted = st.Instances[:n], len(st.Instances)-n
	out.RouteRPCs = nil
	budget = routeRPCBudget
	for _, rr := range st.RouteRPCs {
		// Each entry is shown twice: under its RPC and under its route.
		cost := 2 * statCost(rr.Route, rr.Service, rr.Method)
		if len(out.RouteRPCs) < maxRouteRPCRows && budget >= cost && (routes[rr.Route] || rpcs[[2]string{rr.Service, rr.Method}]) {
			out.RouteRPCs = append(out.RouteRPCs, rr)
			budget -= cost
		} else {
			s.RouteRPCsOmitted++
		}
	}
	return s
}

// statCost estimates the bytes a row of the stats tables or an entry of
// api/stats takes: about 700 for the figures and markup, and twice the
// escaped length of each name, which a row shows as text, in a key and,
// URL-encoded, in a link.
func statCost(names ...string) int {
	n := 700
	for _, s := range names {
		n += 2 * textCost(s)
	}
	return n
}

// textCost bounds the bytes a string takes in a JSON answer or an HTML
// page: its length, plus five for each byte that either escapes into six
// (\u003c, &#34;, …).
func textCost(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '<', c == '>', c == '&', c == '"', c == '\'', c == '\\':
			n += 5
		}
	}
	return n
}

// summaryCost bounds the bytes a summary takes in api/records or in a row of
// the history table: its texts (twice for the route and path, which a row
// may show twice) and fixed bytes for names, IDs, numbers and markup.
func summaryCost(s *recording.Summary, fixed int) int {
	return fixed + textCost(s.Method) + 2*textCost(s.Path) + textCost(s.Query) + 2*textCost(s.Route) +
		textCost(s.Error) + textCost(s.Panic) + textCost(s.User) + textCost(s.Instance)
}

// list is [store.Store.List] with a page cut to at most budget bytes of
// summaryCost, so that a page of long paths stays small: the store is
// asked again for as many records as fit, which gives the right cursor for
// the next page. A page always holds at least one record.
func (h *handler) list(ctx context.Context, q store.Query, fixed, budget int) (store.Page, error) {
	for {
		p, err := h.st.List(ctx, q)
		if err != nil {
			return p, err
		}
		n, cost := 0, 0
		for i := range p.Records {
			if cost += summaryCost(&p.Records[i], fixed); cost > budget {
				break
			}
			n++
		}
		if n == len(p.Records) || len(p.Records) <= 1 {
			return p, nil
		}
		// Fewer than asked for: each round asks for fewer records, so this
		// ends, usually at the second round.
		q.Limit = max(n, 1)
	}
}
