package recording

import (
	"context"
	"testing"
	"time"
)

// forceFlush waits until r has handed every record finished so far to its
// sinks, failing the test if that takes a minute.
func forceFlush(t *testing.T, r *Recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := r.ForceFlush(ctx); err != nil {
		t.Fatalf("ForceFlush: %v (%+v)", err, r.Stats())
	}
}
