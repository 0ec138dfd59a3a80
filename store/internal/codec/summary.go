package codec

import (
	"slices"
	"time"

	"github.com/goappstats/appstats/recording"
)

// SummaryInto sets s to r's summary, as r.SummaryInto does, and returns
// durs with the durations of r's calls appended, as [AppendCallDurations]
// appends them: in one pass over the calls where those take two (one
// grouping the calls by RPC, one finding each call's RPC again), for a
// writer that needs both for every record. A call's RPC is found by its
// service and method, compared by their memory first: the calls of an RPC
// mostly share the very strings. The RPCs' memory is s.RPCs', as in
// r.SummaryInto.
func SummaryInto(r *recording.Record, s *recording.Summary, durs []time.Duration) []time.Duration {
	if len(r.Calls) > maxSummaryCalls {
		return summaryInto(r, s, durs)
	}
	*s = summaryHead(r, s.RPCs[:0])
	if len(r.Calls) == 0 {
		// No RPC, no duration: nor summaryCalls' arrays to clear.
		return durs
	}
	return summaryCalls(r, s, durs)
}

// CountedSummaryInto sets the fields of s that a [Rollup] counts (see
// [Rollup.Add]: Kind, Duration, Route, Status, Instance, Error, Panic,
// CallCount, ErrorCalls and RPCs) as [SummaryInto] sets them, and returns
// durs as SummaryInto does; s's other fields keep what they held, except
// for a record of more than 256 calls or 16 RPCs, which SummaryInto's two
// passes sum up whole. For a writer that only counts a record (one over
// its storage budget): the summary's other fields, two dozen words
// copied, were most of what summing up a record without calls cost.
func CountedSummaryInto(r *recording.Record, s *recording.Summary, durs []time.Duration) []time.Duration {
	if len(r.Calls) > maxSummaryCalls {
		return summaryInto(r, s, durs)
	}
	s.Kind, s.Duration, s.Route, s.Status, s.Instance = r.Kind, r.Duration, r.Route, r.Status, r.Instance
	s.Error, s.Panic = r.Error, r.Panic
	s.CallCount, s.ErrorCalls, s.RPCs = 0, 0, s.RPCs[:0]
	if len(r.Calls) == 0 {
		return durs
	}
	return summaryCalls(r, s, durs)
}

// maxSummaryCalls is the most calls summaryCalls takes, each call's RPC
// kept in an array; records of more take the two passes (summaryInto).
const maxSummaryCalls = 256

// summaryCalls counts r's calls (one to maxSummaryCalls) into s, which
// counts none yet and has no RPC, and appends their durations to durs:
// SummaryInto's and CountedSummaryInto's pass over the calls.
func summaryCalls(r *recording.Record, s *recording.Summary, durs []time.Duration) []time.Duration {
	// Up to maxRPCs RPCs, each call's RPC is kept in an array; records
	// of more take the two passes.
	const maxCalls, maxRPCs, event = maxSummaryCalls, 16, 0xff
	var of [maxCalls]uint8 // each call's RPC, or event
	rpcs := s.RPCs
	j := -1 // the previous call's RPC
	// The runs of calls of one RPC, each looked up below: as many as
	// there are RPCs when each RPC's calls come in one run (as when all
	// calls are of one RPC), the runs then in the order of the RPCs.
	runs := 0
	for i := range r.Calls {
		c := &r.Calls[i]
		if c.Event {
			of[i] = event
			continue
		}
		// The previous call's RPC by the words of its strings (most
		// calls in a row), then by their bytes, then the others.
		same := j >= 0 && sameData(&c.Service, &rpcs[j].Service) && sameData(&c.Method, &rpcs[j].Method)
		if !same && (j < 0 || !sameString(c.Service, rpcs[j].Service) || !sameString(c.Method, rpcs[j].Method)) {
			runs++
			j = -1
			for k := range rpcs {
				if sameString(c.Service, rpcs[k].Service) && sameString(c.Method, rpcs[k].Method) {
					j = k
					break
				}
			}
			if j < 0 {
				if len(rpcs) == maxRPCs {
					s.RPCs = rpcs[:0]
					return summaryInto(r, s, durs)
				}
				j = len(rpcs)
				rpcs = append(rpcs, recording.RPCStat{Service: c.Service, Method: c.Method})
			}
		}
		st := &rpcs[j]
		st.Count++
		st.Total += c.Duration
		st.Cost += c.Cost
		s.CallCount++
		if c.Error != "" {
			st.Errors++
			s.ErrorCalls++
		}
		of[i] = uint8(j)
	}
	s.RPCs = rpcs
	n := len(durs)
	if runs == len(rpcs) && s.CallCount == len(r.Calls) {
		// One run an RPC, no event: the durations in the order of the
		// calls.
		durs = slices.Grow(durs, len(r.Calls))[:n+len(r.Calls)]
		d := durs[n:]
		for i := range r.Calls {
			d[i] = r.Calls[i].Duration
		}
		return durs
	}
	// Each RPC's durations in a run, in the order of its calls.
	var next [maxRPCs]int
	at := n
	for k := range rpcs {
		next[k] = at
		at += rpcs[k].Count
	}
	durs = slices.Grow(durs, at-n)[:at]
	for i := range r.Calls {
		if k := of[i]; k != event {
			durs[next[k]] = r.Calls[i].Duration
			next[k]++
		}
	}
	return durs
}

// summaryInto is SummaryInto in two passes, for records of many calls or
// RPCs.
func summaryInto(r *recording.Record, s *recording.Summary, durs []time.Duration) []time.Duration {
	r.SummaryInto(s)
	return AppendCallDurations(durs, r, s)
}

// summaryHead returns the summary of r's own fields, as r.SummaryInto
// sets them, with rpcs as its RPCs and no calls counted; the callers count
// the calls. The fields r.SummaryInto copies (TestSummaryInto checks each);
// not a copy of r with no calls, which would read the recorder's own fields
// of r while it writes them.
func summaryHead(r *recording.Record, rpcs []recording.RPCStat) recording.Summary {
	return recording.Summary{
		ID:            r.ID,
		TraceID:       r.TraceID,
		Kind:          r.Kind,
		Start:         r.Start,
		Duration:      r.Duration,
		Method:        r.Method,
		Path:          r.Path,
		Route:         r.Route,
		Query:         r.Query,
		Status:        r.Status,
		RequestBytes:  r.RequestBytes,
		ResponseBytes: r.ResponseBytes,
		User:          r.User,
		Instance:      r.Instance,
		Overhead:      r.Overhead,
		Error:         r.Error,
		Panic:         r.Panic,
		DroppedCalls:  r.DroppedCalls,
		Warnings:      len(r.Warnings),
		RPCs:          rpcs,
	}
}
