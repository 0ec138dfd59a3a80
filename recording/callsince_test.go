package recording_test

import (
	"context"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestCallSince checks that a call's Since is the time since its start,
// as time.Since(c.StartTime()) measures it, for a record started now (a
// monotonic start), one given a start without a monotonic reading, and a
// call started at a time of its own; and 0 for a nil call.
func TestCallSince(t *testing.T) {
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	for _, tc := range []struct {
		name   string
		start  time.Time // the record's; zero: now
		callAt time.Time // the call's; zero: now
	}{
		{name: "now"},
		{name: "wall start", start: time.Now().Add(-time.Hour).Round(0)},
		{name: "call at", callAt: time.Now().Add(-time.Minute)},
		{name: "wall start, call at", start: time.Now().Add(-time.Hour).Round(0), callAt: time.Now().Add(-time.Minute).Round(0)},
	} {
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/", Start: tc.start})
		c := ar.StartCallAt("test", "call", tc.callAt, recording.SpanID{})
		for range 3 {
			before := time.Since(c.StartTime())
			d := c.Since()
			after := time.Since(c.StartTime())
			if d < before || d > after {
				t.Errorf("%s: Since %v, not between %v and %v", tc.name, d, before, after)
			}
			time.Sleep(time.Millisecond)
		}
		c.End(nil)
		ar.Finish()
	}
	if d := (*recording.ActiveCall)(nil).Since(); d != 0 {
		t.Errorf("a nil call's Since is %v", d)
	}
}
