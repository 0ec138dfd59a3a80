package recording_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestHeaderRefillSequences hands one pooled record, request after
// request, header maps that a refill of the last request's map must not
// take for the same ones — the same names with the values spread
// otherwise, a name swapped for another of the same length, fewer and
// more values and names, non-canonical secret names, more names than a
// refill compares one by one — and checks each record's headers, inside
// a Borrower's Write, against what its request sent: secret names'
// values redacted, the others as sent, none of another request's.
func TestHeaderRefillSequences(t *testing.T) {
	red := recording.DefaultRedaction()
	red.Headers = append(red.Headers, "X-House-Secret")
	hc := newHeaderChecker(red)
	many := func(tag string, n int) map[string][]string {
		h := map[string][]string{}
		for j := range n {
			h[fmt.Sprintf("X-Many-%02d", j)] = []string{fmt.Sprintf("%s-%d", tag, j)}
		}
		h["X-House-Secret"] = []string{"house-" + tag}
		return h
	}
	seqs := []func(tag string) map[string][]string{
		func(tag string) map[string][]string {
			return map[string][]string{"X-A": {tag + "a1"}, "X-B": {tag + "b1", tag + "b2"}, "Authorization": {"Basic " + tag}}
		},
		func(tag string) map[string][]string {
			return map[string][]string{"X-A": {tag + "a1", tag + "a2"}, "X-B": {tag + "b1"}, "Authorization": {"Basic " + tag}}
		},
		func(tag string) map[string][]string {
			return map[string][]string{"X-A": {tag + "a1", tag + "a2"}, "X-C": {tag + "c1"}, "authorization": {"Basic " + tag}}
		},
		func(tag string) map[string][]string {
			return map[string][]string{"X-A": {tag + "a1", tag + "a2"}, "X-C": {tag + "c1"}, "x-house-secret": {"Basic " + tag}}
		},
		func(tag string) map[string][]string {
			return map[string][]string{"X-A": {tag + "a1"}}
		},
		func(tag string) map[string][]string {
			return map[string][]string{"X-A": {tag + "a1"}, "Cookie": {"a=" + tag, "b=" + tag}}
		},
		func(tag string) map[string][]string {
			return map[string][]string{"X-A": {tag + "a1"}, "Cookie": {"a=" + tag}}
		},
		func(tag string) map[string][]string {
			return map[string][]string{"X-A": {tag + "a1"}, "Cookie": {"a=" + tag}, "X-Z": {}} // a name with no value
		},
		func(tag string) map[string][]string { return many(tag, 12) },
		func(tag string) map[string][]string { return many(tag, 12) },
		func(tag string) map[string][]string {
			h := many(tag, 12)
			delete(h, "X-Many-03")
			h["X-Many-99"] = []string{tag}
			return h
		},
		func(tag string) map[string][]string {
			h := many(tag, 12)
			h["X-Many-05"] = append(h["X-Many-05"], tag+"more")
			h["X-Many-06"] = nil
			return h
		},
	}
	for i := range 3 * len(seqs) {
		path := fmt.Sprintf("/r%d", i)
		tag := fmt.Sprintf("t%d", i)
		h := seqs[i%len(seqs)](tag)
		w := map[string][]string{}
		for k, vs := range h {
			if len(vs) == 0 {
				continue
			}
			if isSecretHeader(k) {
				vs = slices.Repeat([]string{recording.Redacted}, len(vs))
			}
			w[k] = slices.Clone(vs)
		}
		hc.send(t, path, h, w)
	}
	hc.check(t)
}

// isSecretHeader is the test's own list of the secret names it sends.
func isSecretHeader(k string) bool {
	switch strings.ToLower(k) {
	case "authorization", "cookie", "x-house-secret":
		return true
	}
	return false
}

// TestHeaderSecretPerRecorder alternates requests between two recorders
// with Borrower sinks, one of which hides X-Shared-Value by name: each
// keeps its own rules on its reused records, whatever the other did with
// the same names.
func TestHeaderSecretPerRecorder(t *testing.T) {
	redA := recording.DefaultRedaction()
	redA.Headers = append(redA.Headers, "X-Shared-Value")
	var mu sync.Mutex
	var failures []string
	sinkFor := func(hidden bool) *funcBorrower {
		return &funcBorrower{write: func(recs []*recording.Record) {
			mu.Lock()
			defer mu.Unlock()
			for _, r := range recs {
				got := r.Headers["X-Shared-Value"]
				want := "v" + r.Path
				if hidden {
					want = recording.Redacted
				}
				if len(got) != 1 || got[0] != want {
					failures = append(failures, fmt.Sprintf("%s (hidden %v): X-Shared-Value %q, want %q", r.Path, hidden, got, want))
				}
			}
		}}
	}
	recA := recording.New(recording.WithSinks(sinkFor(true)), recording.WithRedaction(redA), recording.WithBatch(1, time.Millisecond))
	recB := recording.New(recording.WithSinks(sinkFor(false)), recording.WithBatch(1, time.Millisecond))
	for i := range 200 {
		for _, rec := range []*recording.Recorder{recA, recB} {
			path := fmt.Sprintf("/r%d", i)
			_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
			ar.SetHeaders(map[string][]string{"X-Shared-Value": {"v" + path}, "Accept": {"*/*"}})
			ar.Finish()
		}
	}
	for _, rec := range []*recording.Recorder{recA, recB} {
		if err := rec.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if st := rec.Stats(); st.Written != 200 {
			t.Errorf("Written %d, want 200 (Dropped %d)", st.Written, st.Dropped)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	reportFailures(t, failures)
}

// TestKeptHeader checks that KeptHeader gives a header's first value from
// the record's copy only when SetHeaders kept all the values whole: not
// for a cut value, a name over its cap, values left out (the first value
// may be one of them), a name the map lacks, a record without a copy.
func TestKeptHeader(t *testing.T) {
	rec := recording.New(recording.WithMaxName(16), recording.WithMaxHeaders(40, 256))
	defer rec.Close(t.Context())
	long := strings.Repeat("v", 41)
	for _, tc := range []struct {
		h      map[string][]string
		name   string
		want   string
		wantOK bool
	}{
		{map[string][]string{"User-Agent": {"curl/8", "second"}, "Accept": {"*/*"}}, "User-Agent", "curl/8", true},
		{map[string][]string{"User-Agent": {""}}, "User-Agent", "", true},
		{map[string][]string{"Accept": {"*/*"}}, "User-Agent", "", false},
		{map[string][]string{"User-Agent": {long}}, "User-Agent", "", false},
		{map[string][]string{"X-Very-Long-Header-Name": {"v"}}, "X-Very-Long-Header-Name", "", false},
		// Over the total: the first value is left out, the second kept.
		{map[string][]string{"User-Agent": {strings.Repeat("a", 40), "b"}, "A": {strings.Repeat("c", 40)},
			"B": {strings.Repeat("d", 40)}, "C": {strings.Repeat("e", 40)}}, "User-Agent", "", false},
		{nil, "User-Agent", "", false},
	} {
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{})
		ar.SetHeaders(tc.h)
		got, ok := ar.KeptHeader(tc.name)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("headers %q: KeptHeader(%q) = %q, %v; want %q, %v", tc.h, tc.name, got, ok, tc.want, tc.wantOK)
		}
		ar.Finish()
	}
	var ar *recording.ActiveRecord
	if v, ok := ar.KeptHeader("User-Agent"); v != "" || ok {
		t.Errorf("nil ActiveRecord: %q, %v", v, ok)
	}
}

// TestHeaderSameAgain hands one pooled record, request after request,
// header maps of a few names, mostly the very ones of the request before
// (which the writer takes as the last request's map, as redaction left
// it), and checks each record's headers, inside a Borrower's Write,
// against the recorder's redaction of what its request sent: the same
// names with one value changed, a secret name's value changed, a value
// redaction changes sent twice, a redacted text sent as a value, a value
// sent under another name, a name with a second value.
func TestHeaderSameAgain(t *testing.T) {
	red := recording.DefaultRedaction()
	hc := newHeaderChecker(red)
	base := map[string][]string{"Accept": {"*/*"}, "User-Agent": {"curl/8"}, "Authorization": {"Basic YTpi"}}
	with := func(k string, vs ...string) map[string][]string {
		h := maps.Clone(base)
		h[k] = vs
		return h
	}
	secretText := "x password=hunter2"
	seq := []map[string][]string{
		base, base, base,
		with("User-Agent", "curl/9"), with("User-Agent", "curl/9"), base,
		with("Authorization", "Bearer other"), base,
		with("Accept", secretText), with("Accept", secretText), with("Accept", red.Text(secretText)), base,
		with("Accept", "curl/8"), base,
		with("Accept", "*/*", "*/*"), base,
		{"Accept": {"*/*"}, "User-Agent": {"curl/8"}}, base,
	}
	for i, h := range seq {
		path := fmt.Sprintf("/r%d", i)
		w := red.Header(h)
		hc.send(t, path, h, w)
	}
	hc.check(t)
}

// A headerChecker records requests one at a time through one recorder,
// so that each gets the record of the one before it back from the pool,
// and checks each record's headers, inside a Borrower's Write, against
// those its request should have.
type headerChecker struct {
	rec      *recording.Recorder
	sent     uint64
	mu       sync.Mutex
	want     map[string]map[string][]string // by path
	failures []string
}

func newHeaderChecker(red recording.Redaction) *headerChecker {
	hc := &headerChecker{want: map[string]map[string][]string{}}
	sink := &funcBorrower{write: func(recs []*recording.Record) {
		hc.mu.Lock()
		defer hc.mu.Unlock()
		for _, r := range recs {
			if w := hc.want[r.Path]; !maps.EqualFunc(r.Headers, w, slices.Equal) {
				hc.failures = append(hc.failures, fmt.Sprintf("%s: headers %q, want %q", r.Path, r.Headers, w))
			}
		}
	}}
	hc.rec = recording.New(recording.WithSinks(sink), recording.WithRedaction(red), recording.WithBatch(1, time.Millisecond))
	return hc
}

// send records a request of path with headers h, whose record must hold
// want, and waits until it is written: the next request gets its record
// back from the pool.
func (hc *headerChecker) send(t *testing.T, path string, h, want map[string][]string) {
	t.Helper()
	hc.mu.Lock()
	hc.want[path] = want
	hc.mu.Unlock()
	_, ar := hc.rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
	ar.SetHeaders(h)
	ar.Finish()
	hc.sent++
	mustFlush(t, hc.rec, hc.sent)
}

// check closes the recorder and reports the records whose headers were
// not those wanted.
func (hc *headerChecker) check(t *testing.T) {
	t.Helper()
	if err := hc.rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	hc.mu.Lock()
	defer hc.mu.Unlock()
	for _, f := range hc.failures {
		t.Error(f)
	}
}
