package otelexport_test

import (
	"context"
	"log"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/go-logr/stdr"
	"go.opentelemetry.io/otel"

	"github.com/goappstats/appstats/otelexport"
)

// TestMalformedHeadersEnvRefused: OTLP headers in the environment that
// the OTLP exporters cannot parse — a "key: value" entry (no '='), a key
// that is no header name (a token ending in '=' after "Bearer "), a value
// with a '%' that escapes nothing — are refused with an error that names
// the variable and not the value, over either protocol and through each
// constructor. On main they were taken: the exporter logged the entry,
// token and all, to stderr through OpenTelemetry's global logger, and
// sent no such header.
func TestMalformedHeadersEnvRefused(t *testing.T) {
	const secret = "tok-91d0ce"
	var mu sync.Mutex
	var global strings.Builder
	otel.SetLogger(funcr.New(func(prefix, args string) {
		mu.Lock()
		global.WriteString(prefix + " " + args + "\n")
		mu.Unlock()
	}, funcr.Options{}))
	t.Cleanup(func() { otel.SetLogger(stdr.New(log.New(os.Stderr, "", log.LstdFlags|log.Lshortfile))) })

	ctors := map[string]func(context.Context, ...otelexport.Option) (*otelexport.Exporter, error){
		"NewFromEnv":  otelexport.NewFromEnv,
		"NewOTLPHTTP": otelexport.NewOTLPHTTP,
		"NewOTLPGRPC": otelexport.NewOTLPGRPC,
	}
	for _, header := range []string{
		"Authorization: Bearer " + secret,
		"Authorization: Bearer " + secret + "==",
		"x-ok=1,Authorization=Bearer%" + secret,
	} {
		for _, variable := range []string{"OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"} {
			for _, proto := range []string{"http/protobuf", "grpc"} {
				for name, ctor := range ctors {
					t.Run(name+"/"+proto+"/"+variable+"/"+header, func(t *testing.T) {
						t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+closedAddr(t))
						t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", proto)
						t.Setenv(variable, header)
						e, err := ctor(t.Context())
						if err == nil {
							e.Close(t.Context())
							t.Fatal("a malformed header taken")
						}
						if strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), variable) {
							t.Errorf("error %q; want one naming %s, without the token", err, variable)
						}
						mu.Lock()
						defer mu.Unlock()
						if strings.Contains(global.String(), secret) {
							t.Errorf("OpenTelemetry's global logger got the token: %s", global.String())
						}
					})
				}
			}
		}
	}
	// Well-formed headers, a trailing comma and blanks among them, are taken.
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://"+closedAddr(t))
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", " Authorization = Bearer%20"+secret+" ,x-tenant=a%2Cb,")
	for name, ctor := range ctors {
		e, err := ctor(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e.Close(t.Context())
	}
}
