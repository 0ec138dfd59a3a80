package ui

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// The dashboard's time range and the history's filters beyond the basic
// ones (route, status, minimum duration, errors): a custom range
// (?from=&to=) besides the named windows; a sub-range of the history
// (?since=&until=, what clicking a chart point selects); records of one
// trace, with a path containing a text, that made a given call, or no
// longer than a duration; and the slowest first instead of the newest
// (?sort=duration).

// maxSortScan bounds the records the history reads to sort them by
// duration: the slowest of at most this many, the newest first, that match
// the filters.
const maxSortScan = 10000

// parseRange reads a custom time range: ?from= and ?to= (to defaults to
// now), each Unix milliseconds, RFC 3339, or "2006-01-02T15:04" (a
// datetime-local input, taken as UTC). ok is false when neither is given.
func parseRange(v url.Values, now time.Time) (wc windowChoice, ok bool, err error) {
	fs, ts := v.Get("from"), v.Get("to")
	if fs == "" && ts == "" {
		return wc, false, nil
	}
	if fs == "" {
		return wc, true, fmt.Errorf("to: needs from")
	}
	from, err := parseTime(fs)
	if err != nil {
		return wc, true, fmt.Errorf("from %q: %v", clip(fs), err)
	}
	to := now
	if ts != "" {
		if to, err = parseTime(ts); err != nil {
			return wc, true, fmt.Errorf("to %q: %v", clip(ts), err)
		}
	}
	return rangeChoice(from, to, "")
}

// rangeChoice checks a custom range and returns it, named name, or
// "FROM~TO" in Unix milliseconds when name is empty: the window parameter
// that selects it again.
func rangeChoice(from, to time.Time, name string) (windowChoice, bool, error) {
	span := to.Sub(from)
	if span < time.Second {
		return windowChoice{}, true, fmt.Errorf("range: from must be at least a second before to")
	}
	if span > maxWindow {
		return windowChoice{}, true, fmt.Errorf("range: at most 31 days")
	}
	if name == "" {
		name = strconv.FormatInt(from.UnixMilli(), 10) + "~" + strconv.FormatInt(to.UnixMilli(), 10)
	}
	step := max((span / 60).Truncate(time.Second), time.Second)
	return windowChoice{Name: name, Span: span, Step: step, From: from, Until: to}, true, nil
}

// parseTime reads Unix milliseconds, RFC 3339, or a datetime-local value
// (UTC), within the times a store counts in (see storable).
func parseTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return storable(time.UnixMilli(n))
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return storable(t)
		}
	}
	return time.Time{}, fmt.Errorf("want Unix milliseconds, RFC 3339 or 2006-01-02T15:04")
}

// storable returns t, or an error if t lies outside the times a store
// counts in, [store.MinTime] to [store.MaxTime] (1677-09-21 02:00 to
// 2262-04-11 22:00 UTC): a store would cut a window to them and answer
// for one nobody asked for (records are kept by their start in Unix
// nanoseconds, which hold no other times), and the first instant of year
// 1 is the zero time.Time, which the handlers take for no time given.
func storable(t time.Time) (time.Time, error) {
	if lo, hi := store.MinTime(), store.MaxTime(); t.Before(lo) || t.After(hi) {
		return time.Time{}, fmt.Errorf("out of range: the earliest time accepted is %s, the latest %s",
			lo.UTC().Format(time.RFC3339), hi.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// clip shortens a parameter quoted in an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// span returns the window's time range ending now, or its custom range.
func (wc windowChoice) span(now time.Time) store.Window {
	if !wc.Until.IsZero() {
		return store.Window{Since: wc.From, Until: wc.Until}
	}
	return store.Window{Since: now.Add(-wc.Span), Until: now}
}

// values returns the URL parameters that select wc.
func (wc windowChoice) values() url.Values { return url.Values{"window": {wc.Name}} }

// windowLabel describes a window parameter for people: a named window as
// it is, a range by its times.
func windowLabel(name string) string {
	wc, err := parseWindow(name)
	if err != nil || wc.Until.IsZero() {
		return name
	}
	from, to := wc.From.UTC(), wc.Until.UTC()
	if from.YearDay() == to.YearDay() && from.Year() == to.Year() {
		return from.Format("Jan 2 15:04:05") + "–" + to.Format("15:04:05") + " UTC"
	}
	return from.Format("Jan 2 15:04") + " – " + to.Format("Jan 2 15:04") + " UTC"
}

// historyFilters are the history's filters besides listParams' first
// ones, as given (for links and forms) and parsed into the query.
type historyFilters struct {
	Since, Until string // a sub-range of the window: what a chart point selects
	MaxMS        string
	Sort         string // "" (newest first) or "duration" (slowest first)
	Offset       int    // with Sort: rows to skip
	Q            string // search text: a path contains it (the page sends IDs to their pages)
	TraceID      string
	CallService  string
	CallMethod   string

	since, until time.Time
}

// parseHistoryFilters reads the filters of historyFilters into p.
func parseHistoryFilters(v url.Values, p *listParams) error {
	f := &p.more
	q := &p.query
	var err error
	f.Since, f.Until = v.Get("since"), v.Get("until")
	if f.Since != "" {
		if f.since, err = parseTime(f.Since); err != nil {
			return fmt.Errorf("since %q: %v", clip(f.Since), err)
		}
	}
	if f.Until != "" {
		if f.until, err = parseTime(f.Until); err != nil {
			return fmt.Errorf("until %q: %v", clip(f.Until), err)
		}
	}
	f.MaxMS = v.Get("max_ms")
	if s := f.MaxMS; s != "" {
		x, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("max_ms %q: not a number", clip(s))
		}
		if x <= 0 || x > maxMinMS {
			return fmt.Errorf("max_ms %q: out of range (above 0, at most one year)", clip(s))
		}
		q.MaxDuration = time.Duration(x * float64(time.Millisecond))
	}
	switch f.Sort = v.Get("sort"); f.Sort {
	case "", "time":
		f.Sort = ""
	case "duration":
		if s := v.Get("offset"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n >= maxSortScan {
				return fmt.Errorf("offset %q: want 0 to %d", clip(s), maxSortScan-1)
			}
			f.Offset = n
		}
		if p.Before != "" {
			return fmt.Errorf("before: not with sort=duration (use offset)")
		}
	default:
		return fmt.Errorf("sort %q: want time or duration", clip(f.Sort))
	}
	f.Q = strings.TrimSpace(v.Get("q"))
	q.PathContains = f.Q
	if f.TraceID = v.Get("trace_id"); f.TraceID != "" {
		tid, err := recording.ParseTraceID(f.TraceID)
		if err != nil || !tid.IsValid() {
			return fmt.Errorf("trace_id %q: want 32 hex digits", clip(f.TraceID))
		}
		q.TraceID = tid
	}
	f.CallService, f.CallMethod = v.Get("call_service"), v.Get("call_method")
	if f.CallMethod != "" && f.CallService == "" {
		return fmt.Errorf("call_method: needs call_service")
	}
	q.CallService, q.CallMethod = f.CallService, f.CallMethod
	return nil
}

// filtered reports whether any of the filters is set (the sort is not a
// filter).
func (f *historyFilters) filtered() bool {
	return f.Since != "" || f.Until != "" || f.MaxMS != "" || f.Q != "" || f.TraceID != "" || f.CallService != ""
}

// addTo sets the filters in v.
func (f *historyFilters) addTo(v url.Values) {
	for _, kv := range [][2]string{
		{"since", f.Since}, {"until", f.Until}, {"max_ms", f.MaxMS}, {"sort", f.Sort}, {"q", f.Q},
		{"trace_id", f.TraceID}, {"call_service", f.CallService}, {"call_method", f.CallMethod},
	} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
}

// restrict limits the query to the window w and the filters' sub-range.
func (p *listParams) restrict(w store.Window) {
	q := &p.query
	q.Since, q.Until = w.Since, w.Until
	if f := &p.more; !f.since.IsZero() && f.since.After(q.Since) {
		q.Since = f.since
	}
	if f := &p.more; !f.until.IsZero() && f.until.Before(q.Until) {
		q.Until = f.until
	}
}

// slowest answers a history sorted by duration: it reads the newest records
// that match q, at most maxSortScan, and returns the slowest from offset
// on, at most q.Limit of them, with whether there are more and whether the
// scan was cut short. hist, the window's histogram, spares reading the
// fast ones when q filters nothing but time: records faster than the
// bucket that holds the offset+limit-th slowest cannot be among them.
func (h *handler) slowest(ctx context.Context, q store.Query, offset int, hist []store.HistogramBucket) (page []recording.Summary, more, cut bool, err error) {
	limit := q.Limit
	want := offset + limit
	if onlyTime(q) && q.MinDuration == 0 {
		q.MinDuration = histogramFloor(hist, want)
	}
	q.Limit = store.MaxLimit
	q.Cursor = ""
	var all []recording.Summary
	for {
		p, err := h.st.List(ctx, q)
		if err != nil {
			return nil, false, false, err
		}
		all = append(all, p.Records...)
		if len(all) >= maxSortScan {
			// More than the scan's records match when this page went
			// past them, or another page follows.
			all, cut = all[:maxSortScan], len(all) > maxSortScan || p.Next != ""
			break
		}
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
	}
	slices.SortStableFunc(all, func(a, b recording.Summary) int { return cmp.Compare(b.Duration, a.Duration) })
	if offset >= len(all) {
		return nil, false, cut, nil
	}
	end := min(offset+limit, len(all))
	return all[offset:end], end < len(all), cut, nil
}

// onlyTime reports whether q selects by time alone.
func onlyTime(q store.Query) bool {
	q.Since, q.Until, q.Limit, q.Cursor = time.Time{}, time.Time{}, 0, ""
	return q == store.Query{}
}

// histogramFloor returns the lower bound of the histogram bucket that holds
// the n-th slowest request: every request at least that slow is a
// candidate. It returns 0 when the histogram has fewer than n requests.
func histogramFloor(hist []store.HistogramBucket, n int) time.Duration {
	var seen int64
	for i := len(hist) - 1; i >= 0; i-- {
		seen += hist[i].Count
		if seen >= int64(n) {
			if i == 0 {
				return 0
			}
			return hist[i-1].Le
		}
	}
	return 0
}

// historyMore is what the history section shows of the filters and the
// sort besides historySection's first fields.
type historyMore struct {
	Range      []hiddenInput // the window or custom range, for the filter form
	Hidden     []hiddenInput // the filters the form has no field for
	Sort       string
	TimeURL    string // the same history, newest first
	DurURL     string // … slowest first
	Chips      []filterChip
	Q          string
	Cut        bool   // sorted by duration: only the newest maxSortScan were read
	RangeNote  string // the range listed, in words
	ResetURL   string
	CallFilter string // "service method" of the call filter, for the form
}

type hiddenInput struct{ Name, Value string }

// filterChip shows a filter the form has no field for, with a link that
// removes it.
type filterChip struct {
	Label     string
	RemoveURL string
}

// historyPage reads the history's page: the records of the window (and of
// the filters' sub-range), the newest first, or the slowest first. hist is
// the window's histogram (see slowest).
func (h *handler) historyPage(ctx context.Context, wc windowChoice, lp *listParams, hist []store.HistogramBucket, now time.Time) (store.Page, bool, error) {
	lp.restrict(wc.span(now))
	if lp.more.Sort != "duration" {
		p, err := h.list(ctx, lp.query, pageListFixed, pageListBudget)
		return p, false, err
	}
	if lp.more.Since != "" || lp.more.Until != "" {
		hist = nil // a sub-range: the window's histogram says nothing of it
	}
	recs, more, cut, err := h.slowest(ctx, lp.query, lp.more.Offset, hist)
	if err != nil {
		return store.Page{}, false, err
	}
	if n := fitBudget(recs, pageListFixed, pageListBudget); n < len(recs) {
		recs, more = recs[:n], true
	}
	p := store.Page{Records: recs}
	if more {
		p.Next = strconv.Itoa(lp.more.Offset + len(recs))
	}
	return p, cut, nil
}

// extendHistory completes hs (made by historySectionOf) with the range,
// the sort and the other filters, and its links for wc.
func extendHistory(hs *historySection, wc windowChoice, lp listParams, next string, cut bool, now time.Time) {
	f := &lp.more
	m := &hs.More
	for k, vs := range wc.values() {
		m.Range = append(m.Range, hiddenInput{k, vs[0]})
	}
	slices.SortFunc(m.Range, func(a, b hiddenInput) int { return cmp.Compare(a.Name, b.Name) })
	m.Sort, m.Q, m.Cut = f.Sort, f.Q, cut
	link := func(change func(v url.Values)) string {
		v := lp.values()
		for k, vs := range wc.values() {
			v[k] = vs
		}
		change(v)
		return "?" + v.Encode() + "#history"
	}
	m.TimeURL = link(func(v url.Values) { v.Del("sort") })
	m.DurURL = link(func(v url.Values) { v.Set("sort", "duration") })
	hs.NewestURL = link(func(v url.Values) {})
	hs.NextURL = ""
	if next != "" {
		hs.NextURL = link(func(v url.Values) {
			if f.Sort == "duration" {
				v.Set("offset", next)
			} else {
				v.Set("before", next)
			}
		})
	}
	hs.Paged = lp.Before != "" || f.Offset > 0
	hs.Filtered = hs.Filtered || f.filtered()
	m.ResetURL = "?" + wc.values().Encode() + "#history"
	chip := func(label string, keys ...string) {
		m.Chips = append(m.Chips, filterChip{Label: label, RemoveURL: link(func(v url.Values) {
			for _, k := range keys {
				v.Del(k)
			}
		})})
	}
	if f.Since != "" || f.Until != "" {
		label := "time"
		if !f.since.IsZero() {
			label += " from " + f.since.UTC().Format("Jan 2 15:04:05")
		}
		if !f.until.IsZero() {
			label += " to " + f.until.UTC().Format("Jan 2 15:04:05") + " UTC"
		}
		chip(label, "since", "until")
	}
	if f.MaxMS != "" {
		chip("at most "+f.MaxMS+" ms", "max_ms")
	}
	if f.TraceID != "" {
		chip("trace "+f.TraceID, "trace_id")
	}
	if f.CallService != "" {
		m.CallFilter = strings.TrimSpace(f.CallService + " " + f.CallMethod)
		chip("made a call of "+m.CallFilter, "call_service", "call_method")
	}
	for _, kv := range [][2]string{{"since", f.Since}, {"until", f.Until}, {"max_ms", f.MaxMS}, {"trace_id", f.TraceID},
		{"call_service", f.CallService}, {"call_method", f.CallMethod}} {
		if kv[1] != "" {
			m.Hidden = append(m.Hidden, hiddenInput{kv[0], kv[1]})
		}
	}
	win := wc.span(now)
	if !f.since.IsZero() && f.since.After(win.Since) {
		win.Since = f.since
	}
	if !f.until.IsZero() && f.until.Before(win.Until) {
		win.Until = f.until
	}
	if wc.Until.IsZero() && f.Since == "" && f.Until == "" {
		m.RangeNote = "in the last " + wc.Name
	} else {
		m.RangeNote = "from " + win.Since.UTC().Format("2006-01-02 15:04:05") + " to " + win.Until.UTC().Format("2006-01-02 15:04:05") + " UTC"
	}
}

// searchTarget returns the page a search for s goes to when s is an ID: a
// record's page, if the store has the record, or the trace view. "" means s
// is a path text.
func (h *handler) searchTarget(ctx context.Context, s string, wc windowChoice) string {
	if len(s) != 32 {
		return ""
	}
	if id, err := recording.ParseID(s); err == nil {
		if _, err := h.st.Get(ctx, id); err == nil {
			return "records/" + id.String()
		}
	}
	if tid, err := recording.ParseTraceID(s); err == nil && tid.IsValid() {
		return "traces/" + tid.String() + "?" + wc.values().Encode()
	}
	return ""
}

// fitBudget returns how many of recs fit in budget bytes of summaryCost
// (see list), at least one.
func fitBudget(recs []recording.Summary, fixed, budget int) int {
	cost := 0
	for i := range recs {
		if cost += summaryCost(&recs[i], fixed); cost > budget {
			return max(i, 1)
		}
	}
	return len(recs)
}
