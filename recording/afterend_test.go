package recording_test

import (
	"errors"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestAfterEnd pins down what ActiveCall's documentation says of a call
// used past its end: End again changes nothing; a setter after End still
// changes the call while its record runs; once the record has ended,
// nothing changes it, and a Finish again, or calls started then, change
// nothing either (the latter counted as late).
func TestAfterEnd(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Method: "GET", Path: "/x"})
	c := recording.StartCall(ctx, "db", "q")
	c.End(nil)
	c.End(errors.New("second End"))
	c.SetAttr("after.end", "kept")
	ar.Finish()
	c.SetAttr("after.finish", "dropped")
	c.SetError("after finish")
	c.End(errors.New("after finish"))
	ar.Finish()
	recording.StartCall(ctx, "db", "late").End(nil)
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	recs := sink.Records()
	if len(recs) != 1 || len(recs[0].Calls) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	got := recs[0].Calls[0]
	if got.Error != "" || got.Attr("after.end") != "kept" || got.Attr("after.finish") != "" {
		t.Errorf("call: error %q, after.end %q, after.finish %q; want none, kept, none", got.Error, got.Attr("after.end"), got.Attr("after.finish"))
	}
	if late := rec.Stats().LateCalls; late != 1 {
		t.Errorf("%d late calls, want 1", late)
	}
}
