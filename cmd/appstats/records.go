package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/ui"
)

// export writes the records that match the filters, newest first, one JSON
// object per line.
func export(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) (err error) {
	fs := newFlags("export", stderr)
	var src source
	src.flags(fs, false)
	var f filters
	f.flags(fs)
	limit := fs.Int("limit", 0, "at most this many records, the newest (0: all)")
	out := fs.String("o", "", "write to this file instead of standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	q, err := f.query(time.Now())
	if err != nil {
		return err
	}
	if *limit < 0 {
		return fmt.Errorf("-limit %d: negative", *limit)
	}
	st, err := src.open(ctx, stderr, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	dst := stdout
	if *out != "" {
		file, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, file.Close()) }()
		dst = file
	}
	w := bufio.NewWriter(dst)
	n := 0
	q.Limit = store.MaxLimit
	for done := false; !done; {
		page, err := st.List(ctx, q)
		if err != nil {
			return err
		}
		for _, sum := range page.Records {
			rec, err := st.Get(ctx, sum.ID)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted by retention since the listing
			}
			if err != nil {
				return err
			}
			b, err := ui.MarshalRecord(rec)
			if err != nil {
				return err
			}
			w.Write(b)
			w.WriteByte('\n')
			if n++; n == *limit {
				break
			}
		}
		q.Cursor = page.Next
		done = page.Next == "" || n == *limit
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "appstats: exported %d records\n", n)
	return nil
}

// maxLine bounds a record's line in an import: the JSON of a record with
// a thousand calls and their stacks fits well.
const maxLine = 64 << 20

// importRecords reads records, one JSON object per line, from files or
// standard input, and writes those not stored yet.
func importRecords(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (err error) {
	fs := newFlags("import", stderr)
	var src source
	src.flags(fs, false)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: appstats import (-data DIR | -redis URL) [FILE ...]   (no FILE or -: standard input)")
		fs.PrintDefaults()
	}
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	st, err := src.open(ctx, stderr, true)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	// Redis expires each hour's keys MaxAge after the hour ends (open
	// keeps the default): a record of an hour past that would be deleted
	// as it is written, so it is skipped, and said.
	expired := func(*recording.Record) bool { return false }
	if _, ok := st.(*redisstore.Store); ok {
		now := time.Now()
		expired = func(r *recording.Record) bool {
			end := r.Start.Truncate(time.Hour).Add(time.Hour)
			return !end.Add(redisstore.DefaultMaxAge).After(now)
		}
	}
	var imported, present, old int
	var batch []*recording.Record
	flush := func() error {
		var fresh []*recording.Record
		for _, r := range batch {
			if expired(r) {
				old++
				continue
			}
			// A record stored twice would count twice in the rollups.
			switch _, err := st.Get(ctx, r.ID); {
			case err == nil:
				present++
			case errors.Is(err, store.ErrNotFound):
				fresh = append(fresh, r)
			default:
				return err
			}
		}
		batch = batch[:0]
		if err := st.Write(ctx, fresh); err != nil {
			return err
		}
		imported += len(fresh)
		return nil
	}
	for _, name := range files {
		in := stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		} else {
			name = "standard input"
		}
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), maxLine)
		for line := 1; sc.Scan(); line++ {
			if len(sc.Bytes()) == 0 {
				continue
			}
			r, err := ui.UnmarshalRecord(sc.Bytes())
			if err != nil {
				return fmt.Errorf("%s:%d: %w", name, line, err)
			}
			if batch = append(batch, r); len(batch) == 256 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := sc.Err(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if old > 0 {
		fmt.Fprintf(stdout, "imported %d records (%d already stored; %d skipped: older than Redis keeps records, %v)\n", imported, present, old, redisstore.DefaultMaxAge)
		return nil
	}
	fmt.Fprintf(stdout, "imported %d records (%d already stored)\n", imported, present)
	return nil
}
