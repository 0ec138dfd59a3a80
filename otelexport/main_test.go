package otelexport_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine (an exporter's worker,
// an OTLP connection) survives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
