package recording_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// headerCheckSink checks each record's headers, in Write, against those
// a recorder that reused nothing made of the same request's (want, by
// path); borrow says whether it is a Borrower (the recorder then reuses
// records, their header maps and entries).
type headerCheckSink struct {
	borrow bool
	want   *sync.Map // path -> map[string][]string
	mu     sync.Mutex
	bad    []string
}

func (s *headerCheckSink) Write(_ context.Context, recs []*recording.Record) error {
	for _, r := range recs {
		w, _ := s.want.Load(r.Path)
		if want := w.(map[string][]string); !sameHeaderSets(r.Headers, want) {
			s.mu.Lock()
			s.bad = append(s.bad, fmt.Sprintf("%s: headers %q, want %q", r.Path, r.Headers, want))
			s.mu.Unlock()
		}
	}
	return nil
}

func (s *headerCheckSink) BorrowsRecords() bool { return s.borrow }

// sameHeaderSets compares two header maps, each name's values in any
// order (two names cut to one prefix merge their values in the order of
// a map's walk).
func sameHeaderSets(a, b map[string][]string) bool {
	return maps.EqualFunc(a, b, func(x, y []string) bool {
		return slices.Equal(slices.Sorted(slices.Values(x)), slices.Sorted(slices.Values(y)))
	})
}

// TestHeadersRandomSequences records random sequences of header maps —
// drawn from few names and values, so that a request mostly sends what
// one before it sent, or nearly: a name more or less, another value, a
// second value, a secret name's other value, a name or value over its cap
// — through a recorder that keeps records and one that reuses them, and
// checks each record's headers against those a recorder that reused
// nothing made of the same request's.
func TestHeadersRandomSequences(t *testing.T) {
	opts := []recording.Option{recording.WithMaxName(14), recording.WithMaxHeaders(24, 64<<10)}
	names := []string{"Accept", "User-Agent", "Authorization", "Cookie", "X-Note", "X-Tenant",
		"X-Very-Long-Name-A", "X-Very-Long-Name-B", "X-Api-Key", "Cache-Control", "Pragma", "Accept-Language"}
	values := []string{"a", "b", "*/*", "", "curl/8", "Bearer tok", "password=hunter2", strings.Repeat("v", 40)}
	rnd := rand.New(rand.NewPCG(1, 2))
	draw := func(prev map[string][]string) map[string][]string {
		h := maps.Clone(prev)
		if h == nil || rnd.IntN(4) == 0 {
			h = map[string][]string{}
			for range 1 + rnd.IntN(10) {
				h[names[rnd.IntN(len(names))]] = []string{values[rnd.IntN(len(values))]}
			}
			return h
		}
		switch k := names[rnd.IntN(len(names))]; rnd.IntN(6) {
		case 0:
			delete(h, k)
		case 1:
			h[k] = []string{values[rnd.IntN(len(values))]}
		case 2:
			h[k] = []string{values[rnd.IntN(len(values))], values[rnd.IntN(len(values))]}
		case 3:
			// A name less, and another's value sent twice: as many
			// pairs as the names before.
			delete(h, k)
			for k, vs := range h {
				h[k] = []string{vs[0], vs[0]}
				break
			}
		}
		return h
	}
	// The reference: a recorder per request, which has nothing to reuse.
	reference := func(h map[string][]string) map[string][]string {
		sink := recordingtest.NewSink()
		rec := recording.New(append(opts, recording.WithSinks(sink))...)
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		ar.SetHeaders(h)
		ar.Finish()
		if err := rec.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		return sink.Records()[0].Headers
	}
	for _, borrow := range []bool{false, true} {
		t.Run(fmt.Sprintf("borrow=%v", borrow), func(t *testing.T) {
			var want sync.Map
			sink := &headerCheckSink{borrow: borrow, want: &want}
			rec := recording.New(append(opts, recording.WithSinks(sink))...)
			var h map[string][]string
			for i := range 3000 {
				h = draw(h)
				// New strings, as a server parses each request's.
				sent := make(map[string][]string, len(h))
				for k, vs := range h {
					vs = slices.Clone(vs)
					for j := range vs {
						vs[j] = strings.Clone(vs[j])
					}
					sent[strings.Clone(k)] = vs
				}
				path := fmt.Sprintf("/r%d", i)
				want.Store(path, reference(sent))
				_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
				ar.SetHeaders(sent)
				ar.Finish()
			}
			closeAndReport(t, rec, &sink.bad)
		})
	}
}
