package recording

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"maps"
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/internal/convention"
)

// TestCleanTexts checks that the writer's cache of clean texts gives what
// the rules give, however often a text is seen, and never remembers a text
// redaction changed.
func TestCleanTexts(t *testing.T) {
	red := DefaultRedaction()
	rules := red.compiled()
	texts := []string{
		"Method", "GET /users/{id}", "token=hunter2", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
		"4111 1111 1111 1111", "bench", "*/*", "https://u:pw@example.com/x?sig=abc", "",
		strings.Repeat("a", maxCleanLen+1), strings.Repeat("a", maxCleanLen+1) + " password=x",
	}
	c := newCleanTexts()
	for round := range 8 {
		for _, s := range texts {
			if round%2 == 1 {
				// A copy: the same text at another address, found by
				// its hash rather than by its address.
				s = strings.Clone(s)
			}
			want := rules.Text(s)
			if got := c.text(rules, s); got != want {
				t.Fatalf("round %d: text(%q) = %q, want %q", round, s, got, want)
			}
		}
	}
	remembered := 0
	for _, e := range c.clean {
		if e.s == "" {
			continue
		}
		remembered++
		if rules.Text(e.s) != e.s {
			t.Errorf("cache holds %q, which redaction changes", e.s)
		}
		if e.h != maphash.String(c.seed, e.s) {
			t.Errorf("cache holds %q under another hash", e.s)
		}
	}
	if remembered == 0 {
		t.Error("no clean text remembered by its hash after eight rounds")
	}
	recent := 0
	for _, k := range recentTexts(c) {
		if k == "" {
			continue
		}
		recent++
		if rules.Text(k) != k {
			t.Errorf("cache holds %q by its address, which redaction changes", k)
		}
	}
	if recent == 0 {
		t.Error("no clean text remembered by its address after eight rounds")
	}
	// A full cache starts afresh and still answers right.
	for i := range 3 * maxCleanTexts {
		s := fmt.Sprintf("name%d", i%(maxCleanTexts+7))
		if got := c.text(rules, s); got != s {
			t.Fatalf("text(%q) = %q", s, got)
		}
	}
	if len(c.clean) != maxCleanTexts || len(c.seen) > maxCleanTexts {
		t.Errorf("cache grew past its bound: %d clean, %d seen", len(c.clean), len(c.seen))
	}
}

// TestAnalysisGroups checks the N+1 analysis over records of few and of
// many distinct calls, with one analysis reused from record to record as
// the writer reuses it.
func TestAnalysisGroups(t *testing.T) {
	var a analysis
	call := func(m string) Call { return Call{Service: "svc", Method: m, Duration: time.Millisecond} }
	many := &Record{}
	for i := range 40 {
		m := fmt.Sprint("m", i%20) // 20 distinct calls, each twice…
		many.Calls = append(many.Calls, call(m))
	}
	for range 3 {
		many.Calls = append(many.Calls, call("m15"), call("m3")) // …and m3 and m15 five times
	}
	few := &Record{}
	for range 6 {
		few.Calls = append(few.Calls, call("one"))
	}
	few.Calls = append(few.Calls, call("two"))
	for round := range 3 {
		w := a.analyze(nil, many, 5)
		if len(w) != 2 || w[0].Method != "m3" || w[1].Method != "m15" || w[0].Count != 5 || w[1].Count != 5 {
			t.Fatalf("round %d, many: %+v", round, w)
		}
		w = a.analyze(nil, few, 5)
		if len(w) != 1 || w[0].Method != "one" || w[0].Count != 6 || w[0].Total != 6*time.Millisecond {
			t.Fatalf("round %d, few: %+v", round, w)
		}
		if !strings.HasPrefix(w[0].Message, "6 identical svc calls one (6ms in all)") {
			t.Fatalf("message %q", w[0].Message)
		}
	}
	for _, g := range a.groups[:cap(a.groups)] {
		if g.k != (callKey{}) {
			t.Fatalf("analysis keeps a record's strings: %+v", g.k)
		}
	}
}

// TestCallSpans checks the span IDs made for calls: valid, never shared
// within a record, nor with the record's own span, and not the same from
// record to record.
func TestCallSpans(t *testing.T) {
	seen := map[SpanID]bool{}
	for range 3 {
		a := &ActiveRecord{span: NewSpanID()}
		seen[a.span] = true
		for range 20000 {
			s := a.callSpanLocked()
			if !s.IsValid() || seen[s] {
				t.Fatalf("span %v: invalid or made twice", s)
			}
			seen[s] = true
		}
	}
	// Even a record of no span (never one that was started) gets valid IDs.
	a := &ActiveRecord{}
	for range 1000 {
		if s := a.callSpanLocked(); !s.IsValid() {
			t.Fatal("zero span ID")
		}
	}
}

// TestHeaderMapMerges checks that the header map keeps every value of two
// long names cut to the same name, and the note of values left out next
// to a header of the same name.
func TestHeaderMapMerges(t *testing.T) {
	r := New(WithMaxName(len(HeaderTruncated)), WithMaxHeaders(1<<10, 200))
	defer r.Close(t.Context())
	h := map[string][]string{
		"X-Long-Name-1": {"a"},
		"X-Long-Name-2": {"b"},
		HeaderTruncated: {"mine"},
		"Big":           {strings.Repeat("v", 300)},
	}
	flat, _ := r.cfg.flatHeaders(nil, h)
	rec := &Record{hdrFlat: flat}
	out := r.headerMap(rec)
	var cut []string
	for k, vs := range out {
		if strings.HasPrefix(k, "X-Long-Name") {
			cut = append(cut, vs...)
		}
	}
	if len(cut) != 2 {
		t.Errorf("values of the cut names: %q (map %q)", cut, out)
	}
	if vs := out[HeaderTruncated]; len(vs) != 2 || vs[0] != "mine" && vs[1] != "mine" {
		t.Errorf("%s: %q, want the header of that name and the note", HeaderTruncated, vs)
	}
	var n int
	for _, vs := range out {
		n += len(vs)
	}
	if n != len(rec.hdrFlat)/2 {
		t.Errorf("%d values in the map, %d pairs kept", n, len(rec.hdrFlat)/2)
	}
}

// TestHeaderMapRefill checks that a reused record's header map, refilled
// in place when a request sends the names of the last one, holds exactly
// the new request's values, redacted, and that other names, other value
// counts, cut names and the note of values left out rebuild it.
func TestHeaderMapRefill(t *testing.T) {
	r := New(WithMaxName(16), WithMaxHeaders(256, 200))
	defer r.Close(t.Context())
	rec := &Record{}
	long := strings.Repeat("v", 200)
	secretText := "https://user:hunter2hunter2@example.com/x"
	redactedText := r.scrubber().text(secretText)
	steps := []struct {
		h    map[string][]string
		want map[string][]string
	}{
		{map[string][]string{"Accept": {"a"}, "X-Two": {"1", "2"}}, nil},
		// The same names and counts: refilled.
		{map[string][]string{"Accept": {"b"}, "X-Two": {"3", "4"}}, nil},
		// A secret name where the last request had another: rebuilt,
		// then refilled, redacted both times.
		{map[string][]string{"Accept": {"c"}, "Authorization": {"Bearer abc"}}, map[string][]string{"Accept": {"c"}, "Authorization": {Redacted}}},
		{map[string][]string{"Accept": {"d"}, "Authorization": {"Bearer def"}}, map[string][]string{"Accept": {"d"}, "Authorization": {Redacted}}},
		// One value more, one name fewer, one name more.
		{map[string][]string{"Accept": {"e", "f"}, "Authorization": {"x"}}, map[string][]string{"Accept": {"e", "f"}, "Authorization": {Redacted}}},
		{map[string][]string{"Accept": {"g"}}, nil},
		{map[string][]string{"Accept": {"h"}, "X-New": {"i"}}, nil},
		// A cut name, a value left out: never refilled.
		{map[string][]string{"X-Long-Header-Name": {"j"}}, nil},
		{map[string][]string{"X-Long-Header-Name": {"k"}}, nil},
		{map[string][]string{"Big": {long, long}}, nil},
		{map[string][]string{"Big": {long, long}}, nil},
		{map[string][]string{"Accept": {"l"}, "X-New": {"m"}}, nil},
		// A value redaction changed, then a request sending what it
		// was changed to, then the same again: redacted each time as a
		// map built afresh would be (a value equal to the last one is
		// left as it is only when redaction left the last one so).
		{map[string][]string{"Accept": {"l"}, "X-New": {secretText}}, nil},
		{map[string][]string{"Accept": {"l"}, "X-New": {redactedText}}, nil},
		{map[string][]string{"Accept": {"l"}, "X-New": {redactedText}}, nil},
		{map[string][]string{"Accept": {"l"}, "X-New": {secretText}}, nil},
		// The same values again, under a secret name: redacted.
		{map[string][]string{"Accept": {"l"}, "Authorization": {"l"}}, map[string][]string{"Accept": {"l"}, "Authorization": {Redacted}}},
		{map[string][]string{"Accept": {"l"}, "Authorization": {"l"}}, map[string][]string{"Accept": {"l"}, "Authorization": {Redacted}}},
	}
	if redactedText == secretText {
		t.Fatalf("redaction leaves %q as it is", secretText)
	}
	for i, st := range steps {
		rec.hdrFlat, _ = r.cfg.flatHeaders(rec.hdrFlat[:0], st.h)
		flat := slices.Clone(rec.hdrFlat)
		out := r.headerMap(rec)
		want := st.want
		if want == nil {
			// What building the map afresh gives.
			want = r.headerMap(&Record{hdrFlat: flat})
		}
		if !maps.EqualFunc(out, want, slices.Equal) {
			t.Errorf("step %d: headers %q, want %q", i, out, want)
		}
		var size int64
		for k, vs := range out {
			size += headerSize(k, vs)
		}
		if rec.hdrBytes != size {
			t.Errorf("step %d: header bytes %d, want %d", i, rec.hdrBytes, size)
		}
		given := maps.Clone(out)
		for k, vs := range given {
			given[k] = slices.Clone(vs)
		}
		rec.reset()
		// The map keeps the values the sinks were given, redacted, for
		// the next refill; the pairs, the request's own values, are
		// cleared.
		if !maps.EqualFunc(rec.spare.hdr, given, slices.Equal) {
			t.Errorf("step %d: reset kept %q, want the redacted %q", i, rec.spare.hdr, given)
		}
		// Their data pointers are zeroed (dropStringRefs), not their
		// lengths: read only the pointers.
		for j, v := range rec.hdrFlat[:cap(rec.hdrFlat)] {
			if p := unsafe.StringData(v); p != nil {
				t.Errorf("step %d: reset left string %d of the pairs pointing to %p", i, j, p)
			}
		}
	}
}

// TestHeaderMapRefillOrder checks a refill whose names come in another
// order than the map's last fill, and one with a name the map has not.
func TestHeaderMapRefillOrder(t *testing.T) {
	r := New()
	defer r.Close(t.Context())
	first := []string{"Accept", "a", "Cookie", "c1", "Cookie", "c2", "X-Req", "1"}
	rec := &Record{hdrFlat: slices.Clone(first)}
	r.headerMap(rec)
	// A map made afresh keeps no order of its entries: made again, it
	// does.
	rec.reset()
	rec.hdrFlat = append(rec.hdrFlat, first...)
	r.headerMap(rec)
	if len(rec.spare.hdrOrder) != 3 {
		t.Fatalf("order of the entries: %v", rec.spare.hdrOrder)
	}
	for _, st := range []struct {
		flat []string
		want map[string][]string
	}{
		{[]string{"X-Req", "2", "Accept", "b", "Cookie", "c3", "Cookie", "c4"},
			map[string][]string{"Accept": {"b"}, "Cookie": {Redacted, Redacted}, "X-Req": {"2"}}},
		{[]string{"Cookie", "c5", "Cookie", "c6", "X-Req", "3", "Accept", "d"},
			map[string][]string{"Accept": {"d"}, "Cookie": {Redacted, Redacted}, "X-Req": {"3"}}},
		{[]string{"Cookie", "c5", "Cookie", "c6", "X-Other", "3", "Accept", "d"},
			map[string][]string{"Accept": {"d"}, "Cookie": {Redacted, Redacted}, "X-Other": {"3"}}},
		{[]string{"Cookie", "c7", "X-Other", "4", "Accept", "e"},
			map[string][]string{"Accept": {"e"}, "Cookie": {Redacted}, "X-Other": {"4"}}},
	} {
		rec.reset()
		rec.hdrFlat = append(rec.hdrFlat, st.flat...)
		if out := r.headerMap(rec); !maps.EqualFunc(out, st.want, slices.Equal) {
			t.Errorf("pairs %q: headers %q, want %q", st.flat, out, st.want)
		}
	}
}

// TestHeaderMapRefillMany checks a refill of more names than findHeader
// compares, in the reverse order.
func TestHeaderMapRefillMany(t *testing.T) {
	r := New()
	defer r.Close(t.Context())
	rec := &Record{}
	var flat []string
	for i := range 10 {
		flat = append(flat, fmt.Sprintf("X-H%d", i), "a")
	}
	for range 2 { // made afresh, then with the order of its entries
		rec.hdrFlat = append(rec.hdrFlat, flat...)
		r.headerMap(rec)
		rec.reset()
	}
	want := map[string][]string{}
	for i := 9; i >= 0; i-- {
		k := fmt.Sprintf("X-H%d", i)
		rec.hdrFlat = append(rec.hdrFlat, k, fmt.Sprint(i))
		want[k] = []string{fmt.Sprint(i)}
	}
	if out := r.headerMap(rec); !maps.EqualFunc(out, want, slices.Equal) {
		t.Errorf("headers %q, want %q", out, want)
	}
}

// TestRecordPoolReserve checks that records handed back go to the
// reserve first, that the reserve serves when the sync.Pool is empty (as
// after garbage collections), and that it stays within its bound.
func TestRecordPoolReserve(t *testing.T) {
	p := newRecordPool()
	recs := make([]*Record, reserveRecords+10)
	for i := range recs {
		recs[i] = &Record{Method: fmt.Sprint(i)}
		p.put(recs[i])
	}
	if len(p.reserve) != reserveRecords {
		t.Fatalf("reserve holds %d, want %d", len(p.reserve), reserveRecords)
	}
	p.p = sync.Pool{} // what two collections leave of the pool
	seen := map[*Record]bool{}
	for range reserveRecords {
		rec := p.get()
		if seen[rec] {
			t.Fatal("a record handed out twice")
		}
		seen[rec] = true
	}
	for _, rec := range recs[:reserveRecords] {
		if !seen[rec] {
			t.Fatalf("record %s of the reserve not handed out", rec.Method)
		}
	}
	if rec := p.get(); seen[rec] || rec.Method != "" {
		t.Fatalf("with pool and reserve empty, get gave %+v", rec)
	}
}

// TestRecordPoolReserveBytes checks that the reserve keeps records of much
// spare memory only within its byte bound.
func TestRecordPoolReserveBytes(t *testing.T) {
	p := newRecordPool()
	for range 20 {
		rec := &Record{spare: new(spare)}
		rec.spare.pcs = make([]uintptr, 0, maxSparePCs) // 512 KB kept for the next use
		p.put(rec)
	}
	if p.bytes > maxReserveBytes || len(p.reserve) == 0 || len(p.reserve) >= 20 {
		t.Fatalf("reserve holds %d records, %d bytes (bound %d)", len(p.reserve), p.bytes, maxReserveBytes)
	}
	for len(p.reserve) > 0 {
		p.get()
	}
	if p.bytes != 0 {
		t.Fatalf("empty reserve counts %d bytes", p.bytes)
	}
}

// TestTraceSpan checks that records made from one draw each get valid,
// distinct trace and span IDs, that a caller's trace ID is kept, and that
// the trace IDs' halves are evenly spread.
func TestTraceSpan(t *testing.T) {
	s := newIDSource()
	traces := map[TraceID]bool{}
	spans := map[SpanID]bool{}
	var ones [2]int
	const n = 20000
	for range n {
		var tr TraceID
		var sp SpanID
		if !s.traceSpan(&tr, &sp, &TraceID{}) {
			t.Fatal("traceSpan made a trace ID without saying so")
		}
		if !tr.IsValid() || !sp.IsValid() || traces[tr] || spans[sp] {
			t.Fatalf("trace %v span %v: invalid or repeated", tr, sp)
		}
		traces[tr], spans[sp] = true, true
		ones[0] += bits.OnesCount64(binary.BigEndian.Uint64(tr[:8]))
		ones[1] += bits.OnesCount64(binary.BigEndian.Uint64(tr[8:]))
	}
	for i, c := range ones {
		if mean := float64(c) / n; mean < 31.5 || mean > 32.5 {
			t.Errorf("half %d of the trace IDs has %.2f bits set on average, want about 32", i, mean)
		}
	}
	caller := TraceID{1, 2, 3}
	var tr TraceID
	var sp SpanID
	if made := s.traceSpan(&tr, &sp, &caller); made || tr != caller || !sp.IsValid() {
		t.Errorf("with the caller's trace: %v, %v, made %v", tr, sp, made)
	}
}

// TestPathQueryNotHeld checks that the writer's caches never hold a
// record's path or query by its address: they are parts of the request's
// URI, and holding one would keep the whole URI alive.
func TestPathQueryNotHeld(t *testing.T) {
	r := New()
	defer r.Close(t.Context())
	uri := "/hello?x=1" + strings.Repeat("&pad=1", 1000)
	route := "GET /hello"
	for range 4 {
		rec := &Record{Path: uri[:6], Query: uri[7:10], Route: route}
		r.scrub(rec)
		if rec.Path != "/hello" || rec.Query != "x=1" {
			t.Fatalf("path %q query %q", rec.Path, rec.Query)
		}
	}
	s := r.scrubber()
	for _, c := range []*cleanTexts{s.clean, s.queries} {
		for _, e := range recentTexts(c) {
			if e == "" {
				continue
			}
			if p := uintptr(unsafe.Pointer(unsafe.StringData(e))); p >= uintptr(unsafe.Pointer(unsafe.StringData(uri))) &&
				p < uintptr(unsafe.Pointer(unsafe.StringData(uri)))+uintptr(len(uri)) {
				t.Errorf("cache holds %q, part of the request's URI", e)
			}
		}
	}
	if _, ok := s.clean.recentSlot(route); !ok {
		t.Error("the route, a constant, is not held by its address")
	}
}

// TestPreparedSize checks that the estimate of a record's bytes that
// enqueue makes and prepare updates is what recordSize gives for the
// prepared record (with nothing that redaction changes): stacks
// symbolized, header pairs made a map, warnings added; attributes within
// their caps, cut, and more than WithMaxAttrs keeps (capRecord sums their
// bytes as it checks their caps).
func TestPreparedSize(t *testing.T) {
	var mu sync.Mutex
	var got, want []int64
	r := New(WithMaxAttrs(4, 16), WithSinks(SinkFunc(func(_ context.Context, recs []*Record) error {
		mu.Lock()
		defer mu.Unlock()
		for _, rec := range recs {
			got = append(got, rec.size)
			want = append(want, recordSize(rec))
		}
		return nil
	})))
	attrs := [][]Attr{
		{{Key: "a", Value: "1"}, {Key: "bb", Value: "22"}},
		{{Key: "a", Value: strings.Repeat("v", 40)}, {Key: "bb", Value: "22"}},
		{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}, {Key: "d", Value: "4"}, {Key: "e", Value: "5"}},
		nil,
	}
	for i := range 4 {
		ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/size"})
		ar.SetHeaders(map[string][]string{"Accept": {"a", "b"}, "X-Req": {fmt.Sprint(i)}})
		for range 2 + 3*(i%3) { // the last two repeat a call: an N+1 warning
			StartCall(ctx, "sql", "SELECT users").End(nil)
		}
		ar.AddAttrs(attrs[i]...)
		ar.Finish()
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 4 {
		t.Fatalf("%d records written, want 4", len(got))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("record %d: estimate %d, recordSize %d", i, got[i], want[i])
		}
	}
}

// TestCleanAttrs checks that the writer finds attributes left as they are
// by their key's and value's addresses, and that attributes redaction
// changes — a secret key's value, a secret in a plain key's value — are
// redacted every time they come, by the same strings.
func TestCleanAttrs(t *testing.T) {
	r := New()
	defer r.Close(t.Context())
	s := r.scrubber()
	in := []Attr{
		{Key: "url.scheme", Value: "http"},
		{Key: "user_agent.original", Value: "Mozilla/5.0 (X11; Linux x86_64)"},
		{Key: "api_key", Value: "abc123"},
		{Key: "note", Value: "token=hunter2"},
		{Key: "gen_ai.usage.input_tokens", Value: "42"},
		{Key: "gen_ai.usage.output_tokens", Value: "not a number"},
	}
	want := []string{"http", "Mozilla/5.0 (X11; Linux x86_64)", Redacted, "", "42", Redacted}
	for round := range 4 {
		attrs := slices.Clone(in)
		s.attrs(attrs)
		for i, a := range attrs {
			w := want[i]
			if i == 3 {
				w = r.cfg.redaction.compiled().Text(in[3].Value)
			}
			if a.Value != w {
				t.Errorf("round %d: %s = %q, want %q", round, a.Key, a.Value, w)
			}
		}
	}
	s.attrs(slices.Clone(in[:1])) // alone: no other attribute takes its slot
	if _, hit := s.clean.attrSlot(in[0].Key, in[0].Value); hit == nil {
		t.Error("url.scheme=http, left as it is, not held by its addresses")
	}
	for _, e := range heldAttrs(s.clean) {
		if e.key == "" {
			continue
		}
		if e.key != "url.scheme" && e.key != "gen_ai.usage.input_tokens" {
			t.Errorf("attribute %s=%q held as clean", e.key, e.value)
		}
	}
}

// TestSetHeadersFresh checks that a record made afresh, whose header
// pairs and map values share one allocation sized by the names, gets the
// map the pairs make, also when the pairs outgrow their room (names with
// several values, the note of values left out), and keeps every value
// within the caps.
func TestSetHeadersFresh(t *testing.T) {
	small, large := New(WithMaxHeaders(96, 64)), New()
	defer small.Close(t.Context())
	defer large.Close(t.Context())
	for i, h := range []map[string][]string{
		{"Accept": {"a"}, "X-Two": {"1", "2"}},
		{"X-Many": {"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc", "dddddddddddddddd", "eeeeeeeeeeeeeeee"}},
		{"Accept": {"a"}, "X-Three": {"1", "2", "3"}, "Y": {"y"}},
	} {
		r := small
		if i == 2 {
			r = large
		}
		_, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
		rec := ar.r
		rec.spare = new(spare) // made afresh
		rec.hdrFlat = nil
		ar.SetHeaders(h)
		want := r.headerMap(&Record{hdrFlat: slices.Clone(rec.hdrFlat)})
		got := r.headerMap(rec)
		if !maps.EqualFunc(got, want, slices.Equal) {
			t.Errorf("headers %q: map %q, want %q", h, got, want)
		}
		if r == large && !maps.EqualFunc(got, h, slices.Equal) {
			t.Errorf("headers %q within the caps: map %q", h, got)
		}
		ar.FinishAt(ar.Start())
	}
}

// TestKeptRecordNoRawHeaders checks that a record a sink may keep holds
// no unredacted header value in the array its map's values share with
// the pairs SetHeaders kept.
func TestKeptRecordNoRawHeaders(t *testing.T) {
	sink, records := keptRecords()
	r := New(WithSinks(sink))
	_, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
	ar.SetHeaders(map[string][]string{"Authorization": {"Bearer sekrit-token-value"}, "Accept": {"a"}})
	flat := ar.r.hdrFlat[:cap(ar.r.hdrFlat)]
	ar.Finish()
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	got := records()
	if len(got) != 1 || got[0].Headers["Authorization"][0] != Redacted {
		t.Fatalf("records %v", got)
	}
	for _, s := range flat {
		if strings.Contains(s, "sekrit") {
			t.Errorf("the kept record's header array still holds %q", s)
		}
	}
}

// keptRecords returns a sink that keeps the records it is given (not a
// Borrower: the recorder never reuses them), and a function that returns
// them once the recorder is closed.
func keptRecords() (Sink, func() []*Record) {
	var mu sync.Mutex
	var got []*Record
	sink := SinkFunc(func(_ context.Context, recs []*Record) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, recs...)
		return nil
	})
	return sink, func() []*Record {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// TestAnalysisRuns checks the N+1 analysis's counts against a plain count
// by key, over random records whose alike calls come in runs, with
// events and running calls among them, their strings sometimes the same
// memory and sometimes equal copies.
func TestAnalysisRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var a analysis
	// "get" and "getall" share their memory: a run must compare lengths
	// as well as addresses.
	getall := "getall"
	names := []string{"a", "b", getall[:3], getall}
	for round := range 500 {
		r := &Record{}
		for range rng.IntN(40) {
			m := names[rng.IntN(len(names))]
			if rng.IntN(3) == 0 {
				m = strings.Clone(m) // equal, elsewhere in memory
			}
			c := Call{Service: "svc", Method: m, Duration: time.Duration(1+rng.IntN(5)) * time.Microsecond}
			c.Event = rng.IntN(8) == 0
			c.Running = rng.IntN(8) == 0
			r.Calls = append(r.Calls, c)
		}
		type count struct {
			n     int
			total time.Duration
		}
		want := map[string]count{}
		var order []string
		running := 0
		for _, c := range r.Calls {
			if c.Event {
				continue
			}
			if c.Running {
				running++
			}
			if _, ok := want[c.Method]; !ok {
				order = append(order, c.Method)
			}
			w := want[c.Method]
			want[c.Method] = count{w.n + 1, w.total + c.Duration}
		}
		const threshold = 4
		var wantW []Warning
		if len(r.Calls) >= threshold {
			for _, m := range order {
				if w := want[m]; w.n >= threshold {
					wantW = append(wantW, Warning{Kind: WarnRepeated, Service: "svc", Method: m, Count: w.n, Total: w.total})
				}
			}
		}
		got := a.analyze(nil, r, threshold)
		if running > 0 {
			if len(got) == 0 || got[len(got)-1].Kind != WarnRunning || got[len(got)-1].Count != running {
				t.Fatalf("round %d: running %d, warnings %+v", round, running, got)
			}
			got = got[:len(got)-1]
		}
		if len(got) != len(wantW) {
			t.Fatalf("round %d: got %+v, want %+v", round, got, wantW)
		}
		for i := range got {
			g, w := got[i], wantW[i]
			if g.Method != w.Method || g.Count != w.Count || g.Total != w.Total || g.Kind != w.Kind {
				t.Fatalf("round %d, warning %d: got %+v, want %+v", round, i, g, w)
			}
		}
	}
}

// TestFlatHeadersSize checks that flatHeaders counts the pairs it keeps as
// a walk of them would (each string's header and bytes): for names and
// values kept whole, cut, hidden (a long secret name) and the note of
// values left out.
func TestFlatHeadersSize(t *testing.T) {
	r := New(WithMaxName(16), WithMaxHeaders(512, 100))
	defer r.Close(t.Context())
	for _, h := range []map[string][]string{
		nil,
		{"Accept": {"*/*"}, "User-Agent": {"curl/8"}},
		{"Accept": {"a", "b"}, "X-Value-Cut": {strings.Repeat("v", 300)}},
		{"X-Very-Long-Header-Name": {"1"}, "X-Very-Long-Api-Key-Name": {"secret"}},
		{"A": {strings.Repeat("a", 90)}, "B": {strings.Repeat("b", 90)}, "C": {strings.Repeat("c", 90)},
			"D": {strings.Repeat("d", 90)}, "E": {strings.Repeat("e", 90), strings.Repeat("e", 90)}},
	} {
		flat, size := r.cfg.flatHeaders(nil, h)
		var want int64
		for _, s := range flat {
			want += sizeString + int64(len(s))
		}
		if size != want {
			t.Errorf("headers %q: size %d, a walk of the pairs %q counts %d", h, size, flat, want)
		}
	}
}

// borrowingSink is a sink that keeps nothing of a record: the recorder
// reuses its records (see Borrower). write sees each record.
type borrowingSink struct{ write func(*Record) }

func (s borrowingSink) Write(_ context.Context, recs []*Record) error {
	for _, rec := range recs {
		s.write(rec)
	}
	return nil
}

func (borrowingSink) BorrowsRecords() bool { return true }

// TestUserAgentNotHeld checks that the writer redacts a request's
// User-Agent value, recorded both as a header and as user_agent.original
// (the same string, as httpstats records it), the same way in both places,
// and that none of its caches meant for constants holds the request's
// string by its address afterwards: not the texts', not the attributes',
// not the one it redacts both places from. Records are made afresh (a sink
// that keeps them) and reused (one that borrows them), where the header
// map is rebuilt, refilled, or taken as it is when the same values come
// again.
func TestUserAgentNotHeld(t *testing.T) {
	for _, borrowed := range []bool{false, true} {
		var mu sync.Mutex
		var problems []string
		check := func(rec *Record) {
			mu.Lock()
			defer mu.Unlock()
			h := rec.Headers["User-Agent"]
			a := rec.Attr(convention.KeyUserAgentOriginal)
			if len(h) != 1 || h[0] != a {
				problems = append(problems, fmt.Sprintf("header %q, attribute %q", h, a))
			}
			if strings.Contains(a, "hunter2") {
				problems = append(problems, fmt.Sprintf("attribute %q holds the secret", a))
			}
		}
		var sink Sink = SinkFunc(func(_ context.Context, recs []*Record) error {
			for _, rec := range recs {
				check(rec)
			}
			return nil
		})
		if borrowed {
			sink = borrowingSink{check}
		}
		r := New(WithSinks(sink))
		var sent []string // every value sent, kept alive: no address is reused
		uas := []string{
			"Go-http-client/1.1", "Go-http-client/1.1", "Go-http-client/1.1",
			"Mozilla/5.0 (X11; Linux x86_64) token=hunter2hunter2", "Mozilla/5.0 (X11; Linux x86_64) token=hunter2hunter2",
			"curl/8.5.0", "Go-http-client/1.1", "Go-http-client/1.1",
		}
		for round := range 3 {
			for _, ua := range uas {
				v := string([]byte(ua)) // a new string, as a server parses it
				sent = append(sent, v)
				_, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/hello"})
				h := map[string][]string{"User-Agent": {v}, "Accept-Encoding": {"gzip"}}
				if round == 2 {
					h["Accept"] = []string{"*/*"} // other names: the map rebuilt
				}
				ar.SetHeaders(h)
				kept, ok := ar.KeptHeader("User-Agent")
				if !ok || kept != v {
					t.Fatalf("KeptHeader: %q, %v", kept, ok)
				}
				ar.AddAttrs(Attr{Key: convention.KeyURLScheme, Value: "http"},
					Attr{Key: convention.KeyUserAgentOriginal, Value: kept})
				ar.Finish()
				time.Sleep(time.Millisecond) // mostly one record a batch: records reused
			}
		}
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("borrowed %v: %s", borrowed, p)
		}
		s := r.scrubber()
		if s.ua != "" || s.uaRed != "" {
			t.Errorf("borrowed %v: the writer still holds the user agent %q (%q)", borrowed, s.ua, s.uaRed)
		}
		within := func(e string) bool {
			p := uintptr(unsafe.Pointer(unsafe.StringData(e)))
			for _, v := range sent {
				if q := uintptr(unsafe.Pointer(unsafe.StringData(v))); p >= q && p < q+uintptr(len(v)) {
					return true
				}
			}
			return false
		}
		for _, c := range []*cleanTexts{s.clean, s.queries} {
			for _, e := range recentTexts(c) {
				if e != "" && within(e) {
					t.Errorf("borrowed %v: the texts' cache holds the request's %q", borrowed, e)
				}
			}
			for _, e := range heldAttrs(c) {
				if e.value != "" && within(e.value) {
					t.Errorf("borrowed %v: the attributes' cache holds %s=%q, the request's", borrowed, e.key, e.value)
				}
			}
		}
	}
}

// TestPathByRoute checks that the writer's paths and queries by route
// give each record's path and query as the rules redact them — paths with secrets, paths that
// change under one route, the same path under two routes, a route
// redaction changes — that a route's slot ends up holding the path its
// requests send again, and that no slot holds a request's own string or
// a text redaction changed.
func TestPathByRoute(t *testing.T) {
	r := New()
	defer r.Close(t.Context())
	s := r.scrubber()
	rules := r.cfg.redaction.compiled()
	routes := []string{"GET /items/{id}", "GET /hello", "GET /a?token=hunter2hunter2"}
	paths := []string{
		"/hello", "/items/1", "/items/22", "/items/hello",
		"/items/https://user:hunter2hunter2@example.com/x",
		"/items/ghp_0123456789abcdefghijABCDEFGHIJ012345",
		"/x", strings.Repeat("/long", 60),
	}
	queries := []string{"", "x=1", "x=1", "token=hunter2hunter2", "a=b&password=hunter2", "id=42&sort=asc"}
	var sent []string // every path and query sent, kept alive: no address is reused
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		route := routes[rng.IntN(len(routes))]
		p := string([]byte(paths[rng.IntN(len(paths))])) // a new string, as a server parses it
		q := string([]byte(queries[rng.IntN(len(queries))]))
		sent = append(sent, p, q)
		rec := &Record{Path: p, Query: q, Route: route}
		s.record(rec)
		if want := rules.Text(p); rec.Path != want {
			t.Fatalf("path %q under %q: %q, want %q", p, route, rec.Path, want)
		}
		if want := rules.Query(q); rec.Query != want {
			t.Fatalf("query %q under %q: %q, want %q", q, route, rec.Query, want)
		}
		if want := rules.Text(route); rec.Route != want {
			t.Fatalf("route %q: %q, want %q", route, rec.Route, want)
		}
	}
	for range 3 { // a path and a query sent again, alone: the route's slots hold them
		s.record(&Record{Path: string([]byte("/hello")), Query: string([]byte("x=1")), Route: routes[1]})
	}
	held := false
	for _, e := range s.queries.paths {
		if e.route == routes[1] && e.text == "x=1" {
			held = true
		}
		if e.text != "" && rules.Query(e.text) != e.text {
			t.Errorf("query slot %q: %q, which redaction changes", e.route, e.text)
		}
		p := uintptr(unsafe.Pointer(unsafe.StringData(e.text)))
		for _, v := range sent {
			if q := uintptr(unsafe.Pointer(unsafe.StringData(v))); p >= q && p < q+uintptr(len(v)) {
				t.Errorf("query slot %q holds the request's own %q", e.route, e.text)
			}
		}
	}
	if !held {
		t.Error("GET /hello's query slot does not hold x=1, sent again and again")
	}
	held = false
	for _, e := range s.clean.paths {
		if e.route == "" {
			continue
		}
		if e.route == routes[1] && e.text == "/hello" {
			held = true
		}
		if rules.Text(e.text) != e.text || rules.Text(e.route) != e.route {
			t.Errorf("slot %q: %q, which redaction changes", e.route, e.text)
		}
		p := uintptr(unsafe.Pointer(unsafe.StringData(e.text)))
		for _, v := range sent {
			if q := uintptr(unsafe.Pointer(unsafe.StringData(v))); p >= q && p < q+uintptr(len(v)) {
				t.Errorf("slot %q holds the request's own %q", e.route, e.text)
			}
		}
	}
	if !held {
		t.Error("GET /hello's slot does not hold /hello, sent again and again")
	}
	// sameByRoute: the path and the query the route's slots hold, in new
	// strings, are told clean at once; any other text, or another
	// route, is not (record then takes byRoute's way).
	hello := routes[1]
	for _, c := range []struct {
		path, query, route string
		want               bool
	}{
		{"/hello", "x=1", hello, true},
		{"/hello", "", hello, true},
		{"/hello", "x=2", hello, false},
		{"/hellp", "x=1", hello, false},
		{"/hello", "x=1", strings.Clone(hello), false}, // the same route at another address
		{"/hello", "x=1", routes[0], false},
	} {
		got := sameByRoute(s.clean, s.queries, string([]byte(c.path)), string([]byte(c.query)), c.route)
		if got != c.want {
			t.Errorf("sameByRoute(%q, %q, %q) = %v, want %v", c.path, c.query, c.route, got, c.want)
		}
	}
}

// TestScrubCallsRuns checks the writer's pass over a record's calls
// (scrubber.calls, and cleanRun within it) against redacting each call
// alone without the writer's caches: runs of calls with nothing to redact
// and a method in the very memory of the one before, broken by a call
// with a summary, a response, an error or attributes (any one of them), a
// method equal but elsewhere in memory, a prefix of the method in the same
// memory, a method to redact, or an empty one.
func TestScrubCallsRuns(t *testing.T) {
	r := New()
	defer r.Close(t.Context())
	const secret = "https://u:PASS@h/x?token=SECRET"
	base := "GET api.example.com/users"
	methods := []string{base, base, base, base[:3], strings.Clone(base), "GET /reset?token=SECRET", ""}
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 2000 {
		var calls []Call
		for range rng.IntN(12) {
			c := Call{Service: "http", Method: methods[rng.IntN(len(methods))]}
			switch rng.IntN(10) {
			case 0:
				c.Request = secret
			case 1:
				c.Response = secret
			case 2:
				c.Error = secret
			case 3:
				c.Attrs = []Attr{{Key: "url.full", Value: secret}}
			}
			calls = append(calls, c)
		}
		want := make([]Call, len(calls))
		for i := range calls {
			want[i] = calls[i]
			want[i].Attrs = slices.Clone(calls[i].Attrs)
			r.otherScrubber().call(&want[i])
		}
		r.scrubber().calls(calls)
		for i := range calls {
			g, w := calls[i], want[i]
			if g.Method != w.Method || g.Request != w.Request || g.Response != w.Response || g.Error != w.Error ||
				!slices.Equal(g.Attrs, w.Attrs) {
				t.Fatalf("round %d, call %d: got %+v, want %+v", round, i, g, w)
			}
		}
	}
}

// TestStackCacheRecent checks the stacks a stackCache keeps at hand: a
// stack found again is found in its slot of recent, without the map; a
// stack of the same slot but other PCs gets its own frames, not the slot's.
func TestStackCacheRecent(t *testing.T) {
	sym := newSymbolizer()
	c := newStackCache(maxStackCache)
	a := captureAt(3)
	if len(a) < 6 {
		t.Fatalf("captureAt: %d frames", len(a))
	}
	f := c.frames(sym, a, 16)
	if e := c.recent[recentSlot(a)].Load(); e == nil || !slices.Equal(e.pcs, a) {
		t.Fatal("a stack looked up is not kept at hand")
	}
	clear(c.m) // a hit now can only come from recent
	if g := c.frames(sym, slices.Clone(a), 16); len(g) == 0 || &g[0] != &f[0] {
		t.Fatal("a stack found again was not found at hand")
	}
	// The last PC is neither the middle one nor the third: same slot.
	b := slices.Clone(a)
	b[len(b)-1] = a[1]
	if recentSlot(b) != recentSlot(a) {
		t.Fatal("recentSlot: b was to share a's slot")
	}
	if got, want := c.frames(sym, b, 16), sym.frames(b, 16); !slices.Equal(got, want) {
		t.Fatalf("a stack of the same slot: got %v, want %v", got, want)
	}
	if got, want := c.frames(sym, a, 15), sym.frames(a, 15); !slices.Equal(got, want) {
		t.Fatalf("fewer frames kept: got %v, want %v", got, want)
	}
}

// TestAppendMicros checks appendMicros against
// d.Round(time.Microsecond).String(), which it writes without its general
// formatting: at the units' edges, where rounding carries, and at random.
func TestAppendMicros(t *testing.T) {
	ds := []time.Duration{0, 1, 499, 500, 999, 1000, 1499, 1500, 999_499, 999_500, 999_999, time.Millisecond,
		time.Millisecond + 1, 1_000_500, 1_001_000, 1_010_000, 1_100_000, 1_234_567, 12_345_678, 999_999_499,
		999_999_500, time.Second, 90 * time.Minute, -1, -1500, math.MaxInt64, math.MinInt64}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		ds = append(ds, time.Duration(rng.Int64N(int64(2*time.Second))))
	}
	for _, d := range ds {
		if got, want := string(appendMicros([]byte("x"), d)), "x"+d.Round(time.Microsecond).String(); got != want {
			t.Fatalf("%d: got %q, want %q", d, got, want)
		}
	}
}

// TestRepeatedPrefixReused checks the repeated-call warnings of records
// in a row whose starts the analysis finds in its buffer: the same count
// and names' lengths with other names, another count, a warning of
// running calls in between, two warnings in one record.
func TestRepeatedPrefixReused(t *testing.T) {
	var a analysis
	rec := func(groups ...string) *Record { // "svc.method*n", running if prefixed by "!"
		r := &Record{}
		for _, g := range groups {
			running := strings.HasPrefix(g, "!")
			g = strings.TrimPrefix(g, "!")
			sm, n, _ := strings.Cut(g, "*")
			svc, m, _ := strings.Cut(sm, ".")
			k, _ := strconv.Atoi(n)
			for range k {
				r.Calls = append(r.Calls, Call{Service: svc, Method: m, Duration: time.Millisecond, Running: running})
			}
		}
		return r
	}
	for i, tc := range []struct {
		r    *Record
		want []string
	}{
		{rec("svc.one*6"), []string{"6 identical svc calls one (6ms"}},
		{rec("svc.one*6"), []string{"6 identical svc calls one (6ms"}},
		{rec("abc.two*6"), []string{"6 identical abc calls two (6ms"}},
		{rec("abc.two*7"), []string{"7 identical abc calls two (7ms"}},
		{rec("abc.two*7", "!x.y*1"), []string{"7 identical abc calls two (7ms", "1 call(s) still running"}},
		{rec("abc.two*7"), []string{"7 identical abc calls two (7ms"}},
		{rec("abc.two*7", "svc.one*7"), []string{"7 identical abc calls two (7ms", "7 identical svc calls one (7ms"}},
		{rec("svc.one*7", "abc.two*7"), []string{"7 identical svc calls one (7ms", "7 identical abc calls two (7ms"}},
		{rec("ab.ctwo*7"), []string{"7 identical ab calls ctwo (7ms"}},
	} {
		w := a.analyze(nil, tc.r, 5)
		if len(w) != len(tc.want) {
			t.Fatalf("record %d: warnings %+v, want %q", i, w, tc.want)
		}
		for j := range w {
			if !strings.HasPrefix(w[j].Message, tc.want[j]) {
				t.Errorf("record %d, warning %d: %q, want %q…", i, j, w[j].Message, tc.want[j])
			}
		}
	}
}

// TestRecordAttrsByPlace redacts 3,000 random records' attributes with the
// writer's scrubber, which leaves an attribute in the very memory of the
// one in its place in the last record as it is (cleanTexts.last), and
// checks each against the redaction without caches: keys and values that
// share memory (a secret key the prefix of a clean one, a clean value the
// prefix of a secret one), secret keys, secrets in values, counts, a
// request's own text (user_agent.original), empty ones, in places that
// change from record to record. last may hold only attributes redaction
// leaves as they are; a request's own text only as the copy the cache
// holds, never the record's string.
func TestRecordAttrsByPlace(t *testing.T) {
	r := New()
	defer r.Close(t.Context())
	s, plain := r.scrubber(), r.otherScrubber()
	keys := "tokenizer"
	vals := "hunter2-and-more-password=hunter2"
	candidates := []Attr{
		{Key: "url.scheme", Value: "http"},
		{Key: "network.protocol.version", Value: "1.1"},
		{Key: keys, Value: vals[:7]},     // clean
		{Key: keys[:5], Value: vals[:7]}, // "token": secret
		{Key: keys, Value: vals},         // a secret in the value
		{Key: "note", Value: vals[:16]},  // clean, the prefix of a secret
		{Key: "note", Value: vals},
		{Key: "password", Value: "x"},
		{Key: "gen_ai.usage.input_tokens", Value: "42"},
		{Key: "gen_ai.usage.input_tokens", Value: "forty-two"},
		{Key: convention.KeyUserAgentOriginal, Value: "curl/8.5.0"},
		{Key: convention.KeyUserAgentOriginal, Value: "Mozilla/5.0 token=hunter2hunter2"},
		{Key: "note", Value: ""},
		{Key: "", Value: "x"},
		{Key: convention.KeyRouteUnmatched, Value: "true"},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		n := rng.IntN(len(s.clean.last) + 3)
		in := make([]Attr, n)
		for j := range in {
			in[j] = candidates[rng.IntN(len(candidates))]
			if rng.IntN(8) == 0 {
				// The same texts in memory of their own.
				in[j] = Attr{Key: strings.Clone(in[j].Key), Value: strings.Clone(in[j].Value)}
			}
		}
		want := slices.Clone(in)
		plain.attrs(want)
		rec := &Record{Method: "GET", Path: "/p", Route: "GET /p", Attrs: slices.Clone(in)}
		s.record(rec)
		if !slices.Equal(rec.Attrs, want) {
			t.Fatalf("record %d: attributes %q redacted to %q, want %q", i, in, rec.Attrs, want)
		}
	}
	held := 0
	for _, l := range s.clean.last {
		if l == (cleanAttr{}) {
			continue
		}
		held++
		a := []Attr{{Key: l.key, Value: l.value}}
		plain.attrs(a)
		if a[0].Value != l.value {
			t.Errorf("last holds %s=%q, which redaction changes", l.key, l.value)
		}
		if l.key == convention.KeyUserAgentOriginal {
			k := s.clean.held(maphash.String(s.clean.seed, l.value), l.value)
			if k == nil || unsafe.StringData(k.s) != unsafe.StringData(l.value) {
				t.Errorf("last holds %s=%q, a request's text, not as the cache's copy", l.key, l.value)
			}
		}
	}
	if held == 0 {
		t.Error("last holds no attribute")
	}
}

// TestFinishDropsChunks checks that a finished record keeps none of its
// chunks of call slots alive: FinishAt clears only the slice headers of
// inline the chunks used, so this checks it finds them all — none, one,
// and more chunks than inline holds.
func TestFinishDropsChunks(t *testing.T) {
	r := New(WithMaxCalls(1000))
	defer r.Close(t.Context())
	for _, calls := range []int{0, 1, 4, 5, 200} {
		ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/"})
		for range calls {
			StartCall(ctx, "svc", "Get").End(nil)
		}
		if want := min(calls, 1); min(len(ar.chunks), 1) != want {
			t.Fatalf("%d calls: %d chunks", calls, len(ar.chunks))
		}
		if calls == 200 && len(ar.chunks) <= len(ar.inline) {
			t.Fatalf("%d calls: %d chunks, no more than inline holds", calls, len(ar.chunks))
		}
		ar.Finish()
		if ar.chunks != nil || ar.lastPCs != nil {
			t.Errorf("%d calls: chunks or lastPCs kept after Finish", calls)
		}
		for i, c := range ar.inline {
			if c != nil {
				t.Errorf("%d calls: inline[%d] keeps a chunk after Finish", calls, i)
			}
		}
	}
}

// recentTexts returns the texts c.recent holds by their address, empty
// entries included.
func recentTexts(c *cleanTexts) []string {
	var ts []string
	for _, e := range c.recent {
		ts = append(ts, e[:]...)
	}
	return ts
}

// TestSameRunStops checks sameRun's count and total, which read Running and
// Event as one word and walk the calls by address: a run ends at the
// first call that is running, an event, or of other strings (another
// address, or the same address and another length), and an empty slice
// is no run.
func TestSameRunStops(t *testing.T) {
	method := "getall"
	c := &Call{Service: "svc", Method: method[:3], Request: "q"}
	if n, total := sameRun(nil, c); n != 0 || total != 0 {
		t.Fatalf("no calls: %d, %v", n, total)
	}
	for _, tc := range []struct {
		name   string
		change func(*Call)
	}{
		{"running", func(d *Call) { d.Running = true }},
		{"event", func(d *Call) { d.Event = true }},
		{"running event", func(d *Call) { d.Running, d.Event = true, true }},
		{"service elsewhere", func(d *Call) { d.Service = strings.Clone(d.Service) }},
		{"method longer", func(d *Call) { d.Method = method }},
		{"request empty", func(d *Call) { d.Request = "" }},
	} {
		for at := range 5 {
			calls := make([]Call, 5)
			for i := range calls {
				calls[i] = *c
				calls[i].Duration = time.Duration(1+i) * time.Millisecond
			}
			tc.change(&calls[at])
			n, total := sameRun(calls, c)
			var want time.Duration
			for i := range at {
				want += calls[i].Duration
			}
			if n != at || total != want {
				t.Errorf("%s at %d: %d, %v; want %d, %v", tc.name, at, n, total, at, want)
			}
		}
	}
	calls := []Call{*c, *c, *c}
	if n, _ := sameRun(calls, c); n != 3 {
		t.Errorf("all alike: %d", n)
	}
	// Twenty calls (4,800 bytes, in an object of 4,864): a Call at the
	// slice's end would straddle the next object, which checkptr fails
	// under -race. No pointer past the last call is made.
	for range 8 {
		calls = make([]Call, 20)
		for i := range calls {
			calls[i] = *c
		}
		if n, _ := sameRun(calls[1:], c); n != len(calls)-1 {
			t.Errorf("all alike to the slice's end: %d", n)
		}
	}
}

// heldAttrs returns the attributes c's table of clean attributes holds.
func heldAttrs(c *cleanTexts) []cleanAttr {
	var out []cleanAttr
	for i := range c.attrs {
		out = append(out, c.attrs[i][:]...)
	}
	return out
}

// TestCleanAttrsShareSlot checks that two clean attributes whose
// addresses give the same slot of the writer's table are both held, so
// that neither is looked up again record after record (one entry a slot
// lost half of the fanout's server.address and server.port each record),
// that a third in that slot takes the place of the one kept first, and
// that each keeps its own value.
func TestCleanAttrsShareSlot(t *testing.T) {
	r := New()
	defer r.Close(t.Context())
	s := r.scrubber()
	const key = "server.address"
	slots := map[*[2]cleanAttr][]string{}
	var same []string
	for i := 0; len(same) < 3; i++ {
		v := strings.Clone(fmt.Sprintf("host-%d.example", i))
		e, _ := s.clean.attrSlot(key, v)
		slots[e] = append(slots[e], v)
		if len(slots[e]) == 3 {
			same = slots[e]
		}
	}
	held := func(v string) bool { _, hit := s.clean.attrSlot(key, v); return hit != nil }
	for round := range 2 {
		attrs := []Attr{{Key: key, Value: same[0]}, {Key: key, Value: same[1]}}
		s.attrs(attrs)
		if attrs[0].Value != same[0] || attrs[1].Value != same[1] {
			t.Fatalf("round %d: attributes became %v", round, attrs)
		}
		if !held(same[0]) || !held(same[1]) {
			t.Errorf("round %d: two attributes of one slot: %s held %v, %s held %v", round, same[0], held(same[0]), same[1], held(same[1]))
		}
	}
	s.attrs([]Attr{{Key: key, Value: same[2]}})
	if !held(same[2]) || !held(same[1]) || held(same[0]) {
		t.Errorf("a third attribute of the slot: held %v %v %v, want false true true", held(same[0]), held(same[1]), held(same[2]))
	}
}

// TestAnalysisTags checks that calls whose keys have the same tag (see
// tagOf) but differ — in the middle of their request summaries, in their
// method or service of the same length — are groups of their own, each
// counted, over records of few groups and of more than maxLinearGroups,
// and that one key in several copies of its strings is one group.
func TestAnalysisTags(t *testing.T) {
	keys := []callKey{
		{"http", "GET a/{id}", "GET http://a/1/all-items"},
		{"http", "GET a/{id}", "GET http://a/2/all-items"},
		{"http", "PUT a/{id}", "GET http://a/1/all-items"},
		{"grpc", "GET a/{id}", "GET http://a/1/all-items"},
	}
	for i := 1; i < len(keys); i++ {
		if tagOf(keys[i]) != tagOf(keys[0]) {
			t.Fatalf("keys %v and %v: tags differ; the test needs them equal", keys[0], keys[i])
		}
	}
	for _, extra := range []int{0, maxLinearGroups} {
		var a analysis
		r := &Record{}
		for range 5 {
			for _, k := range keys {
				// Copies of the strings: equal by their bytes only.
				r.Calls = append(r.Calls, Call{Service: strings.Clone(k.service), Method: strings.Clone(k.method),
					Request: strings.Clone(k.request), Duration: time.Millisecond})
			}
		}
		for i := range extra {
			r.Calls = append(r.Calls, Call{Service: "http", Method: "GET", Request: fmt.Sprint("GET /other/", i)})
		}
		for round := range 2 {
			w := a.analyze(nil, r, 5)
			if len(w) != len(keys) {
				t.Fatalf("%d more groups, round %d: %d warnings, want %d: %+v", extra, round, len(w), len(keys), w)
			}
			for i, k := range keys {
				if got := (callKey{w[i].Service, w[i].Method, w[i].Request}); got != k || w[i].Count != 5 {
					t.Errorf("%d more groups, round %d: warning %d is %v ×%d, want %v ×5", extra, round, i, got, w[i].Count, k)
				}
			}
		}
	}
}
