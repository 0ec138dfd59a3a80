package grpcstats_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests if a goroutine outlives them: servers, client
// connections and recorders must all be stopped by the tests' cleanups.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
