package appstats_test

import (
	"strings"
	"testing"

	"github.com/goappstats/appstats"
)

// TestOTLPEndpointPasswordNotShown: an OTLP endpoint that is not a URL is
// refused by Open, over either protocol and from the environment, with an
// error that does not show its password. (Over gRPC and from the
// environment it was accepted: the exporter logged it, password and all,
// through OpenTelemetry's global logger and sent to its default endpoint.)
func TestOTLPEndpointPasswordNotShown(t *testing.T) {
	for _, tc := range []struct{ name, endpoint, proto, env string }{
		{name: "http escape", endpoint: "http://user:hunter2%zz@127.0.0.1:1"},
		{name: "http no scheme", endpoint: "user:hunter2@127.0.0.1:1"},
		{name: "grpc escape", endpoint: "http://user:hunter2%zz@127.0.0.1:1", proto: "grpc"},
		{name: "grpc no scheme", endpoint: "user:hunter2@127.0.0.1:1", proto: "grpc"},
		// A password that starts with digits and holds a '?' parses as
		// host "user", port "99", and a query.
		{name: "http host:port", endpoint: "http://user:99?hunter2@127.0.0.1:1"},
		{name: "grpc host:port", endpoint: "http://user:99?hunter2@127.0.0.1:1", proto: "grpc"},
		{name: "env host:port", env: "http://user:99#hunter2@127.0.0.1:1"},
		{name: "env", env: "http://user:hunter2%zz@127.0.0.1:1"},
		{name: "env grpc", env: "http://user:hunter2%zz@127.0.0.1:1", proto: "grpc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := appstats.Config{InMemory: true, OTLPEndpoint: tc.endpoint, OTLPProtocol: tc.proto}
			if tc.env != "" {
				t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", tc.env)
				t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", tc.proto)
				cfg.OTLPProtocol = ""
			}
			as, err := appstats.Open(cfg)
			if err == nil {
				as.Close()
				t.Fatal("Open took an OTLP endpoint that is not a URL")
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error shows the password: %v", err)
			}
			if !strings.Contains(err.Error(), "127.0.0.1:1") {
				t.Errorf("the error does not name the endpoint's host: %v", err)
			}
		})
	}
}

// TestOTLPEndpointWithoutScheme: a host:port with no scheme is refused
// with an error that shows the form wanted, with the protocol's port (the
// SDK would log it and export to its default endpoint, localhost, whatever
// host it names).
func TestOTLPEndpointWithoutScheme(t *testing.T) {
	for _, tc := range []struct{ proto, want string }{
		{"grpc", "http://host:4317"},
		{"http/protobuf", "http://host:4318"},
	} {
		t.Run(tc.proto, func(t *testing.T) {
			t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "10.1.2.3:4317")
			t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", tc.proto)
			as, err := appstats.Open(appstats.Config{InMemory: true})
			if err == nil {
				as.Close()
				t.Fatal("Open took an OTLP endpoint with no scheme")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "10.1.2.3:4317") {
				t.Errorf("the error = %v, want one naming the value and %s", err, tc.want)
			}
		})
	}
}
