package recording_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestFinishAfterInput finishes records with FinishAfter given odd
// durations, twice, after Finish and on a nil record, with a Borrower sink
// (records reused): each request is written once, with its own path, and
// a record finished twice is neither queued twice nor handed to two
// requests.
func TestFinishAfterInput(t *testing.T) {
	sink := &countSink{seen: make(map[string]int)}
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(8, time.Millisecond))
	var nilRecord *recording.ActiveRecord
	nilRecord.FinishAfter(time.Second) // no effect, no panic
	durations := []time.Duration{0, -time.Hour, math.MinInt64, math.MaxInt64, time.Nanosecond}
	const rounds = 50
	for i := range rounds {
		for j, d := range durations {
			path := fmt.Sprintf("/r%d/%d", i, j)
			_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
			ar.SetHeaders(map[string][]string{"X-Req": {path}})
			ar.FinishAfter(d)
			switch j % 3 {
			case 0:
				ar.FinishAfter(d) // twice
			case 1:
				ar.Finish() // after FinishAfter
			}
			_, ar2 := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path + "/after"})
			ar2.Finish()
			ar2.FinishAfter(time.Millisecond) // after Finish
		}
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := rec.Stats()
	want := rounds * len(durations) * 2
	if st.Recorded != uint64(want) || st.Written != uint64(want) {
		t.Errorf("Recorded %d, Written %d, want %d each (Dropped %d)", st.Recorded, st.Written, want, st.Dropped)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.seen) != want {
		t.Errorf("the sink got %d paths, want %d", len(sink.seen), want)
	}
	for path, n := range sink.seen {
		if n != 1 {
			t.Errorf("%s written %d times", path, n)
		}
	}
}

// TestFinishAfterDuration checks the duration FinishAfter gives the
// record: as given, and none below zero.
func TestFinishAfterDuration(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	for _, d := range []time.Duration{0, time.Millisecond, -time.Hour, math.MinInt64, math.MaxInt64} {
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: fmt.Sprint("/", int64(d))})
		ar.FinishAfter(d)
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range sink.Records() {
		var d int64
		fmt.Sscan(r.Path[1:], &d)
		want := max(time.Duration(d), 0)
		if r.Duration != want {
			t.Errorf("FinishAfter(%v): Duration %v, want %v", time.Duration(d), r.Duration, want)
		}
		if r.Overhead < 0 {
			t.Errorf("FinishAfter(%v): Overhead %v", time.Duration(d), r.Overhead)
		}
	}
}
