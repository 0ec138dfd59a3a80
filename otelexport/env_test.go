package otelexport_test

import (
	"testing"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// TestNewFromEnv configures exporters only through the standard environment
// variables and checks that records reach the receiver they name.
func TestNewFromEnv(t *testing.T) {
	rcvGRPC, rcvHTTP := &receiver{}, &receiver{}
	grpcAddr := startGRPCReceiver(t, rcvGRPC)
	httpAddr := startHTTPReceiver(t, rcvHTTP)
	tests := []struct {
		name    string
		env     map[string]string
		want    *receiver // nil: no exporter
		wantErr bool
	}{
		{"no endpoint", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, nil, false},
		{"default protocol is http/protobuf", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + httpAddr,
		}, rcvHTTP, false},
		{"traces endpoint", map[string]string{
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://" + httpAddr + "/v1/traces",
			"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/protobuf",
		}, rcvHTTP, false},
		{"grpc", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + grpcAddr,
			"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
		}, rcvGRPC, false},
		{"traces protocol wins", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT":        "http://" + grpcAddr,
			"OTEL_EXPORTER_OTLP_PROTOCOL":        "http/protobuf",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc",
		}, rcvGRPC, false},
		// The switches every OpenTelemetry SDK reads: with them an
		// endpoint configures nothing. On main both were ignored and
		// records were exported.
		{"OTEL_TRACES_EXPORTER=none", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + httpAddr,
			"OTEL_TRACES_EXPORTER":        "none",
		}, nil, false},
		{"OTEL_SDK_DISABLED=true", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + grpcAddr,
			"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
			"OTEL_SDK_DISABLED":           "TRUE", // the spec's booleans are case-insensitive
		}, nil, false},
		{"OTEL_TRACES_EXPORTER=otlp", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + httpAddr,
			"OTEL_TRACES_EXPORTER":        "otlp",
			"OTEL_SDK_DISABLED":           "false",
		}, rcvHTTP, false},
		{"unknown protocol", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + httpAddr,
			"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
		}, nil, true},
	}
	vars := []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
		"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SERVICE_NAME",
		"OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range vars {
				t.Setenv(v, tt.env[v])
			}
			t.Setenv("OTEL_SERVICE_NAME", "from-env")
			exp, err := otelexport.NewFromEnv(t.Context())
			if (err != nil) != tt.wantErr {
				t.Fatalf("NewFromEnv: %v", err)
			}
			if tt.want == nil {
				if exp != nil {
					t.Fatalf("got an exporter, want none")
				}
				return
			}
			r := fixture(t)
			r.SpanID = recording.NewSpanID() // tell this subtest's spans apart
			exp.Write(t.Context(), []*recording.Record{r})
			if err := exp.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			got, ok := tt.want.spans()[r.SpanID.String()]
			if !ok {
				t.Fatalf("record's span not received; stats %+v", exp.Stats())
			}
			if got.Resource["service.name"] != "from-env" {
				t.Errorf("service.name %v, want from-env", got.Resource["service.name"])
			}
		})
	}
}
