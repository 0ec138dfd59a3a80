package ui

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// A windowChoice is one entry of the dashboard's time-window selector, with
// the step of its charts.
type windowChoice struct {
	Name string
	Span time.Duration
	Step time.Duration
	// From and Until are a custom range's (?from=&to=); zero for a
	// window that ends now.
	From, Until time.Time
}

var windowChoices = [...]windowChoice{
	{Name: "15m", Span: 15 * time.Minute, Step: 15 * time.Second},
	{Name: "1h", Span: time.Hour, Step: time.Minute},
	{Name: "6h", Span: 6 * time.Hour, Step: 6 * time.Minute},
	{Name: "24h", Span: 24 * time.Hour, Step: 20 * time.Minute},
	{Name: "7d", Span: 7 * 24 * time.Hour, Step: 3 * time.Hour},
}

const (
	defaultWindow = "1h"
	maxWindow     = 31 * 24 * time.Hour
	maxParamLen   = 1024
	maxMinMS      = float64(365 * 24 * time.Hour / time.Millisecond)
)

// windowParam reads the request's custom range (see parseRange) or else its
// window parameter (see parseWindow); on bad input it answers 400 and
// returns false.
func (h *handler) windowParam(w http.ResponseWriter, r *http.Request) (windowChoice, bool) {
	q := r.URL.Query()
	wc, ok, err := parseRange(q, time.Now())
	if !ok {
		wc, err = parseWindow(q.Get("window"))
	}
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return wc, false
	}
	return wc, true
}

// recordParam reads the record named by the {id} path parameter from the
// store, or else, if it is still in the making, a snapshot of it from the
// recorder (active is then true). A malformed ID is answered with 400, an
// unknown one with 404, a damaged one with 500 (see getError), and
// recordParam returns nil.
func (h *handler) recordParam(w http.ResponseWriter, r *http.Request) (rec *recording.Record, active bool) {
	id, err := recording.ParseID(r.PathValue("id"))
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, "malformed record id")
		return nil, false
	}
	rec, err = h.st.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		if a, ok := h.cfg.rec.ActiveRecord(id); ok {
			return &a, true
		}
	}
	if err != nil {
		h.getError(w, r, id, err)
		return nil, false
	}
	return rec, false
}

// parseWindow parses the window parameter: one of the selector's names, a Go
// duration ("90m") or a number of days ("3d"), at most 31 days, ending now;
// or a range "FROM~TO" in Unix milliseconds (see parseRange). It returns the
// span and a chart step giving about 60 buckets.
func parseWindow(s string) (windowChoice, error) {
	if s == "" {
		s = defaultWindow
	}
	if len(s) > 32 {
		return windowChoice{}, fmt.Errorf("window: too long")
	}
	for _, c := range windowChoices {
		if c.Name == s {
			return c, nil
		}
	}
	if a, b, ok := strings.Cut(s, "~"); ok {
		// A custom range, as parseRange names it: Unix milliseconds.
		from, err1 := strconv.ParseInt(a, 10, 64)
		to, err2 := strconv.ParseInt(b, 10, 64)
		if err1 != nil || err2 != nil {
			return windowChoice{}, fmt.Errorf("window %q: a range is two Unix times in milliseconds, FROM~TO", s)
		}
		for _, ms := range [2]int64{from, to} {
			if _, err := storable(time.UnixMilli(ms)); err != nil {
				return windowChoice{}, fmt.Errorf("window %q: %v", s, err)
			}
		}
		wc, _, err := rangeChoice(time.UnixMilli(from), time.UnixMilli(to), s)
		return wc, err
	}
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 31 {
			return windowChoice{}, fmt.Errorf("window %q: want 1d to 31d, or a duration such as 15m or 6h", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		d, err = time.ParseDuration(s)
		if err != nil {
			return windowChoice{}, fmt.Errorf("window %q: want a duration such as 15m, 6h or 7d", s)
		}
	}
	if d < time.Minute || d > maxWindow {
		return windowChoice{}, fmt.Errorf("window %q: must be between 1m and 31d", s)
	}
	step := (d / 60).Truncate(time.Second)
	if step < time.Second {
		step = time.Second
	}
	return windowChoice{Name: s, Span: d, Step: step}, nil
}

// listParams are the filters and paging of GET api/records and of the
// dashboard's history table.
type listParams struct {
	Limit    int
	Before   string
	Route    string
	Instance string
	Status   string // as given: "", "2xx".."5xx" or a code
	MinMS    string // as given
	Error    bool
	query    store.Query

	limitSet bool // limit was given

	more historyFilters
}

// parseList validates the record-list parameters. A limit over
// [store.MaxLimit] is clamped; anything malformed or out of range is an error
// whose message names the parameter. (Repeated and over-long parameters
// were refused before, by checkQuery.)
func parseList(v url.Values, defLimit int) (listParams, error) {
	var p listParams
	q := &p.query
	p.Limit = defLimit
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil && !isBigInt(s) {
			return p, fmt.Errorf("limit %q: not a number", s)
		}
		if err != nil || n > store.MaxLimit {
			n = store.MaxLimit // clamped
		}
		if n < 1 {
			return p, fmt.Errorf("limit %q: must be at least 1", s)
		}
		p.Limit = n
		p.limitSet = true
	}
	q.Limit = p.Limit
	p.Before = v.Get("before")
	q.Cursor = p.Before
	p.Route = v.Get("route")
	q.Route = p.Route
	p.Instance = v.Get("instance")
	q.Instance = p.Instance
	p.Status = v.Get("status")
	if s := p.Status; s != "" {
		if len(s) == 3 && s[1:] == "xx" && s[0] >= '1' && s[0] <= '5' {
			q.StatusClass = int(s[0] - '0')
		} else {
			n, err := strconv.Atoi(s)
			if err != nil || n < 100 || n > 599 {
				return p, fmt.Errorf("status %q: want 1xx to 5xx or a code from 100 to 599", s)
			}
			q.Status = n
		}
	}
	p.MinMS = v.Get("min_ms")
	if s := p.MinMS; s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return p, fmt.Errorf("min_ms %q: not a number", s)
		}
		if f < 0 || f > maxMinMS {
			return p, fmt.Errorf("min_ms %q: out of range (0 to one year)", s)
		}
		q.MinDuration = time.Duration(f * float64(time.Millisecond))
	}
	if s := v.Get("error"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return p, fmt.Errorf("error %q: want true or false", s)
		}
		p.Error = b
		q.ErrorsOnly = b
	}
	return p, parseHistoryFilters(v, &p)
}

// isBigInt reports whether s is a decimal integer too large for int.
func isBigInt(s string) bool { return convention.IsDigits(strings.TrimPrefix(s, "+")) }

// values returns the filters and page size (not the cursor) as URL
// parameters.
func (p *listParams) values() url.Values {
	v := url.Values{}
	if p.limitSet {
		v.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Route != "" {
		v.Set("route", p.Route)
	}
	if p.Instance != "" {
		v.Set("instance", p.Instance)
	}
	if p.Status != "" {
		v.Set("status", p.Status)
	}
	if p.MinMS != "" {
		v.Set("min_ms", p.MinMS)
	}
	if p.Error {
		v.Set("error", "true")
	}
	p.more.addTo(v)
	return v
}
