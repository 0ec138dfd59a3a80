package grpcstats

import (
	"fmt"
	"testing"

	"google.golang.org/grpc/status"
)

// TestUnknownError checks the messages of unknown services and methods, and
// that the services a handler remembers are bounded.
func TestUnknownError(t *testing.T) {
	h := &serverHandler{}
	msg := func(full string) string { return status.Convert(h.unknownError(full)).Message() }
	if got := msg("/pkg.Svc/M"); got != "unknown service pkg.Svc" {
		t.Errorf("before any RPC of the service: %q", got)
	}
	h.sawService("pkg.Svc")
	h.sawService("pkg.Svc")
	if got := msg("/pkg.Svc/M"); got != "unknown method M for service pkg.Svc" {
		t.Errorf("after an RPC of the service: %q", got)
	}
	for i := range 2 * maxServices {
		h.sawService(fmt.Sprint("svc", i))
	}
	if n := h.nServices.Load(); n != maxServices {
		t.Errorf("%d services remembered, want %d", n, maxServices)
	}
}
