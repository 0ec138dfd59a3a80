package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/redisstore"
)

// errUsage reports a command line the flag package has already complained
// about; errHelp, one that asked for help.
var (
	errUsage = errors.New("usage")
	errHelp  = errors.New("help")
)

// newFlags returns a flag set for a command that prints its errors and
// usage to stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("appstats "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args, mapping the flag package's errors to errUsage and
// errHelp, and refuses arguments after the flags: the commands that call it
// take none, and the flag package stops at the first, so the flags after a
// stray one ("serve -data DIR 0.0.0.0:80 -basic-auth u:p") would be
// ignored.
func parse(fs *flag.FlagSet, args []string) error {
	if err := parseArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q: the command takes flags only (-h lists them)\n", fs.Name(), fs.Arg(0))
		return errUsage
	}
	return nil
}

// parseArgs is parse for a command that takes arguments after its flags.
func parseArgs(fs *flag.FlagSet, args []string) error {
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		return errHelp
	case err != nil:
		return errUsage
	}
	return nil
}

// A source is where a command finds records: -data or -redis.
type source struct {
	data, redis, prefix string
	refresh             time.Duration
	// logger, if set, receives a Redis store's warnings (Redis away and
	// back, values skipped): serve's, on its standard error.
	logger *slog.Logger
}

func (s *source) flags(fs *flag.FlagSet, follows bool) {
	fs.StringVar(&s.data, "data", "", "a service's data directory (Badger)")
	fs.StringVar(&s.redis, "redis", "", "a Redis URL: redis://[user:password@]host:port[/db] or rediss:// (or in $"+redisURLEnv+", out of the process list)")
	fs.StringVar(&s.prefix, "prefix", "", `the key prefix of the service's records in Redis (default "appstats", or the URL's prefix=)`)
	if follows {
		fs.DurationVar(&s.refresh, "refresh", 10*time.Second, "how often to copy again a data directory a running service holds (0: never)")
	}
}

// redisURLEnv holds the Redis URL when neither -data nor -redis is given:
// its password stays out of the process list.
const redisURLEnv = "APPSTATS_REDIS_URL"

// open opens the store the flags name: for writing (import), or for
// reading, through a snapshot if a running service holds the directory.
func (s *source) open(ctx context.Context, stderr io.Writer, write bool) (store.Store, error) {
	if s.data == "" && s.redis == "" {
		s.redis = os.Getenv(redisURLEnv)
	}
	switch {
	case s.refresh < 0:
		return nil, fmt.Errorf("-refresh %v: negative (0: never)", s.refresh)
	case s.data == "" && s.redis == "":
		return nil, errors.New("no store: give -data DIR or -redis URL (or $" + redisURLEnv + ")")
	case s.data != "" && s.redis != "":
		return nil, errors.New("two stores: give -data DIR or -redis URL, not both")
	case s.redis != "":
		opts := redisstore.Options{Prefix: s.prefix, RetentionInterval: -1, Logger: s.logger}
		if !write {
			opts.FoldInterval = -1
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return redisstore.Open(ctx, s.redis, opts)
	}
	fi, err := os.Stat(s.data)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("-data %s: no such directory", s.data)
	case err != nil:
		return nil, fmt.Errorf("-data %s: %w", s.data, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("-data %s: not a directory", s.data)
	}
	if write {
		// An import persists every record it is given: a process that
		// ends when it is done has no ring in memory to hold the others.
		st, err := badgerstore.Open(s.data, badgerstore.Options{RetentionInterval: -1, RecordBudget: -1})
		if errors.Is(err, badgerstore.ErrLocked) {
			return nil, fmt.Errorf("-data %s is in use by a running service: stop it first, or import into another directory and serve that", s.data)
		}
		return st, err
	}
	if _, err := os.Stat(filepath.Join(s.data, "MANIFEST")); err != nil {
		return nil, fmt.Errorf("-data %s holds no appstats records (no Badger MANIFEST)", s.data)
	}
	st, err := badgerstore.OpenReadOnly(s.data)
	if !errors.Is(err, badgerstore.ErrLocked) {
		return st, err
	}
	ss, err := openSnapshots(s.data, s.refresh)
	if err != nil {
		return nil, err
	}
	if s.refresh > 0 {
		fmt.Fprintf(stderr, "appstats: %s is in use by a running service: reading a copy of it, taken again every %v\n", s.data, s.refresh)
	} else {
		fmt.Fprintf(stderr, "appstats: %s is in use by a running service: reading a copy of it\n", s.data)
	}
	return ss, nil
}

// errReadOnly is what a store opened for reading says to Write and Clear.
var errReadOnly = errors.New("the store is opened read-only")

// readOnly refuses writes to a store opened for reading.
type readOnly struct{ store.Store }

func (readOnly) Write(context.Context, []*recording.Record) error { return errReadOnly }
func (readOnly) Clear(context.Context) error                      { return errReadOnly }

// readOnlyTraces is readOnly over a store that keeps execution traces,
// which it serves (store.ExecTraceStore): the dashboard offers them for
// download.
type readOnlyTraces struct {
	readOnly
	traces store.ExecTraceStore
}

func (r readOnlyTraces) ExecTrace(ctx context.Context, id recording.ID) ([]byte, error) {
	return r.traces.ExecTrace(ctx, id)
}

// readOnlyHealth is readOnly over a store that reports its health
// (store.HealthReporter): the dashboard's health panel shows it.
type readOnlyHealth struct {
	readOnly
	health store.HealthReporter
}

func (r readOnlyHealth) Health() store.Health { return r.health.Health() }

// readOnlyTracesHealth is readOnly over a store that does both.
type readOnlyTracesHealth struct {
	readOnlyTraces
	health store.HealthReporter
}

func (r readOnlyTracesHealth) Health() store.Health { return r.health.Health() }

// readOnlyOf returns st refusing writes, and serving the execution traces
// it keeps and its health if it reports it: what the store offers the
// dashboard, neither more nor less.
func readOnlyOf(st store.Store) store.Store {
	ts, traces := st.(store.ExecTraceStore)
	hr, health := st.(store.HealthReporter)
	switch {
	case traces && health:
		return readOnlyTracesHealth{readOnlyTraces{readOnly{st}, ts}, hr}
	case traces:
		return readOnlyTraces{readOnly{st}, ts}
	case health:
		return readOnlyHealth{readOnly{st}, hr}
	}
	return readOnly{st}
}

// snapshots reads copies (badgerstore.Snapshot) of a data directory a
// running service holds, taken again every refresh, swapping each new copy
// in for the last.
type snapshots struct {
	src, root string
	refresh   time.Duration

	mu      sync.RWMutex
	cur     *badgerstore.Store
	curDir  string
	taken   int
	closed  bool
	onTaken func(added int, newest recording.ID) // called after a new copy is swapped in

	stop chan struct{}
	done chan struct{}
}

var _ store.ExecTraceStore = (*snapshots)(nil)

func openSnapshots(src string, refresh time.Duration) (*snapshots, error) {
	root, err := os.MkdirTemp("", "appstats-snapshot-")
	if err != nil {
		return nil, err
	}
	s := &snapshots{src: src, root: root, refresh: refresh, stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.take(); err != nil {
		os.RemoveAll(root)
		return nil, err
	}
	if refresh > 0 {
		go s.loop()
	} else {
		close(s.done)
	}
	return s, nil
}

// take copies the directory and swaps the copy in.
func (s *snapshots) take() error {
	s.taken++
	dir := filepath.Join(s.root, fmt.Sprint(s.taken))
	if err := badgerstore.Snapshot(s.src, dir); err != nil {
		return err
	}
	st, err := badgerstore.Open(dir, badgerstore.Options{RetentionInterval: -1, FoldInterval: -1})
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("opening a copy of %s: %w", s.src, err)
	}
	if h := st.Health(); h.MovedAside != "" {
		// Open found the copy damaged and started empty: serving that
		// would show a store without records. Keep the last copy.
		st.Close()
		os.RemoveAll(dir)
		os.RemoveAll(h.MovedAside)
		return fmt.Errorf("opening a copy of %s: the copy was damaged: %w", s.src, store.ErrCorrupt)
	}
	s.mu.Lock()
	old, oldDir := s.cur, s.curDir
	s.cur, s.curDir = st, dir
	onTaken := s.onTaken
	s.mu.Unlock()
	if old != nil {
		added := st.Len() - old.Len()
		old.Close()
		os.RemoveAll(oldDir)
		if onTaken != nil && added != 0 {
			var newest recording.ID
			if p, err := st.List(context.Background(), store.Query{Limit: 1}); err == nil && len(p.Records) > 0 {
				newest = p.Records[0].ID
			}
			onTaken(added, newest)
		}
	}
	return nil
}

func (s *snapshots) loop() {
	defer close(s.done)
	t := time.NewTicker(s.refresh)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		// A failed copy keeps the last one: the next tick tries again.
		s.take()
	}
}

// notify makes every new copy call fn with the number of records it
// added (negative if retention deleted more) and the newest record's ID.
func (s *snapshots) notify(fn func(added int, newest recording.ID)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onTaken = fn
}

// with runs fn on the current copy.
func (s *snapshots) with(fn func(*badgerstore.Store) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	return fn(s.cur)
}

func (s *snapshots) Write(context.Context, []*recording.Record) error { return errReadOnly }
func (s *snapshots) Clear(context.Context) error                      { return errReadOnly }

func (s *snapshots) Get(ctx context.Context, id recording.ID) (r *recording.Record, err error) {
	err = s.with(func(st *badgerstore.Store) error { r, err = st.Get(ctx, id); return err })
	return r, err
}

func (s *snapshots) List(ctx context.Context, q store.Query) (p store.Page, err error) {
	err = s.with(func(st *badgerstore.Store) error { p, err = st.List(ctx, q); return err })
	return p, err
}

func (s *snapshots) Stats(ctx context.Context, w store.Window) (st *store.Stats, err error) {
	err = s.with(func(b *badgerstore.Store) error { st, err = b.Stats(ctx, w); return err })
	return st, err
}

func (s *snapshots) Series(ctx context.Context, w store.Window, step time.Duration) (bs []store.Bucket, err error) {
	err = s.with(func(b *badgerstore.Store) error { bs, err = b.Series(ctx, w, step); return err })
	return bs, err
}

func (s *snapshots) ExecTrace(ctx context.Context, id recording.ID) (data []byte, err error) {
	err = s.with(func(b *badgerstore.Store) error { data, err = b.ExecTrace(ctx, id); return err })
	return data, err
}

// Close stops taking copies and removes them.
func (s *snapshots) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.cur.Close()
	return errors.Join(err, os.RemoveAll(s.root))
}
