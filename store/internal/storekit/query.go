package storekit

import (
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// MaxSteps bounds the buckets of one [store.Store.Series] answer.
const MaxSteps = 10000

// InvalidQuery returns an error wrapping [store.ErrInvalidQuery] that says
// what is wrong: "store: invalid query: <what>".
func InvalidQuery(what string) error {
	return fmt.Errorf("%w: %s", store.ErrInvalidQuery, what)
}

// InvalidCursor returns an error wrapping [store.ErrInvalidCursor] (and so
// [store.ErrInvalidQuery]) for a cursor that is not one of the store's,
// whose cursors are digits hex digits: "store: invalid query: malformed
// cursor "…": want the Next of a List page (48 hex digits)". A long
// cursor is quoted cut.
func InvalidCursor(cursor string, digits int) error {
	if len(cursor) > 64 {
		cursor = cursor[:64] + "..."
	}
	return fmt.Errorf("%w %q: want the Next of a List page (%d hex digits)", store.ErrInvalidCursor, cursor, digits)
}

// Limit checks q's ranges and returns its effective page size: q.Limit,
// [store.DefaultLimit] for 0, at most [store.MaxLimit].
//
// It also cuts q's times to those a record's start can hold (Unix
// nanoseconds): a Since before them is none, an Until after them none,
// and a Since after them or an Until before them matches no record.
func Limit(q *store.Query) (int, error) {
	lo, hi := time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)
	switch {
	case q.Since.Before(lo):
		q.Since = time.Time{}
	case q.Since.After(hi):
		q.Since = hi
	}
	switch {
	case q.Until.After(hi):
		q.Until = time.Time{}
	case !q.Until.IsZero() && q.Until.Before(lo):
		q.Until = lo
	}
	switch {
	case q.Limit < 0:
		return 0, InvalidQuery("negative limit")
	case q.MinDuration < 0:
		return 0, InvalidQuery("negative minimum duration")
	case q.MaxDuration < 0:
		return 0, InvalidQuery("negative maximum duration")
	case q.CallMethod != "" && q.CallService == "":
		return 0, InvalidQuery("a call method needs its service")
	case q.StatusClass < 0 || q.StatusClass > 5:
		return 0, InvalidQuery("status class must be 1 to 5")
	case q.Status < 0 || q.Status > 999:
		return 0, InvalidQuery("status out of range")
	case q.Limit == 0:
		return store.DefaultLimit, nil
	}
	return min(q.Limit, store.MaxLimit), nil
}

// Matches reports whether a summary satisfies q's filters (not its paging).
func Matches(q *store.Query, s *recording.Summary) bool {
	switch {
	case !q.Since.IsZero() && s.Start.Before(q.Since),
		!q.Until.IsZero() && !s.Start.Before(q.Until),
		q.Route != "" && s.Route != q.Route,
		q.Instance != "" && s.Instance != q.Instance,
		q.Method != "" && s.Method != q.Method,
		q.Status != 0 && s.Status != q.Status,
		q.StatusClass != 0 && s.Status/100 != q.StatusClass,
		q.MinDuration > 0 && s.Duration < q.MinDuration,
		q.ErrorsOnly && !s.HasError(),
		q.WarningsOnly && s.Warnings == 0,
		q.MaxDuration > 0 && s.Duration > q.MaxDuration,
		q.TraceID.IsValid() && s.TraceID != q.TraceID,
		q.PathContains != "" && !containsFold(s.Path, q.PathContains),
		q.CallService != "" && !madeCall(s, q.CallService, q.CallMethod):
		return false
	}
	return true
}

// madeCall reports whether s counts a call of service (and method, unless
// it is empty).
func madeCall(s *recording.Summary, service, method string) bool {
	for i := range s.RPCs {
		if r := &s.RPCs[i]; r.Service == service && (method == "" || r.Method == method) {
			return true
		}
	}
	return false
}

// containsFold reports whether sub is within s, ASCII letters matched
// without regard to case, without allocating.
func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if equalFoldASCII(s[i:i+n], sub) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x != y && lower(x) != lower(y) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// ClampWindow cuts w to [store.MinTime, store.MaxTime] (1677-09-21 02:00
// and 2262-04-11 22:00 UTC): a zero or earlier Since is MinTime; a set
// Until later than MaxTime is MaxTime (a zero Until stays zero). Records are stored at Unix nanoseconds, which hold no other
// times; a store counts those within a window so cut.
func ClampWindow(w store.Window) store.Window {
	lo, hi := store.MinTime(), store.MaxTime()
	clamp := func(t time.Time) time.Time {
		switch {
		case t.Before(lo):
			return lo
		case t.After(hi):
			return hi
		}
		return t
	}
	w.Since = clamp(w.Since)
	if !w.Until.IsZero() {
		w.Until = clamp(w.Until)
	}
	return w
}

// ResolveWindow fills a zero w.Until with now, checks that the window is
// not empty, and cuts it to [store.MinTime, store.MaxTime] (see [ClampWindow]; a
// window outside them is cut to an empty one, where no record is), for
// [store.Store.Stats].
func ResolveWindow(w store.Window, now time.Time) (store.Window, error) {
	if w.Until.IsZero() {
		w.Until = now
	}
	if !w.Since.Before(w.Until) {
		return w, InvalidQuery("window is empty: since must be before until")
	}
	return ClampWindow(w), nil
}

// ResolveSeries is [ResolveWindow] for [store.Store.Series]: it also checks
// that step is positive and cuts w into at most [MaxSteps] steps (see
// [Buckets]).
func ResolveSeries(w store.Window, step time.Duration, now time.Time) (store.Window, error) {
	if step <= 0 {
		return w, InvalidQuery("series step must be positive")
	}
	w, err := ResolveWindow(w, now)
	if err != nil {
		return w, err
	}
	if w.Since.Before(w.Until) && span(w.Since.UnixNano(), w.Until.UnixNano())/uint64(step) > MaxSteps {
		return w, InvalidQuery(fmt.Sprintf("too many buckets: more than %d steps in the window", MaxSteps))
	}
	return w, nil
}

// span returns b − a for a ≤ b, exactly (more than an int64 holds when a
// is negative).
func span(a, b int64) uint64 { return uint64(b) - uint64(a) }

// Buckets yields the steps of a series across [since, until) in Unix
// nanoseconds, oldest first: each step's start and end, the last cut at
// until. Its sums do not overflow, whatever the step.
func Buckets(since, until int64, step time.Duration) iter.Seq2[int64, int64] {
	return func(yield func(a, b int64) bool) {
		for a := since; a < until; {
			b := until
			if uint64(step) < span(a, until) {
				b = a + int64(step)
			}
			if !yield(a, b) {
				return
			}
			a = b
		}
	}
}
