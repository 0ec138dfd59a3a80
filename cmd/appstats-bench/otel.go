package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The reference scenarios run the hello and fanout scenarios with
// OpenTelemetry's otelhttp in appstats' place: the same handler, the same
// client calls, measured the same way against the same bare configuration.
// Their ratio is otelhttp's ÷ bare, which no target applies to: it shows
// what the usual way of tracing these requests costs on the same machine in
// the same run, beside appstats' rows.
const otelPrefix = "otel-"

// isReference reports whether the scenario named is a reference scenario:
// an otel- one, flight-floor (Go's tracer alone, the floor under the
// flight scenario), fanout-floor (net/http carrying a traceparent alone,
// the floor under the fanout scenario) or aa-hello (the method's own
// noise).
func isReference(name string) bool {
	return strings.HasPrefix(name, otelPrefix) || name == floorScenario || name == fanoutFloorScenario || name == aaScenario
}

// otelTracing is a reference scenario's OpenTelemetry SDK: every span
// sampled, batched and handed to an exporter that counts and discards
// them, as middleware/httpstats' benchmarks set up otelhttp.
type otelTracing struct {
	tp       *sdktrace.TracerProvider
	exported atomic.Int64
}

func (o *otelTracing) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	o.exported.Add(int64(len(spans)))
	return nil
}

func (o *otelTracing) Shutdown(context.Context) error { return nil }

// newOtelTracing starts the SDK's tracer provider, shut down with e.
func newOtelTracing(e *env) *otelTracing {
	o := &otelTracing{}
	o.tp = sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithBatcher(o))
	e.otel = o
	e.closers = append(e.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return o.tp.Shutdown(ctx)
	})
	return o
}

// flush waits, at most limit, until the batch processor has exported the
// spans ended so far, and returns how long it waited.
func (o *otelTracing) flush(limit time.Duration) time.Duration {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	o.tp.ForceFlush(ctx)
	return time.Since(t0)
}

func (o *otelTracing) options() []otelhttp.Option {
	return []otelhttp.Option{otelhttp.WithTracerProvider(o.tp), otelhttp.WithPropagators(propagation.TraceContext{})}
}

// setupOtel builds the reference scenario for base, "hello" or "fanout".
func setupOtel(e *env, o options, base string) error {
	ot := newOtelTracing(e)
	switch base {
	case "hello":
		e.note = "Reference, not a target: the hello handler with otelhttp.NewHandler in appstats' place (OpenTelemetry SDK, every span sampled, a batch span processor, an exporter that discards): the \"recorded\" rows are otelhttp's."
		e.path = "/hello"
		e.bare = helloMux()
		e.recorded = otelhttp.NewHandler(helloMux(), "hello", ot.options()...)
	case "fanout":
		backend, tr, err := fanoutBackend(e, o)
		if err != nil {
			return err
		}
		e.note = fmt.Sprintf("Reference, not a target: the fanout handler (%d sequential GETs to a loopback backend) with otelhttp.NewHandler and otelhttp.NewTransport in appstats' place (OpenTelemetry SDK, every span sampled, a batch span processor, an exporter that discards): the \"recorded\" rows are otelhttp's.", fanoutCalls)
		e.path = "/fanout"
		e.bare = fanoutMux(backend, &http.Client{Transport: tr}, nil)
		e.recorded = otelhttp.NewHandler(fanoutMux(backend, &http.Client{Transport: otelhttp.NewTransport(tr, ot.options()...)}, nil), "fanout", ot.options()...)
	default:
		return errors.New("no reference scenario for " + base)
	}
	e.report = func() string {
		return fmt.Sprintf("OpenTelemetry: %d spans exported (warm-up included).", ot.exported.Load())
	}
	return nil
}

// helloMux is the hello scenarios' app.
func helloMux() *http.ServeMux {
	app := http.NewServeMux()
	app.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello")
	})
	return app
}

// itemMux is the fanout scenarios' backend.
func itemMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /item/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "item "+r.PathValue("id"))
	})
	return mux
}

// fanoutMux is the fanout scenarios' app: fanoutCalls GETs to backend
// through client, each with header as its request's header when it is not
// nil (a header no call changes: net/http only reads a request's).
func fanoutMux(backend string, client *http.Client, header http.Header) *http.ServeMux {
	app := http.NewServeMux()
	app.HandleFunc("GET /fanout", func(w http.ResponseWriter, r *http.Request) {
		for i := range fanoutCalls {
			if err := getWith(r.Context(), client, backend+"/item/"+strconv.Itoa(i), header); err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
		}
		io.WriteString(w, "ok")
	})
	return app
}
