package codec

import (
	"math/rand/v2"
	"net/http"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/headermap"
	"github.com/goappstats/appstats/internal/headermap/headermaptest"
	"github.com/goappstats/appstats/recording"
)

// TestAppendHeaders writes header maps of 0 to 12 names (a table from 9),
// some deleted, some set again, some with several values, some made with
// a size hint ([headermaptest.Random]), and nil ones, in records of
// both encodings (stored and memory), and checks that each decodes to
// the map written and that the header part takes as many bytes as a walk
// of the map writes. On Go 1.26 it also checks that the small maps'
// layout was found as expected (headermap.Known), so that the read of the
// group is the way compared.
func TestAppendHeaders(t *testing.T) {
	if strings.HasPrefix(runtime.Version(), "go1.26") && !headermap.Known {
		t.Fatal("headermap.Known is false on go1.26: appendHeaders walks every map")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 2000 {
		var h http.Header // a nil map now and then
		if round%50 != 0 {
			h = headermaptest.Random(rng, round).H
		}
		if got, want := len(appendHeaders(nil, h)), len(walkHeaders(nil, h)); got != want {
			t.Fatalf("round %d: %d bytes for %v, a walk writes %d", round, got, h, want)
		}
		r := &recording.Record{Start: time.Unix(1700000000, 5), Route: "GET /x", Headers: h}
		for _, enc := range []struct {
			name   string
			append func([]byte, *recording.Record) []byte
			decode func([]byte) (*recording.Record, error)
		}{
			{"stored", AppendRecord, DecodeRecord},
			{"memory", AppendRecordWithoutStacks, DecodeRecordWithoutStacks},
		} {
			got, err := enc.decode(enc.append(nil, r))
			if err != nil {
				t.Fatalf("round %d, %s: %v", round, enc.name, err)
			}
			if len(h) == 0 {
				if len(got.Headers) != 0 {
					t.Fatalf("round %d, %s: headers %v, want none", round, enc.name, got.Headers)
				}
				continue
			}
			if !reflect.DeepEqual(map[string][]string(h), got.Headers) {
				t.Fatalf("round %d, %s: headers %v, want %v", round, enc.name, got.Headers, h)
			}
		}
	}
}
