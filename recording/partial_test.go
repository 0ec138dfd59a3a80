package recording_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestPartialWriteError: a sink's Write that returns a
// *recording.PartialWriteError took the batch's records but those it
// names; the recorder counts them so, for the sink and in Stats.Written. A
// Sequence keeps that when every sink that failed names its records, and
// not when one failed whole.
func TestPartialWriteError(t *testing.T) {
	partial := recording.SinkFunc(func(_ context.Context, rs []*recording.Record) error {
		return &recording.PartialWriteError{Rejected: rs[:1], Err: errors.New("full")}
	})
	ok := recording.SinkFunc(func(context.Context, []*recording.Record) error { return nil })
	failed := recording.SinkFunc(func(context.Context, []*recording.Record) error { return errors.New("down") })
	for _, tc := range []struct {
		name          string
		sink          recording.Sink
		written, drop uint64
	}{
		{"partial", partial, 3, 1},
		{"sequence of partial and ok", recording.Sequence(partial, ok), 3, 1},
		{"sequence of two partial", recording.Sequence(partial, partial), 3, 1},
		{"sequence of partial and failed", recording.Sequence(partial, failed), 0, 4},
		{"failed", failed, 0, 4},
	} {
		rec := recording.New(recording.WithSinks(tc.sink), recording.WithBatch(4, time.Hour))
		for range 4 {
			_, a := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/x"})
			a.Finish()
		}
		if err := rec.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		st := rec.Stats()
		ss := st.Sinks[0]
		if ss.Written != tc.written || ss.Dropped != tc.drop || ss.Errors != 1 || st.Written != tc.written {
			t.Errorf("%s: sink written %d, dropped %d, errors %d; recorder written %d; want %d, %d, 1, %d",
				tc.name, ss.Written, ss.Dropped, ss.Errors, st.Written, tc.written, tc.drop, tc.written)
		}
	}
}
