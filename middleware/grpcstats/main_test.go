package grpcstats_test

import (
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/grpc/grpclog"
)

// TestMain installs the gRPC logger that turns the interop cases' fatal
// errors into failures of the case (see interop_test.go); it must come
// before any use of gRPC. It fails the tests if a goroutine outlives them:
// servers, client connections and recorders must all be stopped by the
// tests' cleanups.
func TestMain(m *testing.M) {
	grpclog.SetLoggerV2(interopLog)
	goleak.VerifyTestMain(m)
}
