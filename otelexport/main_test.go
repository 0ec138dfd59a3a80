package otelexport_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine (an exporter's worker,
// an OTLP connection) survives them.
//
// Against a real Jaeger (APPSTATS_JAEGER set), the OTLP/HTTP exporter's
// keep-alive connection survives: otlptracehttp pools connections in a
// process-wide transport that its Shutdown does not close (they expire after
// 90 s idle), and unlike the in-process receivers Jaeger stays up. Only then
// are idle HTTP connections tolerated.
func TestMain(m *testing.M) {
	var opts []goleak.Option
	if os.Getenv("APPSTATS_JAEGER") != "" {
		opts = append(opts,
			goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"))
	}
	goleak.VerifyTestMain(m, opts...)
}
