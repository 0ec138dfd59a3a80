package recording_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestCallFirstAttrsAsOneByOne sets a call's first attributes and phases
// at once (SetAttrs and Update, after Reserve's room or without it), then
// one or two more, and checks the call's attributes and phases against
// those SetAttr and AddPhase one by one set: random keys (some twice in
// one set, some of equal lengths, some long enough to be cut, an empty
// one, invalid UTF-8, one cut inside a two-byte rune, one 64 bytes longer
// than another), values long enough to be cut (inside a three-byte
// rune) or invalid UTF-8, sets of more attributes than the recorder keeps, and
// phases of long names, of negative durations, and more than Reserve's
// room holds.
func TestCallFirstAttrsAsOneByOne(t *testing.T) {
	keys := []string{"a", "b", "cc", "dd", "http.request.method", "server.port", strings.Repeat("k", 40),
		"", strings.Repeat("é", 33), "\xff\xfe", strings.Repeat("\xff", 65)}
	values := []string{"", "x", "200", strings.Repeat("v", 30), strings.Repeat("€", 7), "\xff\x00"}
	rnd := rand.New(rand.NewPCG(27, 1))
	names := []string{"send", "wait", "receive", strings.Repeat("p", 40)}
	attrsOf := func(c recording.Call) string {
		var b strings.Builder
		for _, a := range c.Attrs {
			fmt.Fprintf(&b, "%s=%q ", a.Key, a.Value)
		}
		for _, p := range c.Phases {
			fmt.Fprintf(&b, "| %s %v %v ", p.Name, p.Start-c.Start, p.Duration)
		}
		return b.String()
	}
	somePhases := func() []recording.Phase {
		ps := make([]recording.Phase, rnd.IntN(5))
		for j := range ps {
			ps[j] = recording.Phase{Name: names[rnd.IntN(len(names))], Start: time.Duration(rnd.IntN(100)), Duration: time.Duration(rnd.IntN(50) - 5)}
		}
		return ps
	}
	for i := range 3000 {
		maxAttrs := 1 + rnd.IntN(8)
		first := make([]recording.Attr, rnd.IntN(8))
		for j := range first {
			first[j] = recording.Attr{Key: keys[rnd.IntN(len(keys))], Value: values[rnd.IntN(len(values))]}
		}
		more := make([]recording.Attr, rnd.IntN(3))
		for j := range more {
			more[j] = recording.Attr{Key: keys[rnd.IntN(len(keys))], Value: values[rnd.IntN(len(values))]}
		}
		firstPh, morePh := somePhases(), somePhases()
		reserve, update := rnd.IntN(2) == 0, rnd.IntN(2) == 0
		sink := recordingtest.NewSink()
		rec := recording.New(recording.WithSinks(sink), recording.WithMaxName(32), recording.WithMaxAttrs(maxAttrs, 20))
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		// The reference: each attribute set alone, without room.
		ref := recording.StartCall(ctx, "svc", "ref")
		for _, a := range append(append([]recording.Attr(nil), first...), more...) {
			ref.SetAttr(a.Key, a.Value)
		}
		for _, p := range append(append([]recording.Phase(nil), firstPh...), morePh...) {
			from := ref.StartTime().Add(p.Start)
			ref.AddPhase(p.Name, from, from.Add(p.Duration))
		}
		ref.End(nil)
		c := recording.StartCall(ctx, "svc", "at-once")
		switch {
		case update:
			c.Update(&recording.CallUpdate{Reserve: reserve, Attrs: first, Phases: firstPh})
		case reserve:
			c.Reserve()
			c.SetAttrs(first...)
		default:
			c.SetAttrs(first...)
		}
		if !update {
			c.Update(&recording.CallUpdate{Phases: firstPh})
		}
		c.Update(&recording.CallUpdate{Attrs: more, Phases: morePh})
		c.End(nil)
		ar.Finish()
		if err := rec.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := sink.Records()[0]
		if got, want := attrsOf(r.Calls[1]), attrsOf(r.Calls[0]); got != want {
			t.Fatalf("case %d (max %d, reserve %v, update %v), first %v %v, then %v %v:\n got  %s\n want %s", i, maxAttrs, reserve, update, first, firstPh, more, morePh, got, want)
		}
	}
}
