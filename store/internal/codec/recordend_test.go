package codec

import (
	"bytes"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

// TestRecordEndDictParts: appendRecordEndDict writes a record's parts as
// appendRecordParts does, whether it takes its short way (no call, no
// execution trace: one zero byte, without the call) or not — records
// without calls, with calls with and without costs, with an execution
// trace with and without a snapshot — and a record of each kind with a
// header of several values reads back as it was written.
func TestRecordEndDictParts(t *testing.T) {
	base := storetest.Records(3, time.Unix(1700000000, 0), time.Second, 4)
	none := *base[0]
	none.Calls = nil
	costly := *base[1]
	costly.Calls = append([]recording.Call(nil), costly.Calls...)
	costly.Calls[0].Cost = 0.25
	traced := none
	traced.ExecTrace = &recording.ExecTrace{Data: []byte("trace"), Taken: time.Unix(1700000001, 0), Reason: "slow"}
	snap := none
	snap.ExecTrace = &recording.ExecTrace{Size: 100, Taken: time.Unix(1700000002, 0), Reason: "slow", Snapshot: recording.ID{1, 2, 3}}
	for name, r := range map[string]*recording.Record{
		"no calls": &none, "calls": base[2], "costly calls": &costly, "trace, no calls": &traced, "snapshot": &snap,
	} {
		var m MemDict
		e := enc{}
		e.i(int64(r.DroppedCalls))
		e.n(len(r.Warnings))
		want := appendRecordParts(appendAttrsDict(nil, r.Attrs, &MemDict{}), r)
		// The warnings' bytes (none here) come first in both.
		if len(r.Warnings) != 0 {
			t.Fatalf("%s: the test's records have no warnings", name)
		}
		want = append(e.b, want...)
		if got := appendRecordEndDict(nil, r, &m); !bytes.Equal(got, want) {
			t.Errorf("%s: appendRecordEndDict wrote %x, want %x", name, got, want)
		}
		r.Headers = map[string][]string{"Accept": {"a", "b", "c"}, "X": {"1"}, "Y": nil}
		b := AppendRecordWithoutStacksDict(nil, r, &m)
		got, err := DecodeRecordWithoutStacksDict(b, m.Strings())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(got.Headers["Accept"]) != 3 || got.Headers["Accept"][2] != "c" || got.Headers["X"][0] != "1" || len(got.Headers["Y"]) != 0 {
			t.Errorf("%s: headers read back %q", name, got.Headers)
		}
		if (got.ExecTrace == nil) != (r.ExecTrace == nil) || got.Cost() != r.Cost() {
			t.Errorf("%s: trace %v, cost %v; want %v, %v", name, got.ExecTrace, got.Cost(), r.ExecTrace, r.Cost())
		}
	}
}
