package recording

import (
	"fmt"
	"log/slog"
	"math"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/goappstats/appstats/internal/convention"
)

// Defaults of a [Recorder]'s settings.
const (
	DefaultMaxCalls        = 1000
	DefaultMaxStack        = 16
	DefaultMaxSummary      = 256
	DefaultQueueSize       = 1024
	DefaultQueueBytes      = 32 << 20 // 32 MiB
	DefaultBatchSize       = 256
	DefaultBatchInterval   = 200 * time.Millisecond
	DefaultSinkTimeout     = 10 * time.Second
	DefaultRepeatThreshold = 5
)

// Defaults of the byte caps on the strings a record keeps; see [WithMaxName]
// and the options after it. With them a call keeps at most about 20 KiB of
// text (most of it in attributes) however much its wrapper was given, and a
// record at most 16 KiB of headers.
const (
	DefaultMaxName        = 256      // service, method, route, user, remote address; header and attribute names
	DefaultMaxText        = 1024     // path, query, error messages, panic values
	DefaultMaxHeaderValue = 1024     // one header value
	DefaultMaxHeaderBytes = 16 << 10 // all of a request's headers together
	DefaultMaxAttrs       = 32       // attributes of a record or a call
	DefaultMaxAttrValue   = 256      // one attribute value
)

// An Option configures a [Recorder].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	sampleRate      float64
	include         []Filter
	exclude         []Filter
	maxCalls        int
	maxStack        int
	maxSummary      int
	maxName         int
	maxText         int
	maxHeaderValue  int
	maxHeaderBytes  int
	maxAttrs        int
	maxAttrValue    int
	redaction       Redaction
	queueSize       int
	queueBytes      int64
	batchSize       int
	batchInterval   time.Duration
	batchGiven      bool // WithBatch set batchSize
	sinkTimeout     time.Duration
	logger          *slog.Logger
	sinks           []Sink
	instance        string
	repeatThreshold int
	propagator      Propagator
	rootMarker      RootMarker       // propagator, when it is one
	flight          *FlightRecording // nil: no execution traces
	cost            *CostModel       // nil: calls are not priced
	callerSampling  CallerSampling
	// admitsAll says the options admit every request: no filter, a
	// sample rate of 1 or more, and callers' unsampled traces recorded
	// (see Recorder.sample). Set by newConfig.
	admitsAll bool
}

func newConfig(opts []Option) config {
	host, _ := os.Hostname()
	c := config{
		sampleRate:      1,
		maxCalls:        DefaultMaxCalls,
		maxStack:        DefaultMaxStack,
		maxSummary:      DefaultMaxSummary,
		maxName:         DefaultMaxName,
		maxText:         DefaultMaxText,
		maxHeaderValue:  DefaultMaxHeaderValue,
		maxHeaderBytes:  DefaultMaxHeaderBytes,
		maxAttrs:        DefaultMaxAttrs,
		maxAttrValue:    DefaultMaxAttrValue,
		redaction:       DefaultRedaction(),
		queueSize:       DefaultQueueSize,
		queueBytes:      DefaultQueueBytes,
		batchSize:       DefaultBatchSize,
		batchInterval:   DefaultBatchInterval,
		sinkTimeout:     DefaultSinkTimeout,
		instance:        fmt.Sprintf("%s/%d", host, os.Getpid()),
		repeatThreshold: DefaultRepeatThreshold,
		propagator:      W3CPropagator{},
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	// Both queues and each batch are allocated whole: a size past the
	// cap made New panic (a queue of math.MaxInt slots) or the process
	// die out of memory (2³² slots), and a batch larger than the queue
	// could never fill. A size the caller gave that is cut is logged
	// once, as a warning (the default batch cut to a smaller queue is
	// not: the caller gave no batch size).
	if c.queueSize > maxQueueSize {
		c.logger.Warn("recording: WithQueueSize over its maximum, taken as the maximum",
			"option", "WithQueueSize", "given", c.queueSize, "used", maxQueueSize)
		c.queueSize = maxQueueSize
	}
	if c.batchSize > c.queueSize {
		if c.batchGiven {
			c.logger.Warn("recording: WithBatch size over the queue size, taken as the queue size",
				"option", "WithBatch", "given", c.batchSize, "used", c.queueSize)
		}
		c.batchSize = c.queueSize
	}
	c.redaction.compile()
	c.instance = convention.Truncate(c.instance, c.maxName)
	c.admitsAll = !c.filtered() && c.sampleRate >= 1 && c.callerSampling != SkipUnsampled
	return c
}

// WithSampleRate records the given fraction of requests: 1 (the default)
// records all, 0 none. Values outside [0, 1] are clamped.
func WithSampleRate(f float64) Option {
	return optionFunc(func(c *config) {
		switch {
		case f != f || f < 0: // NaN or negative
			f = 0
		case f > 1:
			f = 1
		}
		c.sampleRate = f
	})
}

// WithInclude records only requests that match at least one of the filters.
// Calling it again adds filters.
//
// Filters are the one way to choose which requests are recorded: every server
// wrapper (middleware/httpstats, middleware/grpcstats, [Recorder.StartRecord]
// called by hand) is subject to them, and the appstats facade adds an
// exclusion for its dashboard's prefix.
func WithInclude(filters ...Filter) Option {
	return optionFunc(func(c *config) { c.include = append(c.include, filters...) })
}

// WithExclude never records requests that match any of the filters. Exclusion
// wins over inclusion. Calling it again adds filters. For example, to leave
// out a dashboard mounted at /stats/ and gRPC health checks:
//
//	recording.WithExclude(
//		recording.Filter{PathPrefix: "/stats/"},
//		recording.Filter{PathPrefix: "/grpc.health.v1.Health/"},
//	)
func WithExclude(filters ...Filter) Option {
	return optionFunc(func(c *config) { c.exclude = append(c.exclude, filters...) })
}

// WithMaxCalls keeps at most n calls per record (default [DefaultMaxCalls]);
// the rest are counted in [Record.DroppedCalls]. n <= 0 keeps the default;
// n past [math.MaxInt32] is cut to it (a record counts its calls in 32
// bits).
func WithMaxCalls(n int) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.maxCalls, min(n, math.MaxInt32)) })
}

// WithMaxStack keeps at most n frames of each call's stack (default
// [DefaultMaxStack]); 0 captures no stacks.
func WithMaxStack(n int) Option {
	return optionFunc(func(c *config) {
		if n >= 0 {
			c.maxStack = n
		}
	})
}

// WithMaxSummary truncates request and response summaries to n bytes (default
// [DefaultMaxSummary]). n <= 0 keeps the default.
//
// Like every byte cap of the recorder, it cuts a longer string on a UTF-8
// boundary and appends a note of what was cut, "…[truncated N bytes]"
// (beginning with [TruncatedMarker]): a string over its cap is shortened,
// never dropped, and never kept whole.
func WithMaxSummary(n int) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.maxSummary, n) })
}

// WithMaxName caps names at n bytes (default [DefaultMaxName]): a call's
// service and method, a record's method, route, user and remote address, the
// names of headers, attributes and phases. n <= 0 keeps the default.
func WithMaxName(n int) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.maxName, n) })
}

// WithMaxText caps the longer texts at n bytes (default [DefaultMaxText]): a
// record's path, redacted query, error and panic value, and a call's error.
// The path and the query are cut after their redaction, so a secret value
// is redacted whole wherever the cap falls. n <= 0 keeps the default.
func WithMaxText(n int) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.maxText, n) })
}

// WithMaxHeaders caps the request headers a record keeps: each value at
// value bytes (default [DefaultMaxHeaderValue]) and all of them together at
// total bytes (default [DefaultMaxHeaderBytes]), where each value counts its
// name, itself and 32 bytes. Values past the total are left out and counted
// under the pseudo-header [HeaderTruncated]. Values <= 0 keep the defaults.
func WithMaxHeaders(value, total int) Option {
	return optionFunc(func(c *config) {
		convention.SetPositive(&c.maxHeaderValue, value)
		convention.SetPositive(&c.maxHeaderBytes, total)
	})
}

// WithMaxAttrs caps the attributes of a record and of each call at n
// (default [DefaultMaxAttrs]) and each attribute value at value bytes
// (default [DefaultMaxAttrValue]); keys are names ([WithMaxName]). The
// attributes past n are not kept: the attribute "appstats.dropped_attributes"
// counts them. Neither it nor a record's span parent
// ("appstats.span.parent", see [ActiveRecord.SetServerSpan]) is capped or
// counted against n. Values <= 0 keep the defaults.
func WithMaxAttrs(n, value int) Option {
	return optionFunc(func(c *config) {
		convention.SetPositive(&c.maxAttrs, n)
		convention.SetPositive(&c.maxAttrValue, value)
	})
}

// WithRedaction replaces the default [Redaction] rules.
func WithRedaction(r Redaction) Option {
	return optionFunc(func(c *config) { c.redaction = r })
}

// WithQueueSize bounds the queues of finished records (default
// [DefaultQueueSize]): the queue of records waiting to be prepared for the
// sinks, and each sink's own queue. A record that does not fit is dropped
// and counted; a request never waits. n <= 0 keeps the default; an n
// larger than 65,536 (2¹⁶) is taken as that, and [New] logs a warning
// through [WithLogger]: each queue's slots are allocated whole, some 16
// bytes a record for the first queue and 40 for each sink's, whatever the
// records hold. (The default [WithQueueBytes]
// holds about as many of the smallest records.)
func WithQueueSize(n int) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.queueSize, n) })
}

// maxQueueSize is the largest queue size (see WithQueueSize).
const maxQueueSize = 1 << 16

// WithQueueBytes bounds the same queues in bytes (default
// [DefaultQueueBytes]), as the recorder estimates a record's size: its
// [Record] struct (440 bytes on 64-bit platforms), plus what its strings,
// calls, stacks, headers and attributes point to. So memory held for
// records waiting is bounded by n for the records not yet prepared plus n
// for each sink, whatever the records hold. n <= 0 keeps the default.
// (Earlier versions counted a queued record's ActiveRecord, 304 bytes,
// rather than its Record, which is what the queue holds: each record now
// counts 136 bytes more, so a tight n holds fewer records and drops
// sooner. [Stats.QueueBytes] and [SinkStats.QueueBytes] count the same
// way.)
func WithQueueBytes(n int64) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.queueBytes, n) })
}

// WithBatch sets how many records the background writer hands the sinks at
// once and how long it waits to fill a batch. Zero values keep the defaults.
// A size larger than the queue's ([WithQueueSize]) is taken as the queue's:
// no batch holds more records than a queue ([New] logs a warning through
// [WithLogger] when it cuts one).
// A recorder that has had nothing to write for a whole interval does not
// wake every interval: the next record wakes its writer.
func WithBatch(size int, interval time.Duration) Option {
	return optionFunc(func(c *config) {
		if size > 0 {
			c.batchGiven = true
		}
		convention.SetPositive(&c.batchSize, size)
		convention.SetPositive(&c.batchInterval, interval)
	})
}

// WithSinkTimeout bounds each [Sink.Write] call (default [DefaultSinkTimeout]):
// its context is cancelled once d has passed since the call began, an
// eighth of d later at most. (A sink's calls within an eighth of d share
// one context, which ends when the first of them has had d and an eighth
// more; a context is not cancelled when its Write returns.) A d longer
// than some 146 years (math.MaxInt64, say, for no timeout) is taken as
// that: no timeout, in practice.
func WithSinkTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.sinkTimeout, min(d, maxSinkTimeout)) })
}

// maxSinkTimeout is the longest sink timeout. A Write's context may
// outlast the timeout by an eighth (see sinkQueue.writeCtx), and the two
// summed must fit in a [time.Duration]: from a longer timeout the sum
// wrapped around to a deadline in the past, and every Write began with its
// context done.
const maxSinkTimeout = time.Duration(math.MaxInt64 / 2)

// WithLogger sets the logger for the recorder's own problems (failing sinks,
// dropped records), at most one message every 10 seconds, with the number
// held back. The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { convention.SetNonNil(&c.logger, l) })
}

// WithSinks adds sinks that receive every finished record. Each sink is
// written from a goroutine of its own, through a bounded queue of its own,
// so a slow or stuck sink drops (and counts, in [Stats.Sinks]) its own
// backlog while the others keep receiving every record. To have a sink see
// records only after another one has written them, give both as one
// [Sequence]. Nil sinks are ignored, and so are nil pointers in a Sink,
// such as the nil *otelexport.Exporter that otelexport.NewFromEnv returns
// without an endpoint.
func WithSinks(sinks ...Sink) Option {
	return optionFunc(func(c *config) {
		for _, s := range sinks {
			if !nilSink(s) {
				c.sinks = append(c.sinks, s)
			}
		}
	})
}

// nilSink reports whether s is nil, or a nil pointer, map, function or
// channel in a Sink: what a constructor returns for a sink that is off
// (otelexport.NewFromEnv without an endpoint), whose Write would panic.
func nilSink(s Sink) bool {
	if s == nil {
		return true
	}
	switch v := reflect.ValueOf(s); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// WithInstance sets [Record.Instance] (default "hostname/pid"), capped like
// a name ([WithMaxName]).
func WithInstance(name string) Option {
	return optionFunc(func(c *config) {
		if name != "" {
			c.instance = name
		}
	})
}

// WithRepeatThreshold sets how many identical calls in one record raise a
// [WarnRepeated] warning (default [DefaultRepeatThreshold]). n <= 1 keeps the
// default.
func WithRepeatThreshold(n int) Option {
	return optionFunc(func(c *config) {
		if n > 1 {
			c.repeatThreshold = n
		}
	})
}

// A Filter matches requests. Every non-empty field must match; an empty Filter
// matches every request.
//
// The fields are matched against the [RequestInfo] a server wrapper starts the
// record with: for HTTP the request's method, URL path and headers; for gRPC
// the method "POST", the full method ("/pkg.Service/Method") as the path and
// the incoming metadata (lowercase keys) as headers. Route is known only when
// the request ends, so a filter with a Route is judged then: the request is
// recorded and its record dropped.
type Filter struct {
	Method     string // exact, case-insensitive, e.g. "GET"
	Path       string // exact, e.g. "/healthz" or the gRPC full method "/grpc.health.v1.Health/Check"
	PathPrefix string // e.g. "/api/", or "/grpc.health.v1.Health/" for a gRPC service
	Route      string // exact route, e.g. "GET /users/{id}"; checked when the request ends
	Header     string // a header (gRPC: metadata key) that must be present
	Value      string // with Header: the value it must have
}

func (f *Filter) matchStart(method, path string, h map[string][]string) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, method) {
		return false
	}
	if f.Path != "" && f.Path != path {
		return false
	}
	if f.PathPrefix != "" && !strings.HasPrefix(path, f.PathPrefix) {
		return false
	}
	if f.Header != "" {
		vs := headerValues(h, f.Header)
		if len(vs) == 0 {
			return false
		}
		if f.Value != "" {
			found := false
			for _, v := range vs {
				if v == f.Value {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	return true
}

func (f *Filter) matchRoute(route string) bool {
	return f.Route == "" || f.Route == route
}

func headerValues(h map[string][]string, name string) []string {
	if vs, ok := h[name]; ok {
		return vs
	}
	for k, vs := range h {
		if strings.EqualFold(k, name) {
			return vs
		}
	}
	return nil
}

// WithPropagator sets how trace context is read from incoming requests and
// written into outgoing ones (default [W3CPropagator]). A p that is a
// [RootMarker] also marks the context of each record whose trace ID the
// recorder makes.
func WithPropagator(p Propagator) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.propagator = p
			c.rootMarker, _ = p.(RootMarker)
		}
	})
}

// CallerSampling says what a [Recorder] does with a request whose caller
// did not sample its trace (an incoming W3C traceparent with flags 00; see
// [RequestInfo.Unsampled]).
type CallerSampling uint8

// The ways to treat a request its caller did not sample.
const (
	// FollowCaller, the default, records the request (subject to the
	// sample rate and filters, as any other) for the dashboard, but keeps
	// the caller's decision, as OpenTelemetry's parent-based sampler does:
	// the record is [Record.Unsampled], its calls send flags 00 downstream,
	// and exporters (package otelexport) leave it out.
	FollowCaller CallerSampling = iota
	// SkipUnsampled does not record the request; its calls still pass the
	// caller's trace context on, flags 00 unchanged.
	SkipUnsampled
	// OverrideCaller samples the request whatever its caller decided: its
	// calls send flags 01 downstream, and it is exported like any other,
	// as a child of a span its caller does not export.
	OverrideCaller
)

// WithCallerSampling sets what the recorder does with a request whose
// caller did not sample its trace (default [FollowCaller]).
func WithCallerSampling(s CallerSampling) Option {
	return optionFunc(func(c *config) {
		if s <= OverrideCaller {
			c.callerSampling = s
		}
	})
}
