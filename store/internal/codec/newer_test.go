package codec

import (
	"errors"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/internal/sketch"
	"github.com/goappstats/appstats/store/storetest"
)

// A value of a later encoding version than this package reads (a newer
// release's, in a store a fleet shares) is told apart from a damaged one:
// Newer says so, and decoding fails with ErrNewerVersion as well as
// ErrCorrupt. A version 0 is damage, not a newer release's.
func TestNewerVersion(t *testing.T) {
	r := storetest.Record20(time.Unix(1700000000, 5), 2)
	sum := r.Summary()
	durs := CallDurations(r, &sum)
	ru := NewRollup()
	ru.Add(&sum, durs)
	var scratch sketch.Sketch
	for _, tt := range []struct {
		name   string
		b      []byte
		decode func([]byte) error
	}{
		{"record", AppendRecord(nil, r), func(b []byte) error { _, err := DecodeRecord(b); return err }},
		{"summary", AppendSummary(nil, &sum, durs), func(b []byte) error { _, err := DecodeSummary(b, new([]time.Duration)); return err }},
		{"overall", AppendSummary(nil, &sum, durs), func(b []byte) error { _, err := DecodeOverall(b); return err }},
		{"rollup", AppendRollup(nil, ru), func(b []byte) error { return NewRollup().MergeEncoded(b, false, &scratch) }},
		{"rollup overall", AppendOverall(nil, ru), func(b []byte) error { return NewRollup().MergeEncoded(b, true, &scratch) }},
		{"exec trace", AppendExecTrace(nil, []byte("trace")), func(b []byte) error { _, err := DecodeExecTrace(b); return err }},
	} {
		if Newer(tt.b) {
			t.Errorf("%s: Newer of this version's encoding = true", tt.name)
		}
		if err := tt.decode(tt.b); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		newer := append([]byte(nil), tt.b...)
		newer[1]++
		if !Newer(newer) {
			t.Errorf("%s: Newer of the next version's = false", tt.name)
		}
		if err := tt.decode(newer); !errors.Is(err, ErrNewerVersion) || !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("%s of the next version: %v; want ErrNewerVersion and ErrCorrupt", tt.name, err)
		}
		newer[1] = 0
		if err := tt.decode(newer); errors.Is(err, ErrNewerVersion) || !errors.Is(err, store.ErrCorrupt) || Newer(newer) {
			t.Errorf("%s of version 0: %v; want ErrCorrupt only", tt.name, err)
		}
	}
	if Newer(nil) || Newer([]byte{'X', 99}) {
		t.Error("Newer of no value, or of a value of no tag of ours = true")
	}
}

// A version byte far past this package's (0x7f, 0xff: damage, a bit
// flipped, another program's bytes) is not a newer release's: releases
// add one version at a time, and a store that took such a value for a
// newer release's left it unread forever — its folds left the hour's
// deltas pending and its retention kept the hour's rollups counting
// records deleted. Only the next few versions are a newer release's.
func TestNewerVersionBounded(t *testing.T) {
	r := storetest.Record20(time.Unix(1700000000, 5), 2)
	for _, v := range []byte{latestRecord + newerSpan + 1, 0x7f, 0x80, 0xff} {
		b := AppendRecord(nil, r)
		b[1] = v
		if Newer(b) {
			t.Errorf("Newer of a record of version %d = true; want damage", v)
		}
		if _, err := DecodeRecord(b); errors.Is(err, ErrNewerVersion) || !errors.Is(err, store.ErrCorrupt) {
			t.Errorf("DecodeRecord of version %d: %v; want ErrCorrupt only", v, err)
		}
	}
	b := AppendRecord(nil, r)
	b[1] = latestRecord + newerSpan
	if !Newer(b) {
		t.Errorf("Newer of a record of version %d = false", b[1])
	}
}
