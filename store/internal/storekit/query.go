package storekit

import (
	"fmt"
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

// Limit checks q's ranges and returns its effective page size: q.Limit,
// [store.DefaultLimit] for 0, at most [store.MaxLimit].
func Limit(q *store.Query) (int, error) {
	switch {
	case q.Limit < 0:
		return 0, InvalidQuery("negative limit")
	case q.MinDuration < 0:
		return 0, InvalidQuery("negative minimum duration")
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
		q.WarningsOnly && s.Warnings == 0:
		return false
	}
	return true
}

// ResolveWindow fills a zero w.Until with now and checks that the window is
// not empty, for [store.Store.Stats].
func ResolveWindow(w store.Window, now time.Time) (store.Window, error) {
	if w.Until.IsZero() {
		w.Until = now
	}
	if !w.Since.Before(w.Until) {
		return w, InvalidQuery("window is empty: since must be before until")
	}
	return w, nil
}

// ResolveSeries is [ResolveWindow] for [store.Store.Series]: it also checks
// that step is positive and cuts w into at most [MaxSteps] steps.
func ResolveSeries(w store.Window, step time.Duration, now time.Time) (store.Window, error) {
	if step <= 0 {
		return w, InvalidQuery("series step must be positive")
	}
	w, err := ResolveWindow(w, now)
	if err != nil {
		return w, err
	}
	if w.Until.Sub(w.Since)/step > MaxSteps {
		return w, InvalidQuery(fmt.Sprintf("too many buckets: more than %d steps in the window", MaxSteps))
	}
	return w, nil
}
