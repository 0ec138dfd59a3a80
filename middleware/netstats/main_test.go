package netstats_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the tests if a goroutine outlives them: connections,
// servers and recorders must all be closed by the tests' cleanups.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
