package recording_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestKeptRecordsShareHeaderMaps records requests through a recorder
// whose sink keeps records (no pool, as with otelexport), each with its
// headers in new strings, as a server parses them, and checks each kept
// record's headers against the redaction of what its request sent, and
// that a record whose request sent the headers of the record before it
// (the same names, each with the same value, or any value of a secret
// name) holds the same map, while one whose headers differ in any way
// holds a map of its own: a value changed, a value redaction changes
// (sent twice), a name more or less, another name, a second value.
func TestKeptRecordsShareHeaderMaps(t *testing.T) {
	red := recording.DefaultRedaction()
	sink := recordingtest.NewSink() // keeps records: the recorder has no pool
	rec := recording.New(recording.WithSinks(sink))
	base := map[string][]string{"Accept": {"*/*"}, "User-Agent": {"curl/8"}, "Authorization": {"Basic YTpi"}}
	with := func(k string, vs ...string) map[string][]string {
		h := maps.Clone(base)
		h[k] = vs
		return h
	}
	many := func(n int) map[string][]string {
		h := map[string][]string{"Cookie": {fmt.Sprintf("n=%d", n)}}
		for j := range 12 {
			h[fmt.Sprintf("X-Many-%02d", j)] = []string{fmt.Sprintf("v%d", j)}
		}
		return h
	}
	secretText := "x password=hunter2"
	less := maps.Clone(base)
	delete(less, "Accept")
	steps := []struct {
		h      map[string][]string
		shared bool // the map of the record before
	}{
		{base, false},
		{base, true},
		{base, true},
		{with("Authorization", "Bearer other"), true}, // a secret name's value: hidden either way
		{with("User-Agent", "curl/9"), false},
		{with("User-Agent", "curl/9"), true},
		{base, false},
		{with("Accept", secretText), false},
		{with("Accept", secretText), false}, // redaction changed the value
		{with("Accept", red.Text(secretText)), false},
		{base, false},
		{with("Accept", "*/*", "*/*"), false},
		{with("Accept", "*/*", "*/*"), false}, // a second value
		{base, false},
		{less, false},
		{base, false},
		{with("X-Other", "1"), false},
		{map[string][]string{"X-Other": {"1"}, "User-Agent": {"curl/8"}, "Authorization": {"Basic YTpi"}}, false}, // another name for Accept
		{many(1), false},
		{many(2), true}, // over eight names: found through the map
		{with("accept", "*/*"), false},
	}
	for i, s := range steps {
		h := make(map[string][]string, len(s.h))
		for k, vs := range s.h {
			vs = slices.Clone(vs)
			for j := range vs {
				vs[j] = strings.Clone(vs[j])
			}
			h[strings.Clone(k)] = vs
		}
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: fmt.Sprintf("/r%d", i)})
		ar.SetHeaders(h)
		ar.Finish()
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	kept := sink.Records()
	if len(kept) != len(steps) {
		t.Fatalf("%d records kept, want %d", len(kept), len(steps))
	}
	for i, s := range steps {
		r := kept[i]
		if r.Path != fmt.Sprintf("/r%d", i) {
			t.Fatalf("record %d is %s", i, r.Path)
		}
		if want := red.Header(s.h); !maps.EqualFunc(r.Headers, want, slices.Equal) {
			t.Errorf("%s: headers %q, want %q", r.Path, r.Headers, want)
		}
		if i == 0 {
			continue
		}
		same := reflect.ValueOf(r.Headers).UnsafePointer() == reflect.ValueOf(kept[i-1].Headers).UnsafePointer()
		if same != s.shared {
			t.Errorf("%s: the map of the record before: %v, want %v (headers %q, before %q)", r.Path, same, s.shared, r.Headers, kept[i-1].Headers)
		}
	}
}

// TestKeptRecordsCutHeaderNames sends, twice, two header names that
// their cap cuts to the same prefix, which headerMap merges into one
// name: the second record holds the same headers as the first, in a map
// of its own (a merged map is never compared with new pairs).
func TestKeptRecordsCutHeaderNames(t *testing.T) {
	sink := recordingtest.NewSink() // keeps records: the recorder has no pool
	rec := recording.New(recording.WithSinks(sink), recording.WithMaxName(16))
	for range 2 {
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		ar.SetHeaders(map[string][]string{"X-Very-Long-Header-A": {"a"}, "X-Very-Long-Header-B": {"b"}})
		ar.Finish()
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	kept := sink.Records()
	if len(kept) != 2 {
		t.Fatalf("%d records kept, want 2", len(kept))
	}
	a, b := kept[0].Headers, kept[1].Headers
	if len(a) != 1 {
		t.Fatalf("headers %q: want one name, the two merged", a)
	}
	for k, vs := range a {
		if got := b[k]; len(got) != 2 || !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(vs))) {
			t.Errorf("second record's headers %q, want %q's values", b, a)
		}
	}
	if reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer() {
		t.Errorf("a merged map shared")
	}
}

// TestKeptRecordsNoOtherRequestsHeader sends a request with a name more
// than the next one, and then one whose pairs are as many as the first's
// names because a name of it has two values (the same value twice, or a
// secret name's two values): the second record holds its own headers,
// never the first request's name and value it did not send.
func TestKeptRecordsNoOtherRequestsHeader(t *testing.T) {
	red := recording.DefaultRedaction()
	for _, tc := range []struct {
		name          string
		first, second map[string][]string
	}{
		{"same value twice",
			map[string][]string{"Accept": {"*/*"}, "User-Agent": {"curl/8"}, "X-Note": {"first request's"}},
			map[string][]string{"Accept": {"*/*", "*/*"}, "User-Agent": {"curl/8"}}},
		{"secret name's two values",
			map[string][]string{"Authorization": {"Bearer a"}, "User-Agent": {"curl/8"}, "X-Note": {"first request's"}},
			map[string][]string{"Authorization": {"Bearer b", "Basic c"}, "User-Agent": {"curl/8"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := recordingtest.NewSink() // keeps records: the recorder has no pool
			rec := recording.New(recording.WithSinks(sink))
			// The first map twice, so that the writer keeps it (and
			// publishes it), then the second.
			for i, h := range []map[string][]string{tc.first, tc.first, tc.second, tc.second} {
				_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: fmt.Sprintf("/r%d", i)})
				ar.SetHeaders(h)
				ar.Finish()
			}
			if err := rec.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			kept := sink.Records()
			if len(kept) != 4 {
				t.Fatalf("%d records kept, want 4", len(kept))
			}
			for i, want := range []map[string][]string{tc.first, tc.first, tc.second, tc.second} {
				if want := red.Header(want); !maps.EqualFunc(kept[i].Headers, want, slices.Equal) {
					t.Errorf("%s: headers %q, want %q", kept[i].Path, kept[i].Headers, want)
				}
			}
		})
	}
}
