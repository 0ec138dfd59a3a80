package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/goappstats/appstats/store"
)

// stats prints the stats of a window as text tables: totals, RPCs, paths
// and (with records of several) instances.
func stats(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) (err error) {
	fs := newFlags("stats", stderr)
	var src source
	src.flags(fs, false)
	window := fs.Duration("window", time.Hour, "the window: this long up to now, or up to -until")
	until := fs.String("until", "", "the window's end (RFC 3339; default now)")
	if err := parse(fs, args); err != nil {
		return err
	}
	w := store.Window{Until: time.Now()}
	if *until != "" {
		t, err := time.Parse(time.RFC3339Nano, *until)
		if err != nil {
			return fmt.Errorf("-until %q: want an RFC 3339 time such as 2026-11-22T10:00:00Z", *until)
		}
		w.Until = t
	}
	if *window <= 0 {
		return fmt.Errorf("-window %v: must be positive", *window)
	}
	w.Since = w.Until.Add(-*window)
	st, err := src.open(ctx, stderr, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	s, err := st.Stats(ctx, w)
	if err != nil {
		return err
	}
	writeStats(stdout, s)
	return nil
}

// writeStats writes s as text tables.
func writeStats(out io.Writer, s *store.Stats) {
	var total time.Duration
	var calls int64
	for _, r := range s.Routes {
		total += r.Total
		calls += r.Calls
	}
	fmt.Fprintf(out, "%s to %s: %d requests, %d errors", s.Window.Since.Local().Format(time.DateTime), s.Window.Until.Local().Format(time.DateTime), s.Requests, s.Errors)
	if s.Requests > 0 {
		fmt.Fprintf(out, " (%.1f%%), mean %s, %.1f calls per request", 100*float64(s.Errors)/float64(s.Requests),
			dur(total/time.Duration(s.Requests)), float64(calls)/float64(s.Requests))
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	table := func(title, head string) {
		tw.Flush()
		fmt.Fprintf(out, "\n%s\n", title)
		fmt.Fprintln(tw, head)
	}
	var rpcTotal time.Duration
	for _, r := range s.RPCs {
		rpcTotal += r.Total
	}
	table("RPC stats", "RPC\tcalls\trequests\ttotal\tmean\tp50\tp95\tp99\terrors\tshare\t")
	for _, r := range s.RPCs {
		fmt.Fprintf(tw, "%s %s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t\n", r.Service, r.Method, r.Count, r.Requests,
			dur(r.Total), dur(r.Mean), dur(r.P50), dur(r.P95), dur(r.P99), r.Errors, share(r.Total, rpcTotal))
	}
	table("Path stats", "route\trequests\tcalls/req\tmean\tp50\tp95\tp99\terrors\ttotal\t")
	for _, r := range s.Routes {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t%s\t%s\t%d\t%s\t\n", name(r.Route, "(no route)"), r.Requests, perRequest(r.Calls, r.Requests),
			dur(r.Mean), dur(r.P50), dur(r.P95), dur(r.P99), r.Errors, dur(r.Total))
	}
	if len(s.Instances) > 1 {
		table("Instances", "instance\trequests\tshare\tcalls/req\tmean\tp50\tp95\tp99\terrors\t")
		for _, in := range s.Instances {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%.1f\t%s\t%s\t%s\t%s\t%d\t\n", name(in.Instance, "(unnamed)"), in.Requests,
				share(time.Duration(in.Requests), time.Duration(s.Requests)), perRequest(in.Calls, in.Requests),
				dur(in.Mean), dur(in.P50), dur(in.P95), dur(in.P99), in.Errors)
		}
	}
	tw.Flush()
}

func share(part, whole time.Duration) string {
	if whole <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(part)/float64(whole))
}

func perRequest(calls, requests int64) float64 {
	if requests == 0 {
		return 0
	}
	return float64(calls) / float64(requests)
}

func name(s, empty string) string {
	if s == "" {
		return empty
	}
	return s
}
