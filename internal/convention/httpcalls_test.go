package convention

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// prefixRedactor writes a URL out behind a prefix of its own, so that two
// of them give different texts for one URL.
type prefixRedactor struct{ prefix string }

func (p *prefixRedactor) URL(u *url.URL) string { return p.prefix + u.String() }

func mustParse(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// entries returns the URLs c remembers, written out.
func entries[R interface {
	comparable
	URLRedactor
}](c *HTTPCalls[R]) []string {
	var out []string
	for i := range c.sets {
		for j := range c.sets[i].ways {
			if e := c.sets[i].ways[j].Load(); e != nil {
				out = append(out, e.method+" "+e.u.String())
			}
		}
	}
	return out
}

func TestHTTPCallsSameAsUncached(t *testing.T) {
	rules := NewRules(DefaultSecretWords(), true)
	urls := []string{
		"http://127.0.0.1:8080/item/1",
		"http://127.0.0.1:8080/item/2?q=1",
		"https://api.example.com/users/42/orders",
		"https://api.example.com/users/42/orders#frag",
		"https://api.example.com/users/42/orders?",
		"https://API.example.com:443/a%2Fb/c",
		"http://[::1]:9000/x",
		"https://api.example.com/x?token=s3cr3t-value-abcdef",     // redacted: never remembered
		"https://user:pw@api.example.com/x",                       // user information: never remembered
		"https://api.example.com/" + strings.Repeat("a", 300),     // too long: never remembered
		"http://api.example.com/x",                                // differs from the next only in its scheme
		"https://api.example.com/x",                               // (the scheme is not hashed: same set)
		"mailto:someone@example.com",                              // opaque
		"https://api.example.com/p?a=1&api_key=AKIA0123456789ABC", // redacted
	}
	var c HTTPCalls[*Rules]
	for round := range 4 {
		for _, s := range urls {
			for _, method := range []string{"", "GET", "POST"} {
				u := mustParse(t, s)
				name, call := c.Get(method, u, rules)
				if want := HTTPURLCallName(method, u); name != want {
					t.Errorf("round %d: Get(%q, %s) name = %q, want %q", round, method, s, name, want)
				}
				if want := NewHTTPCall(method, u, rules); call != want {
					t.Errorf("round %d: Get(%q, %s) call = %+v, want %+v", round, method, s, call, want)
				}
			}
		}
	}
	got := entries(&c)
	if len(got) == 0 {
		t.Fatal("nothing remembered")
	}
	for _, e := range got {
		for _, secret := range []string{"s3cr3t", "AKIA", "user:pw", "aaaaaaaa"} {
			if strings.Contains(e, secret) {
				t.Errorf("remembered %q, which holds %q", e, secret)
			}
		}
	}
}

func TestHTTPCallsRedactors(t *testing.T) {
	a, b := &prefixRedactor{"a:"}, &prefixRedactor{"b:"}
	var c HTTPCalls[*prefixRedactor]
	u := mustParse(t, "http://h/x")
	for range 3 {
		if _, call := c.Get("GET", u, a); call.Request != "GET a:http://h/x" {
			t.Fatalf("with a: %q", call.Request)
		}
		if _, call := c.Get("GET", u, b); call.Request != "GET b:http://h/x" {
			t.Fatalf("with b: %q", call.Request)
		}
	}
	// Both redactors changed the text: nothing is remembered.
	if got := entries(&c); len(got) != 0 {
		t.Errorf("remembered %q", got)
	}
}

func TestHTTPCallsBounded(t *testing.T) {
	var c HTTPCalls[*Rules]
	for i := range 20000 {
		c.Get("GET", mustParse(t, fmt.Sprintf("http://host%d.example.com/p/%d", i%5000, i)), nil)
	}
	if n := len(entries(&c)); n > httpCallWays*httpCallSets {
		t.Errorf("%d URLs remembered, want at most %d", n, httpCallWays*httpCallSets)
	}
	// The URLs a client repeats are remembered in spite of the others
	// (TestHTTPCallsSharedSet: when up to four share a set).
	var repeated []*url.URL
	used := map[uint64]bool{}
	for i := 0; len(repeated) < 10; i++ {
		u := mustParse(t, fmt.Sprintf("http://backend:8080/item/%d", i))
		if set := c.hash("GET", u) % httpCallSets; !used[set] {
			used[set] = true
			repeated = append(repeated, u)
		}
	}
	for range 3 {
		for _, u := range repeated {
			c.Get("GET", u, nil)
		}
	}
	remembered := 0
	for _, e := range entries(&c) {
		if strings.HasPrefix(e, "GET http://backend:8080/item/") {
			remembered++
		}
	}
	if remembered != len(repeated) {
		t.Errorf("%d of the 10 repeated URLs remembered", remembered)
	}
}

func TestHTTPCallsHitAllocs(t *testing.T) {
	rules := NewRules(DefaultSecretWords(), true)
	var c HTTPCalls[*Rules]
	u := mustParse(t, "http://127.0.0.1:8080/item/7?q=1")
	c.Get("GET", u, rules)
	c.Get("GET", u, rules)
	if n := testing.AllocsPerRun(100, func() { c.Get("GET", u, rules) }); n != 0 {
		t.Errorf("a remembered URL costs %v allocations, want 0", n)
	}
}

func TestHTTPCallsConcurrent(t *testing.T) {
	rules := NewRules(DefaultSecretWords(), true)
	var c HTTPCalls[*Rules]
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 2000 {
				s := fmt.Sprintf("http://h%d/item/%d?n=%d", (g+i)%3, i%40, i%7)
				u := mustParse(t, s)
				name, call := c.Get("GET", u, rules)
				if want := HTTPURLCallName("GET", u); name != want {
					t.Errorf("name of %s = %q, want %q", s, name, want)
					return
				}
				if want := NewHTTPCall("GET", u, rules); call != want {
					t.Errorf("call of %s = %+v, want %+v", s, call, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkHTTPCallsHit looks up a remembered URL, parsed again for each
// call as a client's request is (so its strings are never the entry's).
func BenchmarkHTTPCallsHit(b *testing.B) {
	rules := NewRules(DefaultSecretWords(), true)
	var c HTTPCalls[*Rules]
	const raw = "http://127.0.0.1:8080/items/42?q=1"
	us := make([]*url.URL, 64)
	for i := range us {
		us[i] = mustParse(b, raw)
	}
	c.Get("GET", us[0], rules)
	c.Get("GET", us[0], rules)
	method := strings.Clone("GET")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.Get(method, us[i%len(us)], rules)
	}
}

// TestHTTPCallsHashSpreads checks the hash that picks a URL's set: URLs
// that differ in any hashed part, by one byte anywhere or by where one part
// ends and the next begins, hash differently, and they spread over the
// sets.
func TestHTTPCallsHashSpreads(t *testing.T) {
	var c HTTPCalls[*Rules]
	seen := map[uint64]string{}
	perSet := make([]int, httpCallSets)
	add := func(method, host, path, query string) {
		t.Helper()
		u := &url.URL{Scheme: "http", Host: host, Path: path, RawQuery: query}
		key := method + " " + u.String()
		h := c.hash(method, u)
		if prev, dup := seen[h]; dup && prev != key {
			t.Errorf("%q and %q hash alike", prev, key)
		}
		seen[h] = key
		perSet[h%httpCallSets]++
	}
	for n := range 40 { // every length, every byte position of the tail reads
		s := strings.Repeat("a", n)
		add("GET", "h", s, "")
		add("GET", s, "/", "")
		add("GET", "h", "/", s)
		for i := range n {
			b := []byte(s)
			b[i] = 'b'
			add("GET", "h", string(b), "")
		}
	}
	for i := range 2000 {
		add("GET", fmt.Sprintf("10.0.%d.%d:8080", i/256, i%256), "/items", "")
		add("POST", "api.example.com", fmt.Sprintf("/items/%d", i), "")
		add("GET", "api.example.com", "/search", fmt.Sprintf("q=%d", i))
	}
	// Where one part ends and the next begins.
	add("GET", "ab", "c", "")
	add("GET", "a", "bc", "")
	add("GET", "a", "", "bc")
	add("GE", "a", "", "Tbc")
	n := len(seen)
	for i, k := range perSet {
		if k < n/httpCallSets/2 || k > 2*n/httpCallSets {
			t.Errorf("set %d holds %d of %d URLs, want about %d", i, k, n, n/httpCallSets)
		}
	}
}

// TestHTTPCallsShareStrings: the entries made for URLs of one host and
// port, and of one route, take the strings of the entry made before them
// for the name, the server address and the port (the same data, not
// equal copies), as the calls served from them do; a URL of another host
// keeps its own, and every text is still the one NewHTTPCall gives.
func TestHTTPCallsShareStrings(t *testing.T) {
	var c HTTPCalls[*prefixRedactor]
	r := &prefixRedactor{}
	get := func(s string) (string, HTTPCall) {
		t.Helper()
		u := mustParse(t, s)
		name, call := c.Get("GET", u, r)
		if want := NewHTTPCall("GET", u, r); call != want || name != HTTPURLCallName("GET", u) {
			t.Fatalf("%s: %q %+v, want %q %+v", s, name, call, HTTPURLCallName("GET", u), want)
		}
		return name, call
	}
	n1, c1 := get(strings.Clone("http://127.0.0.1:8080/item/1"))
	n2, c2 := get(strings.Clone("http://127.0.0.1:8080/item/2"))
	if n1 != n2 {
		t.Fatalf("names %q and %q differ", n1, n2)
	}
	same := func(a, b string) bool { return unsafe.StringData(a) == unsafe.StringData(b) && len(a) == len(b) }
	if !same(n1, n2) || !same(c1.ServerAddress, c2.ServerAddress) || !same(c1.ServerPort, c2.ServerPort) {
		t.Errorf("/item/2's name, address and port are not /item/1's strings: %v %v %v",
			same(n1, n2), same(c1.ServerAddress, c2.ServerAddress), same(c1.ServerPort, c2.ServerPort))
	}
	// Served from its entry again: the shared strings still.
	n2b, c2b := get(strings.Clone("http://127.0.0.1:8080/item/2"))
	if !same(n2b, n1) || !same(c2b.ServerAddress, c1.ServerAddress) {
		t.Errorf("/item/2 again: not /item/1's strings")
	}
	n3, c3 := get(strings.Clone("http://127.0.0.2:8080/item/3"))
	if same(c3.ServerAddress, c2.ServerAddress) || same(n3, n2) || !same(c3.ServerPort, c2.ServerPort) {
		t.Errorf("another host: its address or name shared, or its port not")
	}
}

// TestHTTPCallsSharedSet: four URLs a client repeats whose hashes pick one
// set are all remembered, whatever the set held before (with two entries a
// set, three such URLs took turns and were built again at every call,
// thousands of instructions each), and the one a fifth evicts is a single
// one, the set's oldest.
func TestHTTPCallsSharedSet(t *testing.T) {
	var c HTTPCalls[*Rules]
	// Fill the table with URLs seen twice (remembered), then find four
	// repeated URLs of one set.
	for i := range 2000 {
		u := mustParse(t, fmt.Sprintf("http://other%d.example.com/x", i))
		c.Get("GET", u, nil)
		c.Get("GET", u, nil)
	}
	bySet := map[uint64][]*url.URL{}
	var shared []*url.URL
	for i := 0; shared == nil; i++ {
		u := mustParse(t, fmt.Sprintf("http://backend:8080/item/%d", i))
		set := c.hash("GET", u) % httpCallSets
		if bySet[set] = append(bySet[set], u); len(bySet[set]) == 5 {
			shared = bySet[set]
		}
	}
	remembered := func(us []*url.URL) (n int) {
		names := map[string]bool{}
		for _, e := range entries(&c) {
			names[e] = true
		}
		for _, u := range us {
			if names["GET "+u.String()] {
				n++
			}
		}
		return n
	}
	for range 3 {
		for _, u := range shared[:4] {
			c.Get("GET", u, nil)
		}
	}
	if n := remembered(shared[:4]); n != 4 {
		t.Fatalf("%d of 4 repeated URLs of one set remembered, want 4", n)
	}
	// A fifth, seen twice in a row, takes one entry: three of the four stay.
	c.Get("GET", shared[4], nil)
	c.Get("GET", shared[4], nil)
	if n := remembered(shared[4:]); n != 1 {
		t.Errorf("the fifth URL of the set not remembered after two calls")
	}
	if n := remembered(shared[:4]); n != 3 {
		t.Errorf("%d of the first 4 URLs of the set remembered after a fifth came, want 3", n)
	}
	if n := remembered(shared[:1]); n != 0 {
		t.Errorf("the set's oldest URL kept, want it evicted by the fifth")
	}
}

// TestHTTPCallsAdmitOnce: of the goroutines that miss one URL noted as a
// miss of a full set, one is admitted to take an entry; the others are
// not (each taking an entry of its own pushed other repeated URLs out).
// And an entry is stored once: take with the URL held already stores
// nothing, so the set's oldest is not evicted for it.
func TestHTTPCallsAdmitOnce(t *testing.T) {
	var c HTTPCalls[*Rules]
	var urls []*url.URL
	for i := 0; len(urls) < httpCallWays+1; i++ {
		u := mustParse(t, fmt.Sprintf("http://backend:8080/admit/%d", i))
		if c.hash("GET", u)%httpCallSets == 0 {
			urls = append(urls, u)
		}
	}
	for _, u := range urls[:httpCallWays] {
		c.Get("GET", u, nil) // the set's free entries
	}
	set := &c.sets[0]
	h := c.hash("GET", urls[httpCallWays])
	if _, ok := set.admit(h); ok {
		t.Fatal("a URL a full set has not seen admitted")
	}
	if _, ok := set.admit(h); !ok {
		t.Fatal("a URL a full set noted as a miss not admitted")
	}
	if _, ok := set.admit(h); ok {
		t.Error("a URL admitted twice for one noted miss")
	}
	before := entries(&c)
	held := set.ways[1].Load()
	set.take(-1, held)
	if after := entries(&c); !slices.Equal(before, after) {
		t.Errorf("take of a URL held already changed the set: %q, want %q", after, before)
	}
}

// TestHTTPCallsPerRedactor: a URL remembered for a redactor that leaves it
// as it is is not served to one that redacts it (the hash does not mix in
// the redactor: only the entry's comparison keeps them apart).
func TestHTTPCallsPerRedactor(t *testing.T) {
	var c HTTPCalls[*Rules]
	u := mustParse(t, "http://h.example/x?token=s3cr3t")
	c.Get("GET", u, nil)
	c.Get("GET", u, nil)
	if got := entries(&c); len(got) != 1 {
		t.Fatalf("remembered %q, want the URL once", got)
	}
	strict := NewRules(DefaultSecretWords(), true)
	_, call := c.Get("GET", u, strict)
	if want := NewHTTPCall("GET", u, strict); call != want {
		t.Errorf("strict rules got %+v, want %+v", call, want)
	}
	if strings.Contains(call.URLFull, "s3cr3t") {
		t.Errorf("strict rules got the secret: %q", call.URLFull)
	}
}
