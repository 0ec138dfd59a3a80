package main

import (
	"flag"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/goappstats/appstats/store"
)

// filters are the record filters of export and tail: the JSON API's.
type filters struct {
	window          time.Duration
	since, until    string
	route, instance string
	method, status  string
	minMS           float64
	errorsOnly      bool
}

func (f *filters) flags(fs *flag.FlagSet) {
	fs.DurationVar(&f.window, "window", 0, "only records of this long ago up to now (e.g. 1h)")
	fs.StringVar(&f.since, "since", "", "only records that started at or after this time (RFC 3339)")
	fs.StringVar(&f.until, "until", "", "only records that started before this time (RFC 3339)")
	fs.StringVar(&f.route, "route", "", `only this route (e.g. "GET /users/{id}")`)
	fs.StringVar(&f.instance, "instance", "", "only records of this instance (host/pid, or the name the service set)")
	fs.StringVar(&f.method, "method", "", "only this HTTP method")
	fs.StringVar(&f.status, "status", "", "only this status: a class 1xx to 5xx, or a code")
	fs.Float64Var(&f.minMS, "min-ms", 0, "only requests at least this long, in milliseconds")
	fs.BoolVar(&f.errorsOnly, "error", false, "only failed requests")
}

// maxMS is the largest -min-ms: about 292 years, the longest duration.
const maxMS = float64(math.MaxInt64 / int64(time.Millisecond))

// query turns the filters into a store query.
func (f *filters) query(now time.Time) (store.Query, error) {
	q := store.Query{Route: f.route, Instance: f.instance, Method: f.method, ErrorsOnly: f.errorsOnly}
	if f.window < 0 {
		return q, fmt.Errorf("-window %v: negative", f.window)
	}
	if f.window > 0 {
		if f.since != "" {
			return q, fmt.Errorf("-window and -since: give one")
		}
		q.Since = now.Add(-f.window)
	}
	for _, t := range []struct {
		flag, v string
		dst     *time.Time
	}{{"since", f.since, &q.Since}, {"until", f.until, &q.Until}} {
		if t.v == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339Nano, t.v)
		if err != nil {
			return q, fmt.Errorf("-%s %q: want an RFC 3339 time such as 2026-11-22T10:00:00Z", t.flag, t.v)
		}
		*t.dst = v
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		from := "-since " + q.Since.Format(time.RFC3339Nano)
		if f.window > 0 {
			from = fmt.Sprintf("-window %v starts at %s, which", f.window, q.Since.Format(time.RFC3339))
		}
		return q, fmt.Errorf("%s is not before -until %s: no record could match", from, q.Until.Format(time.RFC3339Nano))
	}
	if s := f.status; s != "" {
		if len(s) == 3 && s[1:] == "xx" && s[0] >= '1' && s[0] <= '5' {
			q.StatusClass = int(s[0] - '0')
		} else if n, err := strconv.Atoi(s); err == nil && n >= 100 && n <= 599 {
			q.Status = n
		} else {
			return q, fmt.Errorf("-status %q: want 1xx to 5xx or a code from 100 to 599", s)
		}
	}
	if f.minMS < 0 {
		return q, fmt.Errorf("-min-ms %v: negative", f.minMS)
	}
	if !(f.minMS <= maxMS) { // NaN too
		return q, fmt.Errorf("-min-ms %v: want a number of milliseconds up to %v", f.minMS, maxMS)
	}
	q.MinDuration = time.Duration(f.minMS * float64(time.Millisecond))
	return q, nil
}
