package otelexport_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine (an exporter's worker,
// an OTLP connection) survives them. That holds against a real Jaeger too
// (APPSTATS_JAEGER set), which stays up: Close closes the OTLP/HTTP
// exporter's pooled connections.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
