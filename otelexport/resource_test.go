package otelexport_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestResource checks the resource of the exported spans: service.name by
// the option, else OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES, else
// unknown_service:<executable>; telemetry.sdk.*; the schema URL; and the
// other attributes of the environment kept.
func TestResource(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, option, serviceEnv, attrsEnv string
		want                               string
	}{
		{"fallback", "", "", "", "unknown_service:" + filepath.Base(exe)},
		{"resource attributes", "", "", "service.name=from-attrs,deployment.environment.name=test", "from-attrs"},
		{"OTEL_SERVICE_NAME wins", "", "from-env", "service.name=from-attrs", "from-env"},
		{"the option wins", "from-option", "from-env", "service.name=from-attrs", "from-option"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("OTEL_SERVICE_NAME", tt.serviceEnv)
			t.Setenv("OTEL_RESOURCE_ATTRIBUTES", tt.attrsEnv)
			var opts []otelexport.Option
			if tt.option != "" {
				opts = append(opts, otelexport.WithServiceName(tt.option))
			}
			mem := tracetest.NewInMemoryExporter()
			exp := otelexport.New(mem, opts...)
			r := fixture(t)
			exp.Write(t.Context(), []*recording.Record{r})
			if err := exp.ForceFlush(t.Context()); err != nil {
				t.Fatal(err)
			}
			spans := mem.GetSpans()
			exp.Close(t.Context())
			if len(spans) == 0 {
				t.Fatal("nothing exported")
			}
			s := spans[0]
			res := s.Resource.Set()
			get := func(k attribute.Key) string { v, _ := res.Value(k); return v.String() }
			if got := get(semconv.ServiceNameKey); got != tt.want {
				t.Errorf("service.name %q, want %q", got, tt.want)
			}
			if get(semconv.TelemetrySDKNameKey) != "appstats" || get(semconv.TelemetrySDKLanguageKey) != str(semconv.TelemetrySDKLanguageGo) ||
				get(semconv.TelemetrySDKVersionKey) == "" || get(semconv.TelemetrySDKVersionKey) != otelexport.Version() {
				t.Errorf("telemetry.sdk.*: %v", res.ToSlice())
			}
			if get(semconv.ServiceInstanceIDKey) != r.Instance {
				t.Errorf("service.instance.id %q, want the record's %q", get(semconv.ServiceInstanceIDKey), r.Instance)
			}
			if tt.attrsEnv != "" && tt.option == "" && tt.serviceEnv == "" && get("deployment.environment.name") != "test" {
				t.Errorf("OTEL_RESOURCE_ATTRIBUTES lost: %v", res.ToSlice())
			}
			if s.Resource.SchemaURL() != semconv.SchemaURL || s.InstrumentationScope.SchemaURL != semconv.SchemaURL ||
				s.InstrumentationScope.Version != otelexport.Version() || s.InstrumentationScope.Name != otelexport.ScopeName {
				t.Errorf("schema %q, scope %+v", s.Resource.SchemaURL(), s.InstrumentationScope)
			}
		})
	}
	if otelexport.SchemaURL != semconv.SchemaURL {
		t.Errorf("SchemaURL %q, want semconv's %q", otelexport.SchemaURL, semconv.SchemaURL)
	}
}

type typedError struct{}

func (typedError) Error() string     { return "typed" }
func (typedError) ErrorType() string { return "shop.OutOfStock" }

// TestErrorTypeAsSemconv: the error.type wrappers record (the standard
// library's only, below recording) is semconv's ErrorType.
func TestErrorTypeAsSemconv(t *testing.T) {
	for _, err := range []error{
		nil, errors.New("x"), fmt.Errorf("a: %w", fs.ErrNotExist), fmt.Errorf("a: %w: %w", fs.ErrNotExist, fs.ErrClosed),
		&net.OpError{Op: "dial", Err: errors.New("refused")}, typedError{}, fmt.Errorf("wrapped: %w", typedError{}),
		&fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist}, http.ErrAbortHandler,
	} {
		if got, want := convention.ErrorType(err), semconv.ErrorType(err).Value.AsString(); got != want {
			t.Errorf("ErrorType(%#v) = %q, semconv says %q", err, got, want)
		}
	}
	for _, tt := range []struct {
		method, name, original string
	}{{"GET", str(semconv.HTTPRequestMethodGet), ""}, {"QUERY", str(semconv.HTTPRequestMethodQuery), ""},
		{"purge", str(semconv.HTTPRequestMethodOther), "purge"}} {
		if name, orig := convention.HTTPMethod(tt.method); name != tt.name || orig != tt.original {
			t.Errorf("HTTPMethod(%q) = %q, %q; want %q, %q", tt.method, name, orig, tt.name, tt.original)
		}
	}
	if convention.RPCSystemGRPC != str(semconv.RPCSystemNameGRPC) || convention.Other != str(semconv.ErrorTypeOther) {
		t.Error("convention's values differ from semconv's")
	}
	if tr, typ := convention.NetworkTransport("udp6"); tr != str(semconv.NetworkTransportUDP) || typ != str(semconv.NetworkTypeIPv6) {
		t.Errorf("udp6: %s %s", tr, typ)
	}
}

// TestOverrideCallerSampling: with recording.OverrideCaller, a request its
// caller did not sample is exported, and its calls send flags 01.
func TestOverrideCallerSampling(t *testing.T) {
	got := make(chan string, 1)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Header.Get("traceparent")
	}))
	defer down.Close()
	mem := tracetest.NewInMemoryExporter()
	exp := otelexport.New(mem)
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink, exp), recording.WithCallerSampling(recording.OverrideCaller))
	app := httptest.NewServer(httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", down.URL, nil)
		if resp, err := (&http.Client{Transport: httpstats.NewTransport(nil)}).Do(req); err == nil {
			resp.Body.Close()
		}
	})))
	defer app.Close()
	caller := recording.TraceContext{TraceID: recording.NewTraceID(), SpanID: recording.NewSpanID()}
	req, _ := http.NewRequest("GET", app.URL+"/", nil)
	req.Header.Set("traceparent", recording.FormatTraceparent(caller))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	tp := <-got
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := exp.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
	spans := mem.GetSpans()
	exp.Close(t.Context())
	r := sink.Records()[0]
	if r.Unsampled || len(spans) != 2 || spans[0].SpanContext.TraceID().String() != caller.TraceID.String() {
		t.Errorf("record unsampled %v, %d spans exported; want 2 in the caller's trace", r.Unsampled, len(spans))
	}
	want := recording.FormatTraceparent(recording.TraceContext{TraceID: caller.TraceID, SpanID: r.Calls[0].SpanID, Sampled: true})
	if tp != want {
		t.Errorf("downstream got %q, want %q", tp, want)
	}
}
