package otelexport

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/goappstats/appstats/internal/convention"
)

// Defaults of an [Exporter]'s settings.
const (
	DefaultQueueSize     = 2048             // records waiting for export
	DefaultBatchSpans    = 1024             // spans per ExportSpans call, at most
	DefaultExportTimeout = 10 * time.Second // per ExportSpans call
	DefaultRunningWait   = time.Second      // how long a record waits for calls still running at its request's end
)

// An Option configures an [Exporter].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	serviceName   string
	resAttrs      []attribute.KeyValue
	queueSize     int
	batchSpans    int
	exportTimeout time.Duration
	timeoutSet    bool // exportTimeout came from WithExportTimeout
	runningWait   time.Duration
	logger        *slog.Logger
	httpOpts      []otlptracehttp.Option
	grpcOpts      []otlptracegrpc.Option
	watch         *watch // set by NewOTLPHTTP: see watch
}

func newConfig(opts []Option) config {
	c := config{
		queueSize:     DefaultQueueSize,
		batchSpans:    DefaultBatchSpans,
		exportTimeout: DefaultExportTimeout,
		runningWait:   DefaultRunningWait,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c // a nil logger discards: see convention.NewLogger
}

// withWatch sets the watch of the OTLP exporter's requests (NewOTLPHTTP's).
func withWatch(w *watch) Option {
	return optionFunc(func(c *config) { c.watch = w })
}

// WithServiceName sets the service.name resource attribute of the exported
// spans. Without it the exporter uses $OTEL_SERVICE_NAME, else a service.name
// in $OTEL_RESOURCE_ATTRIBUTES, else "unknown_service:" and the name of the
// running executable, as OpenTelemetry SDKs do.
func WithServiceName(name string) Option {
	return optionFunc(func(c *config) { c.serviceName = name })
}

// WithResourceAttributes adds attributes to the resource of the exported
// spans (for example deployment.environment.name). They are merged over
// $OTEL_RESOURCE_ATTRIBUTES; service.name (see [WithServiceName]),
// service.instance.id (the record's Instance) and telemetry.sdk.* are set by
// the exporter itself.
func WithResourceAttributes(attrs ...attribute.KeyValue) Option {
	return optionFunc(func(c *config) { c.resAttrs = append(c.resAttrs, attrs...) })
}

// WithQueueSize bounds how many records wait for export (default
// [DefaultQueueSize]). When the queue is full, records are dropped and
// counted in [Stats.Dropped]. n <= 0 keeps the default.
func WithQueueSize(n int) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.queueSize, n) })
}

// WithBatchSpans bounds how many spans one call of the underlying exporter's
// ExportSpans carries (default [DefaultBatchSpans]). n <= 0 keeps the default.
func WithBatchSpans(n int) Option {
	return optionFunc(func(c *config) { convention.SetPositive(&c.batchSpans, n) })
}

// WithExportTimeout bounds each call of the underlying exporter's ExportSpans
// (default [DefaultExportTimeout]; for the OTLP exporters made by
// [NewOTLPHTTP], [NewOTLPGRPC] and [NewFromEnv], the OTLP timeout of the
// environment, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT or
// OTEL_EXPORTER_OTLP_TIMEOUT, when set). It bounds [Exporter.Close]'s
// exports too, all of them together. d <= 0 keeps the default.
func WithExportTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.exportTimeout, c.timeoutSet = d, true
		}
	})
}

// WithRunningCallWait sets how long, at most, a record with calls still
// running when its request ended waits before export for them to end
// (default [DefaultRunningWait], counted from the request's end): a call
// that ends in time is exported with its true end and final attributes
// (see [recording.Record.FinalCall]), the others with the request's end;
// all keep appstats.call.running=true. At most the queue's size of records
// wait; [Exporter.ForceFlush] and [Exporter.Close] export them at once.
// d < 0 exports such records without waiting; 0 keeps the default.
func WithRunningCallWait(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d != 0 {
			c.runningWait = d
		}
	})
}

// WithLogger sets the logger for the exporter's own problems (failed exports,
// at most one message every 10 seconds, with at most 1 KiB of the error's
// text: an OTLP/HTTP exporter's holds the collector's answer). The values
// of the OTLP headers that [NewOTLPHTTP] and [NewOTLPGRPC] send (of the
// environment or of code, the 64 sent most recently, a client's rotated
// token included), and their words of 4 bytes or more, read
// "[REDACTED]" in the errors logged and in ForceFlush's and Close's: a collector may echo
// the request's Authorization in its answer. The default discards
// everything.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) { convention.SetNonNil(&c.logger, l) })
}

// WithHTTPOptions passes options to the OTLP/HTTP exporter made by
// [NewOTLPHTTP] (and by [NewFromEnv] for the http/protobuf protocol). Options
// given in code win over the OTEL_EXPORTER_OTLP_* environment variables.
// A nil option is skipped.
func WithHTTPOptions(opts ...otlptracehttp.Option) Option {
	return optionFunc(func(c *config) { c.httpOpts = appendNonNil(c.httpOpts, opts) })
}

// WithGRPCOptions passes options to the OTLP/gRPC exporter made by
// [NewOTLPGRPC] (and by [NewFromEnv] for the grpc protocol). Options given in
// code win over the OTEL_EXPORTER_OTLP_* environment variables. A nil
// option is skipped, as is a nil dial option given with
// [otlptracegrpc.WithDialOption].
func WithGRPCOptions(opts ...otlptracegrpc.Option) Option {
	return optionFunc(func(c *config) { c.grpcOpts = appendNonNil(c.grpcOpts, opts) })
}

// appendNonNil appends to dst the options of opts that are not nil: the
// OTLP exporters call every option they are given, and a nil one panics.
func appendNonNil[T comparable](dst, opts []T) []T {
	var zero T
	for _, o := range opts {
		if o != zero {
			dst = append(dst, o)
		}
	}
	return dst
}
