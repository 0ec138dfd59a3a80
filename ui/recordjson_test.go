package ui_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
	"github.com/goappstats/appstats/ui"
)

// usRecord is storetest.FullRecord with every duration whole microseconds,
// as the JSON keeps them.
func usRecord() *recording.Record {
	r := storetest.FullRecord(time.Date(2026, 11, 22, 1, 52, 50, 123456789, time.UTC), 7)
	us := func(d *time.Duration) { *d = d.Truncate(time.Microsecond) }
	us(&r.Duration)
	us(&r.Overhead)
	for i := range r.Calls {
		c := &r.Calls[i]
		us(&c.Start)
		us(&c.Duration)
		for k := range c.Phases {
			us(&c.Phases[k].Start)
			us(&c.Phases[k].Duration)
		}
	}
	for i := range r.Warnings {
		us(&r.Warnings[i].Total)
	}
	return r
}

// A record survives MarshalRecord and UnmarshalRecord whole, at
// microsecond precision.
func TestRecordJSONRoundTrip(t *testing.T) {
	for _, want := range []*recording.Record{usRecord(), {ID: recording.ID{1}, TraceID: recording.TraceID{2}, Start: time.Unix(1, 0).UTC()}} {
		b, err := ui.MarshalRecord(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ui.UnmarshalRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n%+v\nwant\n%+v", got, want)
		}
	}
	// Sub-microsecond parts are rounded.
	r := usRecord()
	r.Duration += 499
	b, _ := ui.MarshalRecord(r)
	if got, _ := ui.UnmarshalRecord(b); got.Duration != r.Duration-499 {
		t.Errorf("duration %v, want %v", got.Duration, r.Duration-499)
	}
}

func TestRecordJSONErrors(t *testing.T) {
	good, _ := ui.MarshalRecord(usRecord())
	for _, tt := range []struct{ name, from, to string }{
		{"not JSON", string(good), "{"},
		{"bad id", `"id":"`, `"id":"zz`},
		{"bad trace", `"trace_id":"`, `"trace_id":"x`},
		{"bad kind", `"kind":"http"`, `"kind":"carrier-pigeon"`},
		{"bad start", `"start":"`, `"start":"yesterday`},
		{"huge duration", `"duration_ms":123.456`, `"duration_ms":1e300`},
		{"bad span", `"span_id":"0102`, `"span_id":"xx02`},
		{"a string for a number", `"status":503`, `"status":"503"`},
	} {
		b := strings.Replace(string(good), tt.from, tt.to, 1)
		if b == string(good) {
			t.Fatalf("%s: %q not in the JSON", tt.name, tt.from)
		}
		if _, err := ui.UnmarshalRecord([]byte(b)); !errors.Is(err, ui.ErrBadRecordJSON) {
			t.Errorf("%s: err = %v, want ErrBadRecordJSON", tt.name, err)
		}
	}
}
