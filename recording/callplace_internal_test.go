package recording

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/goappstats/appstats/internal/convention"
)

// fanoutCalls returns n HTTP calls as httpstats records them, each
// call's texts in memory of their own (as a request's would be): its
// summary and url.full, among attributes that are constants.
func fanoutCalls(n int, url func(i int) string) []Call {
	calls := make([]Call, n)
	for i := range calls {
		u := url(i)
		calls[i] = Call{Service: "127.0.0.1:8080", Method: "GET", Request: strings.Clone("GET " + u),
			Attrs: []Attr{
				{Key: convention.KeyHTTPRequestMethod, Value: "GET"},
				{Key: convention.KeyServerAddress, Value: "127.0.0.1"},
				{Key: convention.KeyServerPort, Value: "8080"},
				{Key: convention.KeyURLFull, Value: strings.Clone(u)},
				{Key: convention.KeyHTTPResponseStatusCode, Value: "200"},
			}}
	}
	return calls
}

// TestCallsByPlace: once the writer has redacted a record's calls, a
// record whose calls carry the same summaries and url.full in the same
// places (in memory of their own) is redacted without a look-up of
// either: the cache's table of texts is neither read nor noted; nor is
// the calls' method looked up in the table of texts by address. (Before,
// the summary and url.full were hashed and looked up at every call, and
// the method looked up by its address.)
func TestCallsByPlace(t *testing.T) {
	r := New()
	defer r.Close(t.Context())
	s := r.scrubber()
	url := func(i int) string { return fmt.Sprintf("http://127.0.0.1:8080/item/%d", i) }
	for range 3 { // held by the cache the second time seen clean, by place the third
		s.record(&Record{Method: "GET", Path: "/fanout", Route: "GET /fanout", Calls: fanoutCalls(10, url)})
	}
	clear(s.clean.clean)
	clear(s.clean.seen)
	method := unsafe.StringData(fanoutCalls(1, url)[0].Method)
	for i, e := range s.clean.recent {
		for j := range e {
			if unsafe.StringData(e[j]) == method {
				s.clean.recent[i][j] = ""
			}
		}
	}
	rec := &Record{Method: "GET", Path: "/fanout", Route: "GET /fanout", Calls: fanoutCalls(10, url)}
	want := fanoutCalls(10, url)
	s.record(rec)
	for i := range rec.Calls {
		if c := &rec.Calls[i]; c.Request != want[i].Request || !slices.Equal(c.Attrs, want[i].Attrs) {
			t.Errorf("call %d redacted to %q %q, want it as it was", i, c.Request, c.Attrs)
		}
	}
	if len(s.clean.seen) != 0 || slices.ContainsFunc(s.clean.clean, func(e cleanEntry) bool { return e.s != "" }) {
		t.Errorf("the calls' texts were looked up by their hash (%d noted); want them found by their places", len(s.clean.seen))
	}
	for _, e := range s.clean.recent {
		if unsafe.StringData(e[0]) == method || unsafe.StringData(e[1]) == method {
			t.Error("the calls' method was looked up by its address; want it found by its place")
		}
	}
}

// TestCallsByPlaceSecret: a call whose summary or url.full differs from
// the one found clean in its place in the records before — a secret in
// the second call only, of the same length as the clean text it takes
// the place of, or a call beyond those seen — is redacted as the
// redaction without caches redacts it; so are 2,000 random records of
// calls, clean and secret texts, methods (a secret one as long as a
// clean one) and a secret header's or a status's attribute (values of
// one length) in random places.
func TestCallsByPlaceSecret(t *testing.T) {
	r := New()
	defer r.Close(t.Context())
	s, plain := r.scrubber(), r.otherScrubber()
	clean := func(i int) string { return fmt.Sprintf("http://127.0.0.1:8080/item/%d?a=bbbbbbbb", i) }
	for range 3 {
		s.record(&Record{Method: "GET", Path: "/fanout", Route: "GET /fanout", Calls: fanoutCalls(2, clean)})
	}
	secret := func(i int) string {
		if i == 1 {
			return fmt.Sprintf("http://127.0.0.1:8080/item/%d?token=bbbb", i) // as long as clean(1)
		}
		return clean(i)
	}
	if len(secret(1)) != len(clean(1)) {
		t.Fatal("the secret URL is not as long as the clean one")
	}
	rec := &Record{Method: "GET", Path: "/fanout", Route: "GET /fanout", Calls: fanoutCalls(3, secret)}
	s.record(rec)
	want := fanoutCalls(3, secret)
	for i := range want {
		plain.call(&want[i])
	}
	if got := rec.Calls[1].Attr(convention.KeyURLFull); !strings.Contains(got, Redacted) || strings.Contains(got, "token=bbbb") {
		t.Errorf("second call's url.full %q, want its token redacted", got)
	}
	for i := range want {
		if c := &rec.Calls[i]; c.Request != want[i].Request || !slices.Equal(c.Attrs, want[i].Attrs) {
			t.Errorf("call %d: %q %q, want %q %q", i, c.Request, c.Attrs, want[i].Request, want[i].Attrs)
		}
	}

	texts := []string{
		clean(1), secret(1), clean(2), "http://127.0.0.1:8080/x?password=hunter2",
		"http://user:pw@127.0.0.1:8080/x", "http://127.0.0.1:8080/ok", "",
	}
	methods := []string{"GET", strings.Clone("GET"), "PUT", "POST/abcdefgh", "GET?token=abc"}
	places := []Attr{
		{Key: "http.request.header.authorization", Value: "Bearer s3cret"},
		{Key: "http.request.header.authorization", Value: "Bearer t0ken1"},
		{Key: convention.KeyHTTPResponseStatusCode, Value: "200"},
		{Key: convention.KeyHTTPResponseStatusCode, Value: "Bearer s3cret"},
	}
	probe := Call{Attrs: slices.Clone(places[:1])}
	if plain.call(&probe); probe.Attrs[0].Value != Redacted {

		t.Fatalf("%s is not redacted (%q): the test's secret header is not a secret", places[0].Key, probe.Attrs[0].Value)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 2000 {
		calls := fanoutCalls(rng.IntN(maxLastCalls+4), func(int) string { return texts[rng.IntN(len(texts))] })
		for i := range calls {
			if rng.IntN(3) == 0 {
				calls[i].Request = "GET " + texts[rng.IntN(len(texts))] // a summary unlike its url.full
			}
			if rng.IntN(3) == 0 {
				calls[i].Method = methods[rng.IntN(len(methods))]
			}
			if rng.IntN(3) == 0 {
				// The status's place taken by a secret header or a
				// status, of one length, in memory of their own.
				a := places[rng.IntN(len(places))]
				calls[i].Attrs[4] = Attr{Key: strings.Clone(a.Key), Value: strings.Clone(a.Value)}
			}
		}
		want := slices.Clone(calls)
		for i := range want {
			want[i].Attrs = slices.Clone(calls[i].Attrs)
			plain.call(&want[i])
		}
		rec := &Record{Method: "GET", Path: "/fanout", Route: "GET /fanout", Calls: calls}
		s.record(rec)
		for i := range want {
			if c := &rec.Calls[i]; c.Method != want[i].Method || c.Request != want[i].Request || !slices.Equal(c.Attrs, want[i].Attrs) {
				t.Fatalf("record %d, call %d: %q %q %q, want %q %q %q", n, i, c.Method, c.Request, c.Attrs, want[i].Method, want[i].Request, want[i].Attrs)
			}
		}
	}
}
