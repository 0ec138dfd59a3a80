package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
)

// lookback is how far before the newest record seen tail looks again: a
// long request is written after shorter ones that started after it.
const lookback = 2 * time.Minute

// tail prints the newest records, then new ones as they arrive, one line
// each, until ctx ends.
func tail(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) (err error) {
	fs := newFlags("tail", stderr)
	var src source
	src.flags(fs, true)
	var f filters
	f.flags(fs)
	n := fs.Int("n", 10, "print this many of the newest records first")
	every := fs.Duration("interval", time.Second, "how often to look for new records")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n < 0 || *n > store.MaxLimit {
		return fmt.Errorf("-n %d: want 0 to %d", *n, store.MaxLimit)
	}
	if *every <= 0 {
		return fmt.Errorf("-interval %v: must be positive", *every)
	}
	q, err := f.query(time.Now())
	if err != nil {
		return err
	}
	st, err := src.open(ctx, stderr, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	seen := make(map[recording.ID]time.Time) // records printed, by start
	var newest time.Time
	print := func(sums []recording.Summary) {
		for i := len(sums) - 1; i >= 0; i-- {
			s := &sums[i]
			seen[s.ID] = s.Start
			if s.Start.After(newest) {
				newest = s.Start
			}
			fmt.Fprintln(stdout, line(s))
		}
	}
	if *n > 0 {
		first := q
		first.Limit = *n
		page, err := st.List(ctx, first)
		if err != nil {
			return err
		}
		print(page.Records)
	}
	if newest.IsZero() {
		newest = time.Now()
	}
	// A shared store announces writes: look at once, not only every
	// interval.
	wake := make(chan struct{}, 1)
	if rs, ok := st.(*redisstore.Store); ok {
		subCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		go rs.Subscribe(subCtx, func(int, recording.ID) {
			select {
			case wake <- struct{}{}:
			default:
			}
		})
	}
	// unseen lists the records from since on that have not been printed.
	unseen := func(since time.Time) ([]recording.Summary, error) {
		q2 := q
		if q2.Since.Before(since) {
			q2.Since = since
		}
		q2.Limit = store.MaxLimit
		var fresh []recording.Summary
		for {
			page, err := st.List(ctx, q2)
			if err != nil {
				return nil, err
			}
			for _, s := range page.Records {
				if _, ok := seen[s.ID]; !ok {
					fresh = append(fresh, s)
				}
			}
			if page.Next == "" {
				return fresh, nil
			}
			q2.Cursor = page.Next
		}
	}
	// What the look-back window already holds before the newest record
	// printed is old, not new: mark it seen without printing, so that the
	// polls print only records written from now on (and those that started
	// after the newest printed, written since it was listed).
	old, err := unseen(newest.Add(-lookback))
	if err != nil {
		return err
	}
	var later []recording.Summary
	for _, s := range old {
		if s.Start.After(newest) {
			later = append(later, s)
		} else {
			seen[s.ID] = s.Start
		}
	}
	slices.SortStableFunc(later, func(a, b recording.Summary) int { return b.Start.Compare(a.Start) })
	print(later)
	t := time.NewTicker(*every)
	defer t.Stop()
	failing := false // the last poll failed: said once, tried again
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-wake:
		}
		since := newest.Add(-lookback)
		fresh, err := unseen(since)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// A Redis restarting, say: follow on when it answers again.
			if !failing {
				fmt.Fprintf(stderr, "appstats tail: %v (trying again every %v)\n", err, *every)
				failing = true
			}
			continue
		}
		if failing {
			fmt.Fprintln(stderr, "appstats tail: reading again")
			failing = false
		}
		slices.SortStableFunc(fresh, func(a, b recording.Summary) int { return b.Start.Compare(a.Start) })
		print(fresh)
		for id, start := range seen {
			if start.Before(since) {
				delete(seen, id)
			}
		}
	}
}

// line formats a record summary for tail: time, instance, request,
// status, duration, calls, warnings, ID.
func line(s *recording.Summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-16s %s %s", s.Start.Local().Format("2006-01-02 15:04:05.000"), s.Instance, s.Method, s.Path)
	if s.Query != "" {
		b.WriteString("?" + s.Query)
	}
	fmt.Fprintf(&b, "  %d  %s  %d calls", s.Status, dur(s.Duration), s.CallCount)
	if s.ErrorCalls > 0 {
		fmt.Fprintf(&b, " (%d failed)", s.ErrorCalls)
	}
	if s.Warnings > 0 {
		fmt.Fprintf(&b, "  %d warnings", s.Warnings)
	}
	if s.Error != "" {
		fmt.Fprintf(&b, "  error: %s", s.Error)
	}
	if s.Panic != "" {
		fmt.Fprintf(&b, "  panic: %s", s.Panic)
	}
	fmt.Fprintf(&b, "  %s", s.ID)
	return b.String()
}

// dur formats a duration with three significant digits: 812µs, 12.3ms,
// 1.25s.
func dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}
