package recording_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine (the preparer, a
// sink's writer) survives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
