package otelexport_test

import (
	"context"
	"log"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/go-logr/stdr"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"google.golang.org/grpc"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// A nil option in any of the exporter's option lists — its own, the OTLP
// exporters' (WithHTTPOptions, WithGRPCOptions), a dial option given with
// otlptracegrpc.WithDialOption — is skipped: the exporter is made and
// exports. On main a nil in WithGRPCOptions or WithHTTPOptions panicked
// inside otlptracegrpc.New / otlptracehttp.New.
func TestNilOptionsSkipped(t *testing.T) {
	cases := map[string]func(endpoint string) (*otelexport.Exporter, error){
		"WithGRPCOptions(nil)": func(endpoint string) (*otelexport.Exporter, error) {
			return otelexport.NewOTLPGRPC(t.Context(), nil, otelexport.WithGRPCOptions(nil,
				otlptracegrpc.WithEndpointURL(endpoint), nil))
		},
		"WithDialOption(nil)": func(endpoint string) (*otelexport.Exporter, error) {
			return otelexport.NewOTLPGRPC(t.Context(), otelexport.WithGRPCOptions(
				otlptracegrpc.WithEndpointURL(endpoint), otlptracegrpc.WithDialOption(nil, grpc.WithUserAgent("mine"), nil)))
		},
		"WithHTTPOptions(nil)": func(endpoint string) (*otelexport.Exporter, error) {
			return otelexport.NewOTLPHTTP(t.Context(), nil, otelexport.WithHTTPOptions(nil,
				otlptracehttp.WithEndpointURL(endpoint+"/v1/traces"), nil))
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			rcv := &receiver{}
			var endpoint string
			if strings.HasPrefix(name, "WithHTTP") {
				endpoint = httpCollector(rcv.ServeHTTP, false)(t)
			} else {
				endpoint = grpcCollector(rcv.Export, false)(t)
			}
			var e *otelexport.Exporter
			var err error
			func() {
				defer func() {
					if v := recover(); v != nil {
						t.Fatalf("New panicked: %v\n%s", v, debug.Stack())
					}
				}()
				e, err = mk(endpoint)
			}()
			if err != nil {
				t.Fatal(err)
			}
			if err := e.Write(t.Context(), []*recording.Record{fixture(t)}); err != nil {
				t.Fatal(err)
			}
			if err := e.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := len(rcv.spans()); n == 0 {
				t.Errorf("the collector received no span")
			}
		})
	}
}

// A malformed otlptracegrpc.WithEndpointURL is logged once, by
// otlptracegrpc, through OpenTelemetry's global logger. On main it was
// logged twice: NewOTLPGRPC applied every option once more, by
// reflection, to find the user's dial options.
func TestMalformedEndpointURLLoggedOnce(t *testing.T) {
	var mu sync.Mutex
	var global strings.Builder
	otel.SetLogger(funcr.New(func(prefix, args string) {
		mu.Lock()
		global.WriteString(prefix + " " + args + "\n")
		mu.Unlock()
	}, funcr.Options{}))
	t.Cleanup(func() { otel.SetLogger(stdr.New(log.New(os.Stderr, "", log.LstdFlags|log.Lshortfile))) })
	e, err := otelexport.NewOTLPGRPC(t.Context(), otelexport.WithGRPCOptions(
		otlptracegrpc.WithEndpointURL("http://[::1"), otlptracegrpc.WithDialOption(grpc.WithUserAgent("mine"))))
	if err != nil {
		t.Fatal(err)
	}
	e.Close(t.Context())
	mu.Lock()
	defer mu.Unlock()
	if n := strings.Count(global.String(), "parse endpoint url"); n != 1 {
		t.Errorf("the malformed endpoint URL was logged %d times, want once:\n%s", n, global.String())
	}
}
