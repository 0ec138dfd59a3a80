package redisstore

import (
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/goappstats/appstats/store"
)

// Options configures a [Store]. The zero value is ready to use: every zero
// field takes the default documented on it.
type Options struct {
	// Prefix starts every key the store uses (and its notification
	// channel), so that several services can share one Redis: records of
	// a service written under another prefix are invisible to this one.
	// Default "appstats". It may not contain '{', '}' or glob characters.
	Prefix string

	// MaxKeys is how many distinct routes, RPCs (service and method),
	// route×RPC pairs and instances each minute and hour rollup and each
	// Stats answer keeps; the others fold into one store.Other entry (see
	// [store.DefaultMaxKeys]). Default [store.DefaultMaxKeys] (500);
	// negative: no cap, but for the length of a stored rollup: one that
	// would be longer than the store reads back (64 MiB) has its least
	// busy keys folded into store.Other as it is written, and the log says
	// so, so that no setting makes stored stats unreadable.
	MaxKeys int

	// Retention, enforced by every open store (one at a time, under a
	// lease) every RetentionInterval, and by [Store.EnforceRetention].

	// MaxAge is how long records are kept, by the clock of the process
	// enforcing retention (a record's age is that clock's time less the
	// record's start, which its writer's clock gave: clocks minutes apart
	// keep records minutes more or less). Each hour's keys also expire
	// MaxAge after the hour ends, by Redis's clock, so an abandoned store
	// empties itself. Default 7 days; negative: forever.
	MaxAge time.Duration
	// MaxRecords caps the number of records; the oldest go first.
	// Default 1,000,000; negative: no cap.
	MaxRecords int64
	// MaxBytes caps the memory the store takes in Redis: its encoded
	// records, summaries and rollups plus an estimate of Redis's own
	// overhead per record ([RecordOverhead]); the oldest records go first.
	// Default 1 GiB; negative: no cap.
	MaxBytes int64
	// RetentionInterval is how often retention runs in the background.
	// Default 1 minute; negative: never (call EnforceRetention yourself).
	RetentionInterval time.Duration

	// FoldInterval is how often per-write rollup deltas are folded into the
	// minute and hour rollups (also when a write finds 64 pending for its
	// hour). Reads always add the deltas not yet folded, so folding less
	// often costs only reading time. Default 5 seconds; negative: only
	// when 64 are pending, and on Close.
	FoldInterval time.Duration

	// Outages.

	// WriteTimeout bounds one Write (all its round trips). A Write that
	// fails or times out drops its records and counts them
	// ([Store.Health]); writes after it are dropped at once, without
	// waiting for Redis, for a backoff that doubles from 250 ms up to 5 s
	// while Redis stays unreachable. Default 2 seconds.
	WriteTimeout time.Duration

	// Logger receives the store's warnings (corrupt entries skipped,
	// background failures, at most one every 10 seconds). Nil means silent.
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultPrefix            = "appstats"
	DefaultMaxAge            = 7 * 24 * time.Hour
	DefaultMaxRecords        = 1_000_000
	DefaultMaxBytes          = 1 << 30
	DefaultRetentionInterval = time.Minute
	DefaultFoldInterval      = 5 * time.Second
	DefaultWriteTimeout      = 2 * time.Second
)

func (o Options) withDefaults() (Options, error) {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if strings.ContainsAny(o.Prefix, "{}*?[]\\") {
		return o, fmt.Errorf("redisstore: prefix %q: '{', '}' and glob characters are not allowed", o.Prefix)
	}
	switch {
	case o.MaxKeys == 0:
		o.MaxKeys = store.DefaultMaxKeys
	case o.MaxKeys < 0:
		o.MaxKeys = 0 // no cap, as codec.NewBoundedRollup reads it
	}
	if o.MaxAge == 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.MaxRecords == 0 {
		o.MaxRecords = DefaultMaxRecords
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.RetentionInterval == 0 {
		o.RetentionInterval = DefaultRetentionInterval
	}
	if o.FoldInterval == 0 {
		o.FoldInterval = DefaultFoldInterval
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
