package recording_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestCallSettersHammer sets the attributes and phases of a record's calls
// from several goroutines at once (SetAttr, SetAttrs, Update with and
// without Reserve, AddPhase), ends each call twice (End, then EndWith with
// more to set), past the recorder's MaxCalls, while the handler finishes
// the record under them: each record, as its sink gets it, holds calls of
// no key twice, at most WithMaxAttrs attributes (beside the count of those
// dropped), each value within its byte cap (but for the note of what was
// cut), at most 32 phases (each setter of phases adds forty), and only
// attributes some goroutine set. Half the goroutines set values within
// the cap, so that setAttrsLocked's one pass completes under contention.
// (That pass without its test of the cap fails it: four attributes in a
// room of six; without its test of a key's length already set, a key
// twice; addPhaseLocked, which both ways of adding phases take, without
// its cap, more than 32 phases.)
func TestCallSettersHammer(t *testing.T) {
	const maxAttrs, maxValue, maxCalls = 3, 12, 6
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithMaxAttrs(maxAttrs, maxValue), recording.WithMaxCalls(maxCalls))
	keys := []string{"a", "bb", "ccc", "dddd", "e", "ff", "long.key.of.its.own", "dddd"}
	// Forty phases an Update, as forty AddPhase calls: past the 32 a
	// call keeps by either way.
	phases := []recording.Phase{{Name: "send", Start: 1, Duration: 2}, {Name: "wait", Start: 3, Duration: -1}}
	for len(phases) < 40 {
		phases = append(phases, recording.Phase{Name: "more", Start: 5, Duration: 1})
	}
	for n := range 60 {
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/h" + strconv.Itoa(n)})
		var calls []*recording.ActiveCall
		for i := range maxCalls + 2 {
			calls = append(calls, recording.StartCall(ctx, "svc", fmt.Sprint("m", i)))
		}
		// The first call: keys of four lengths, past the cap, at once in
		// Reserve's room.
		calls[0].Reserve()
		calls[0].SetAttrs(recording.Attr{Key: "a", Value: "1"}, recording.Attr{Key: "bb", Value: "2"},
			recording.Attr{Key: "ccc", Value: "3"}, recording.Attr{Key: "long.key.of.its.own", Value: "4"})
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i, c := range calls {
					k := keys[(g+i)%len(keys)]
					v := fmt.Sprintf("g%d-%d-value-past-the-cap", g, i)
					if g%2 == 1 {
						// Short values: setAttrsLocked's one pass
						// completes, where it gives up on a value
						// past the cap.
						v = strconv.Itoa(g)
					}
					switch (g + i + n) % 4 {
					case 0:
						c.SetAttr(k, v)
					case 1:
						c.SetAttrs(recording.Attr{Key: k, Value: v}, recording.Attr{Key: keys[(g+i+1)%len(keys)], Value: "x"})
					case 2:
						c.Update(&recording.CallUpdate{Reserve: true, Attrs: []recording.Attr{{Key: k, Value: "y"}, {Key: "zz", Value: v}}, Phases: phases})
					case 3:
						// Reserve makes room only for a call with no
						// attributes and no phases yet: the phases
						// after.
						c.Reserve()
						c.SetAttrs(recording.Attr{Key: k, Value: v}, recording.Attr{Key: k, Value: "again"})
						now := time.Now()
						for range 40 {
							c.AddPhase("p", now, now.Add(time.Microsecond))
						}
					}
					if g == i%4 {
						c.End(nil)
						c.EndWith(&recording.CallUpdate{Attrs: []recording.Attr{{Key: "late", Value: v}}}, time.Millisecond, nil)
					}
				}
			}()
		}
		if n%2 == 0 {
			ar.Finish() // under the setters
			wg.Wait()
		} else {
			wg.Wait()
			ar.Finish()
		}
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{"zz": true, "late": true}
	for _, k := range keys {
		set[k] = true
	}
	recs := sink.Records()
	if len(recs) != 60 {
		t.Fatalf("%d records, want 60", len(recs))
	}
	for _, r := range recs {
		if len(r.Calls) > maxCalls {
			t.Errorf("%s: %d calls, want at most %d", r.Path, len(r.Calls), maxCalls)
		}
		for _, c := range r.Calls {
			seen := map[string]bool{}
			kept := 0
			for _, a := range c.Attrs {
				if seen[a.Key] {
					t.Errorf("%s %s: key %q twice in %v", r.Path, c.Method, a.Key, c.Attrs)
				}
				seen[a.Key] = true
				if a.Key == "appstats.dropped_attributes" {
					continue
				}
				kept++
				if !set[a.Key] && len(a.Key) > 0 && !set[a.Key[:min(len(a.Key), 32)]] {
					t.Errorf("%s %s: key %q set by nobody", r.Path, c.Method, a.Key)
				}
				if v, _, _ := strings.Cut(a.Value, "…[truncated "); len(v) > maxValue {
					t.Errorf("%s %s: value %q past the cap of %d bytes", r.Path, c.Method, a.Value, maxValue)
				}
			}
			if kept > maxAttrs {
				t.Errorf("%s %s: %d attributes %v, want at most %d", r.Path, c.Method, kept, c.Attrs, maxAttrs)
			}
			if len(c.Phases) > 32 {
				t.Errorf("%s %s: %d phases, want at most 32", r.Path, c.Method, len(c.Phases))
			}
			for _, p := range c.Phases {
				if p.Duration < 0 {
					t.Errorf("%s %s: phase %+v of a negative duration", r.Path, c.Method, p)
				}
			}
		}
	}
}
