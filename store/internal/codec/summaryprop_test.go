package codec

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// callsRecord returns a record whose calls b spells, a byte a call: its
// low five bits pick the RPC (of 20, more than summaryCalls' 16, in two
// services), bit 5 makes it an event, bit 6 gives it its strings in
// memory of their own (equal, apart), bit 7 a failure and a cost. Each
// call's duration is its own (its place), so an order changed shows.
func callsRecord(b []byte) *recording.Record {
	r := &recording.Record{Route: "GET /prop", Instance: "vm/1", Duration: time.Second}
	r.Calls = make([]recording.Call, len(b))
	for i, x := range b {
		k := int(x&0x1f) % 20
		c := &r.Calls[i]
		c.Service, c.Method = []string{"sql", "redis"}[k%2], rpcMethods[k]
		if x&0x40 != 0 {
			c.Service, c.Method = strings.Clone(c.Service), strings.Clone(c.Method)
		}
		c.Event = x&0x20 != 0
		if x&0x80 != 0 {
			c.Error, c.Cost = "timeout", 0.5
		}
		c.Duration = time.Duration(i+1) * time.Microsecond
	}
	return r
}

// rpcMethods are callsRecord's methods, one an RPC.
var rpcMethods = func() []string {
	m := make([]string, 20)
	for k := range m {
		m[k] = fmt.Sprintf("m%d", k)
	}
	return m
}()

// checkSummaryPaths fails t unless SummaryInto and CountedSummaryInto
// give r the summary r.SummaryInto gives and, after what durs held, the
// durations of its calls RPC by RPC in the summary's order, each RPC's in
// the order of its calls (the plainest way: a pass over the calls an RPC).
func checkSummaryPaths(t *testing.T, r *recording.Record) {
	t.Helper()
	var want recording.Summary
	r.SummaryInto(&want)
	head := []time.Duration{-1, -2}
	wantDurs := slices.Clone(head)
	for _, rpc := range want.RPCs {
		for i := range r.Calls {
			if c := &r.Calls[i]; !c.Event && c.Service == rpc.Service && c.Method == rpc.Method {
				wantDurs = append(wantDurs, c.Duration)
			}
		}
	}
	var sum recording.Summary
	durs := SummaryInto(r, &sum, slices.Clone(head))
	if len(want.RPCs) == 0 && len(sum.RPCs) == 0 {
		want.RPCs = sum.RPCs
	}
	if !reflect.DeepEqual(sum, want) {
		t.Fatalf("%s: summary\n%+v\nwant\n%+v", spell(r), sum, want)
	}
	if !slices.Equal(durs, wantDurs) {
		t.Fatalf("%s: durations %v, want %v", spell(r), durs, wantDurs)
	}
	var cs recording.Summary
	if cd := CountedSummaryInto(r, &cs, slices.Clone(head)); !slices.Equal(cd, wantDurs) {
		t.Fatalf("%s: counted durations %v, want %v", spell(r), cd, wantDurs)
	}
}

// spell returns r's calls as "m3 m3 *m4 m5…" (an event starred), the
// first 40.
func spell(r *recording.Record) string {
	var b strings.Builder
	for i, c := range r.Calls {
		if i == 40 {
			fmt.Fprintf(&b, "… (%d calls)", len(r.Calls))
			break
		}
		if c.Event {
			b.WriteByte('*')
		}
		b.WriteString(c.Method)
		b.WriteByte(' ')
	}
	return b.String()
}

// TestSummaryIntoPathsRandom: for random records, SummaryInto's
// durations (its one pass, in the calls' order when each RPC's calls come
// in one run and no call is an event, else RPC by RPC) and summary are
// the plainest way's (checkSummaryPaths). The records are made of runs of
// one RPC, each a new RPC or one seen before, with events, equal strings
// apart, failures, none to 300 calls, 1 to 20 RPCs: runs in order,
// interleaved, going back, and past the one pass's 256 calls and 16 RPCs.
func TestSummaryIntoPathsRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(46))
	for range 20000 {
		n := rng.Intn(24)
		if rng.Intn(20) == 0 {
			n = 250 + rng.Intn(12)
		}
		rpcs := 1 + rng.Intn(20)
		pEvent := []int{0, 0, 30, 5}[rng.Intn(4)] // per cent of calls
		pBack := []int{0, 0, 20, 60}[rng.Intn(4)]
		b := make([]byte, 0, n)
		next := 0 // the next new RPC
		for len(b) < n {
			k := next % rpcs
			if next > 0 && rng.Intn(100) < pBack {
				k = rng.Intn(min(next, rpcs))
			} else {
				next++
			}
			for run := 1 + rng.Intn(5); run > 0 && len(b) < n; run-- {
				x := byte(k)
				if rng.Intn(100) < pEvent {
					x |= 0x20
				}
				x |= byte(rng.Intn(4)) << 6 // apart, failed
				b = append(b, x)
			}
		}
		checkSummaryPaths(t, callsRecord(b))
	}
}

// FuzzSummaryIntoPaths: the records callsRecord spells from any bytes
// take checkSummaryPaths.
func FuzzSummaryIntoPaths(f *testing.F) {
	for _, s := range []string{"", "\x00", "\x00\x00\x01\x01", "\x00\x01\x00", "\x00\x20\x00", "\x20",
		"\x00\x40\x00\x01\x41", "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 400 {
			b = b[:400]
		}
		checkSummaryPaths(t, callsRecord(b))
	})
}
