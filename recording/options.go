package recording

import (
	"fmt"
	"log/slog"
	"os"
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
	DefaultBatchSize       = 128
	DefaultBatchInterval   = 200 * time.Millisecond
	DefaultSinkTimeout     = 10 * time.Second
	DefaultRepeatThreshold = 5
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
	redaction       Redaction
	queueSize       int
	batchSize       int
	batchInterval   time.Duration
	sinkTimeout     time.Duration
	logger          *slog.Logger
	sinks           []Sink
	instance        string
	repeatThreshold int
	propagator      Propagator
	callerSampling  CallerSampling
}

func newConfig(opts []Option) config {
	host, _ := os.Hostname()
	c := config{
		sampleRate:      1,
		maxCalls:        DefaultMaxCalls,
		maxStack:        DefaultMaxStack,
		maxSummary:      DefaultMaxSummary,
		redaction:       DefaultRedaction(),
		queueSize:       DefaultQueueSize,
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
	c.redaction.compile()
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
// the rest are counted in [Record.DroppedCalls]. n <= 0 keeps the default.
func WithMaxCalls(n int) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.maxCalls, n) })
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
func WithMaxSummary(n int) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.maxSummary, n) })
}

// WithRedaction replaces the default [Redaction] rules.
func WithRedaction(r Redaction) Option {
	return optionFunc(func(c *config) { c.redaction = r })
}

// WithQueueSize bounds the queue of finished records waiting for the sinks
// (default [DefaultQueueSize]). When it is full, records are dropped and
// counted. n <= 0 keeps the default.
func WithQueueSize(n int) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.queueSize, n) })
}

// WithBatch sets how many records the background writer hands the sinks at
// once and how long it waits to fill a batch. Zero values keep the defaults.
func WithBatch(size int, interval time.Duration) Option {
	return optionFunc(func(c *config) {
		convention.SetPositive(&c.batchSize, size)
		convention.SetPositive(&c.batchInterval, interval)
	})
}

// WithSinkTimeout bounds each [Sink.Write] call (default [DefaultSinkTimeout]).
func WithSinkTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.sinkTimeout, d) })
}

// WithLogger sets the logger for the recorder's own problems (failing sinks,
// dropped records), at most one message every 10 seconds, with the number
// held back. The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { convention.SetNonNil(&c.logger, l) })
}

// WithSinks adds sinks that receive every finished record.
func WithSinks(sinks ...Sink) Option {
	return optionFunc(func(c *config) {
		for _, s := range sinks {
			if s != nil {
				c.sinks = append(c.sinks, s)
			}
		}
	})
}

// WithInstance sets [Record.Instance] (default "hostname/pid").
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
// written into outgoing ones (default [W3CPropagator]).
func WithPropagator(p Propagator) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.propagator = p
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
