package codec

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

var writeGolden = flag.Bool("codec.write-golden", false, "rewrite testdata/v2-golden.bin from the current encoders")

// goldenValues encodes fixed records, their summaries and a rollup of
// them: one-byte and longer varints (negative ones too), strings shorter
// and longer than 127 bytes, shared and fresh stack frames.
func goldenValues() [][]byte {
	at := time.Unix(1700000000, 5)
	full := storetest.FullRecord(at, 1)
	full.Headers = map[string][]string{"Accept": {"text/html", "*/*"}} // one key: map order is random
	long := storetest.Record20(at.Add(time.Second), 2)
	long.Headers = nil
	long.Path = "/" + strings.Repeat("p", 300)
	long.Calls[3].Request = strings.Repeat("SELECT 1; ", 40)
	long.Calls[4].Start = -3 * time.Millisecond
	long.Calls[5].Duration = 1 << 40
	long.RequestBytes = -1
	long.Calls[6].Stack[0].Line = 1 << 20
	var out [][]byte
	ru := NewRollup()
	for _, r := range []*recording.Record{full, long} {
		sum := r.Summary()
		durs := CallDurations(r, &sum)
		out = append(out, AppendRecord(nil, r), AppendSummary(nil, &sum, durs))
		if r == long { // one route, instance and RPC: map order is random
			ru.Add(&sum, durs)
			ru.AddCounted(&sum, durs)
		}
	}
	return append(out, AppendRollup(nil, ru))
}

// TestEncodingGolden checks that the encoders write, byte for byte, what
// the encoders of version 2 records and summaries and version 4 rollups
// wrote when testdata/v2-golden.bin was made: an encoder made faster
// must not change what it writes without a new version.
func TestEncodingGolden(t *testing.T) {
	name := filepath.Join("testdata", "v2-golden.bin")
	got := goldenValues()
	if *writeGolden {
		var b []byte // each value after its length, as a uvarint
		for _, v := range got {
			b = append(binary.AppendUvarint(b, uint64(len(v))), v...)
		}
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			t.Fatalf("%s is corrupt", name)
		}
		want, b = append(want, b[k:k+int(n)]), b[k+int(n):]
	}
	if len(want) != len(got) {
		t.Fatalf("%s holds %d values, want %d", name, len(want), len(got))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("value %d: encoded %d bytes differing from the %d stored", i, len(got[i]), len(want[i]))
		}
	}
}

// TestEncodingSharedStacks: calls whose stacks are one slice (as the
// recorder's stack cache gives calls made from one place) encode as
// calls with equal stacks of their own do.
func TestEncodingSharedStacks(t *testing.T) {
	shared := storetest.Record20(time.Unix(1700000000, 0), 1)
	own := storetest.Record20(time.Unix(1700000000, 0), 1)
	shared.Headers, own.Headers = nil, nil // map order is random
	for i := range shared.Calls {
		shared.Calls[i].Stack = shared.Calls[0].Stack
		own.Calls[i].Stack = slices.Clone(shared.Calls[0].Stack)
	}
	own.Calls[3].Stack = own.Calls[3].Stack[1:] // a shorter stack between
	shared.Calls[3].Stack = shared.Calls[3].Stack[1:]
	a, b := AppendRecord(nil, shared), AppendRecord(nil, own)
	if !bytes.Equal(a, b) {
		t.Fatalf("shared stacks: %d bytes differing from the %d of stacks of their own", len(a), len(b))
	}
	got, err := DecodeRecord(a)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got.Calls {
		if !slices.Equal(got.Calls[i].Stack, own.Calls[i].Stack) {
			t.Fatalf("call %d: stack %v, want %v", i, got.Calls[i].Stack, own.Calls[i].Stack)
		}
	}
}
