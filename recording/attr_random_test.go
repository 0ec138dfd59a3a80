package recording_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// recordShape is what a record holds of its request's attributes and
// calls, to compare two records by.
func recordShape(r *recording.Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "route=%q ", r.Route)
	for _, a := range r.Attrs {
		fmt.Fprintf(&b, "%s=%q ", a.Key, a.Value)
	}
	for _, c := range r.Calls {
		fmt.Fprintf(&b, "| %s %s %q %q %q", c.Service, c.Method, c.Request, c.Response, c.Error)
		for _, a := range c.Attrs {
			fmt.Fprintf(&b, " %s=%q", a.Key, a.Value)
		}
	}
	return b.String()
}

type shapeCheckSink struct {
	borrow bool
	want   *sync.Map // path -> recordShape
	mu     sync.Mutex
	bad    []string
}

func (s *shapeCheckSink) Write(_ context.Context, recs []*recording.Record) error {
	for _, r := range recs {
		w, _ := s.want.Load(r.Path)
		if got := recordShape(r); got != w.(string) {
			s.mu.Lock()
			s.bad = append(s.bad, fmt.Sprintf("%s:\n got  %s\n want %s", r.Path, got, w))
			s.mu.Unlock()
		}
	}
	return nil
}

func (s *shapeCheckSink) BorrowsRecords() bool { return s.borrow }

// TestAttrsRandomSequences records random sequences of requests whose
// attributes and calls mostly repeat the last request's, or nearly (a key
// more or less, another value, a secret one, a call more or less), through
// a recorder that keeps records (which share the last record's attributes
// when they are the same) and one that reuses them, and checks each
// record's attributes and calls against those a recorder that reused
// nothing made of the same request.
func TestAttrsRandomSequences(t *testing.T) {
	keys := []string{"url.scheme", "tenant", "user.id", "password", "api_key", "note"}
	values := []string{"http", "acme", "42", "", "hunter2", "token=abc123def", "a b c"}
	type step struct {
		attrs [][2]string
		calls [][3]string // service, method, attribute value
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	draw := func(prev step) step {
		s := step{attrs: slices.Clone(prev.attrs), calls: slices.Clone(prev.calls)}
		switch rnd.IntN(6) {
		case 0:
			s = step{}
			for range rnd.IntN(5) {
				s.attrs = append(s.attrs, [2]string{keys[rnd.IntN(len(keys))], values[rnd.IntN(len(values))]})
			}
		case 1:
			if len(s.attrs) > 0 {
				s.attrs = s.attrs[:len(s.attrs)-1]
			}
		case 2:
			if len(s.attrs) > 0 {
				s.attrs[rnd.IntN(len(s.attrs))][1] = values[rnd.IntN(len(values))]
			}
		case 3:
			s.attrs = append(s.attrs, [2]string{keys[rnd.IntN(len(keys))], values[rnd.IntN(len(values))]})
		case 4:
			s.calls = append(s.calls, [3]string{"svc", fmt.Sprintf("m%d", rnd.IntN(3)), values[rnd.IntN(len(values))]})
		case 5:
			if len(s.calls) > 0 {
				s.calls = s.calls[1:]
			}
		}
		return s
	}
	run := func(rec *recording.Recorder, path string, s step) {
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
		for _, a := range s.attrs {
			ar.AddAttr(strings.Clone(a[0]), strings.Clone(a[1]))
		}
		for _, c := range s.calls {
			call := recording.StartCall(ctx, c[0], c[1])
			call.SetAttr("v", strings.Clone(c[2]))
			call.End(nil)
		}
		ar.Finish()
	}
	reference := func(s step) string {
		sink := recordingtest.NewSink()
		rec := recording.New(recording.WithSinks(sink))
		run(rec, "/", s)
		if err := rec.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		return recordShape(sink.Records()[0])
	}
	for _, borrow := range []bool{false, true} {
		t.Run(fmt.Sprintf("borrow=%v", borrow), func(t *testing.T) {
			var want sync.Map
			sink := &shapeCheckSink{borrow: borrow, want: &want}
			rec := recording.New(recording.WithSinks(sink))
			var s step
			for i := range 2000 {
				s = draw(s)
				path := fmt.Sprintf("/r%d", i)
				want.Store(path, reference(s))
				run(rec, path, s)
			}
			closeAndReport(t, rec, &sink.bad)
		})
	}
}

// closeAndReport closes rec, so that its sinks have seen every record,
// and reports the first ten of what a checking sink found wrong (bad, read
// once Close has returned, the sinks' last writes included) and how many
// more.
func closeAndReport(t *testing.T, rec *recording.Recorder, bad *[]string) {
	t.Helper()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, b := range *bad {
		if i == 10 {
			t.Errorf("and %d more", len(*bad)-10)
			break
		}
		t.Error(b)
	}
}
