package recording

import (
	"hash/maphash"
	"strings"
	"unsafe"

	"github.com/goappstats/appstats/internal/convention"
)

// cleanTexts remembers texts that redaction left unchanged, so that the
// writer does not scan them again: a call's method, a route, a header's or an
// attribute's value repeat from record to record, and redacting one
// ([convention.Rules.Text]) costs hundreds of instructions where looking it
// up costs one hash. Redaction is a function of the text alone (the
// recorder's rules never change), so a text found here is exactly a text the
// rules leave as it is, and is kept as it is. A text redaction changed is
// never remembered, so the cache holds no secret.
//
// A text is remembered the second time it is seen clean (the first time
// only its hash is noted), as a copy: texts seen once — paths with IDs,
// summaries — neither fill the cache nor cost a copy, and a remembered text
// keeps no larger string alive. The remembered texts are a table indexed
// by their hash, two a slot (a text takes the place of the older of the
// two of its slot): looking one up costs an index and a comparison or
// two, where a map's look-up costs several times as much. The hashes seen once
// start afresh when full. It is the writer goroutine's alone.
//
// In front of the hashes, recent finds clean texts by their address, with
// no hash at all: most texts of a record are constants of the code that
// recorded it (a call's method, an attribute's value such as "http" or
// "1.1", an unmatched route), the same string every time. An entry holds
// its text, which stays alive and unchanged, so a string of the same
// address and length is the same text. Holding it keeps alive the memory
// the text is part of, which is why only texts that are mostly constants
// (see scrubber.name) are held so; the others (a request's path and query,
// parts of its URI; header values; summaries; errors) are looked up by
// their hash alone (textHashed, redactHashed).
type cleanTexts struct {
	seed   maphash.Seed
	clean  []cleanEntry        // texts redaction leaves unchanged, by hash, two a slot (see cleanSlot; grown as needed); nil until the first
	seen   map[uint64]struct{} // hashes of clean texts seen once
	recent [64][2]string       // clean texts, by address (see recentSlot)
	attrs  [64][2]cleanAttr    // attributes redaction leaves as they are, by address (see attrSlot)
	paths  [64]routeText       // a clean path or query of each route, by the route's address (see byRoute)
	last   [8]cleanAttr        // the last record's first attributes that attrs holds, by their places (see scrubber.attrsAt)
	calls  [maxLastCalls]lastCall
}

// A lastCall is what cleanTexts remembers of a call of the last record,
// by its place (the first maxLastCalls calls): its method, held by its
// address as recent holds it (a method in recent's slot could lose it to
// another text, record after record), its first attributes left as they
// are, as last holds the record's (see scrubber.attrsAt), and its request
// summary when redaction left it as it is. A handler makes the
// same calls in the same order request after request (a fanout's ten
// GETs), each with the same summary and url.full, which the calls' own
// look-ups hashed at every call. The summary, and an attribute whose
// value is a request's own text (url.full), are held as the copy clean
// holds, never the record's own string, and are found by their bytes:
// redaction is a function of the text alone, so a text equal to one
// found clean is clean, whatever memory it lies in.
type lastCall struct {
	attrs           [8]cleanAttr
	method, request string
}

// maxLastCalls is how many of a record's first calls cleanTexts.calls
// remembers.
const maxLastCalls = 16

// A routeText is a slot of cleanTexts.paths: a route, held by its address
// as recent holds texts, and a path (or a query) of that route that
// redaction leaves unchanged, the copy clean holds (never the request's
// own string).
type routeText struct{ route, text string }

// A cleanAttr is an attribute, key and value, that redaction leaves as it
// is.
type cleanAttr struct{ key, value string }

// A cleanEntry is a slot of cleanTexts.clean: a clean text and its hash.
type cleanEntry struct {
	h uint64
	s string
}

const (
	maxCleanTexts = 4096 // entries of clean (a power of two: two a slot), and hashes seen once
	minCleanTexts = 64   // entries of clean when made (grown fourfold to maxCleanTexts: see cleanSlot)
	maxCleanLen   = 256  // longer texts are redacted every time
)

func newCleanTexts() *cleanTexts {
	return &cleanTexts{seed: maphash.MakeSeed(), seen: make(map[uint64]struct{})}
}

// recentSlot returns the two entries of recent where s, not empty, is
// kept when known clean (see keepRecent), and whether s is one of them:
// the same address and length. Two entries a text, the one kept last
// first: two texts of a record (its route, a call's method) whose
// addresses give the same pair do not take each other's place record
// after record, as they did with one entry each in a binary whose layout
// made them meet.
func (c *cleanTexts) recentSlot(s string) (*[2]string, bool) {
	p := unsafe.StringData(s)
	e := &c.recent[(uintptr(unsafe.Pointer(p))>>3^uintptr(len(s)))%uintptr(len(c.recent))]
	return e, unsafe.StringData(e[0]) == p && len(e[0]) == len(s) ||
		unsafe.StringData(e[1]) == p && len(e[1]) == len(s)
}

// keepRecent keeps s, a clean text not in recent, in the first of e, its
// entries (recentSlot's), moving the text that was there to the second.
func keepRecent(e *[2]string, s string) { e[1], e[0] = e[0], s }

// attrSlot returns the two entries of attrs where the attribute of key k
// and value v, neither empty, is kept when redaction leaves it as it is
// (see keepAttr), and the one of them that is it, if any: the same
// addresses and lengths. An attribute's redaction is a function of its
// key and value, and most attributes are constants of the code that
// recorded them ("url.scheme"="http"), or of a cache of the code's
// (httpstats' server.address and server.port of each URL it calls): one
// look-up where the key's kind and the value would take one each. Like
// recent, an entry holds its strings. Two entries a slot, as recent has:
// a record of ten HTTP calls to ten URLs holds some twenty such
// attributes, which one entry a slot lost to each other record after
// record (half of the fanout's server.address and server.port).
func (c *cleanTexts) attrSlot(k, v string) (*[2]cleanAttr, *cleanAttr) {
	e := c.attrPair(k, v)
	if e[0].is(k, v) {
		return e, &e[0]
	}
	if e[1].is(k, v) {
		return e, &e[1]
	}
	return e, nil
}

// attrPair returns attrSlot's two entries, without looking at them: the
// part of attrSlot that is inlined (scrubber.attrsAt looks at them
// itself, which saves a call an attribute).
func (c *cleanTexts) attrPair(k, v string) *[2]cleanAttr {
	return &c.attrs[attrIndex(unsafe.StringData(k), unsafe.StringData(v), len(v), len(c.attrs))]
}

// is reports whether a is the attribute of key k and value v, by their
// addresses and lengths.
func (a *cleanAttr) is(k, v string) bool {
	return unsafe.StringData(a.key) == unsafe.StringData(k) && len(a.key) == len(k) &&
		unsafe.StringData(a.value) == unsafe.StringData(v) && len(a.value) == len(v)
}

// keepAttr keeps a, an attribute left as it is and not in attrs, in the
// first of e, its entries (attrSlot's), moving the one that was there to
// the second, and returns where a is kept.
func keepAttr(e *[2]cleanAttr, a cleanAttr) *cleanAttr {
	e[1], e[0] = e[0], a
	return &e[0]
}

// attrIndex returns the index in a table of n slots (a power of two) of
// the attribute whose key's bytes start at pk and whose value's, of length
// vn, at pv. The addresses are mixed by a multiplication, whose high bits
// depend on all of theirs: strings laid out near each other (a key and a
// value in the binary's constants, the parts of one URL) spread over the
// table, where an exclusive-or of their addresses sent some of them to one
// slot, which they then took from each other record after record.
func attrIndex(pk, pv *byte, vn, n int) uintptr {
	h := (uint64(uintptr(unsafe.Pointer(pk)))*0x9e3779b97f4a7c15 ^ uint64(uintptr(unsafe.Pointer(pv)))) + uint64(vn)
	h *= 0xbf58476d1ce4e5b9
	return uintptr(h>>32) & uintptr(n-1)
}

// path returns rules.Text(p) for a record's path p, as textHashed does;
// route is the record's route, a text known clean by its address (see
// recentSlot).
func (c *cleanTexts) path(rules *convention.Rules, p, route string) string {
	if len(p) < 6 { // see textHashed
		return rules.Text(p)
	}
	return c.byRoute(rules.Text, p, route)
}

// byRoute returns red(s), as redactHashed does, for s a record's path or
// query and route the record's route, a text known clean by its address
// (see recentSlot). A route's requests mostly have one path ("GET /hello"
// is always "/hello"), often one query: the text last found clean under
// the route is kept in the route's slot, and a text equal to it is clean
// without a hash. Equal is equal by its bytes, so the result is red's
// whatever the slot holds; the slot holds the copy clean keeps, so a text
// is kept there only once clean holds it (the second time it is seen
// clean), and no request's string is held.
func (c *cleanTexts) byRoute(red func(string) string, s, route string) string {
	if s == "" || len(s) > maxCleanLen {
		return red(s)
	}
	e := &c.paths[routeSlot(route, len(c.paths))]
	if e.holds(route, s) {
		return s
	}
	h := maphash.String(c.seed, s)
	if c.clean != nil {
		if k := c.held(h, s); k != nil {
			*e = routeText{route, k.s}
			return s
		}
	}
	// Not held yet: held by clean the second time it is seen clean, and
	// in the route's slot the time after.
	return c.redactMissed(red, s, h)
}

// sameByRoute reports whether path and query (maybe empty) are the texts
// the slots of route in paths' and queries' paths hold (see byRoute),
// equal by their bytes: each is then clean, as it is, and neither needs
// redacting — byRoute would give each as it is. route is a text known
// clean by its address (see recentSlot). The two tables take a route to
// the same place, computed once. A false result says nothing.
func sameByRoute(paths, queries *cleanTexts, path, query, route string) bool {
	i := routeSlot(route, len(paths.paths))
	return paths.paths[i].holds(route, path) && (query == "" || queries.paths[i].holds(route, query))
}

// routeSlot is the slot of route, a text known clean by its address, in
// a table of n routes' texts (see byRoute).
func routeSlot(route string, n int) uintptr {
	return (uintptr(unsafe.Pointer(unsafe.StringData(route)))>>3 ^ uintptr(len(route))) % uintptr(n)
}

// holds reports whether e holds text under route, the route told by its
// address, the text by its bytes.
func (e *routeText) holds(route, text string) bool {
	return unsafe.StringData(e.route) == unsafe.StringData(route) && len(e.route) == len(route) && e.text == text
}

// text returns rules.Text(s), from the cache when s is known clean.
func (c *cleanTexts) text(rules *convention.Rules, s string) string {
	if s == "" || len(s) > maxCleanLen {
		return rules.Text(s)
	}
	e, ok := c.recentSlot(s)
	if ok {
		return s
	}
	t := c.textHashed(rules, s)
	if t == s {
		keepRecent(e, s)
	}
	return t
}

// textHashed is text without the look-up by address, for texts that must
// not be held as they are (see cleanTexts).
func (c *cleanTexts) textHashed(rules *convention.Rules, s string) string {
	if len(s) < 6 { // quick to scan (Rules.Text)
		return rules.Text(s)
	}
	return c.redactHashed(rules.Text, s)
}

// redactHashed returns red(s), from the cache by hash when s is known
// clean, without the look-up by address (texts that must not be held as
// they are, see cleanTexts). red must be the same function at every call,
// or one giving the same results.
func (c *cleanTexts) redactHashed(red func(string) string, s string) string {
	t, _ := c.redactHeld(red, s)
	return t
}

// redactHeld is redactHashed, and also returns the copy clean holds of
// the result when the result is s, clean, and clean holds it (else ""):
// the one look-up of both.
func (c *cleanTexts) redactHeld(red func(string) string, s string) (string, string) {
	if s == "" || len(s) > maxCleanLen {
		return red(s), ""
	}
	h := maphash.String(c.seed, s)
	if c.clean != nil {
		if k := c.held(h, s); k != nil {
			return s, k.s
		}
	}
	t := c.redactMissed(red, s, h)
	if t == s && c.clean != nil {
		if k := c.held(h, s); k != nil { // held from this time on
			return s, k.s
		}
	}
	return t, ""
}

// cleanSlot returns the two entries of clean (not nil) where the text of
// hash h is held, the one held last first. Two entries a slot, as recent
// has: with one, two texts of a record whose hashes gave one slot (some
// thirty texts to hold meet so in about one process in ten, by the
// process's seed) took it from each other record after record, each
// redacted again every time (TestCleanTextsSharedSlot).
//
// clean starts small (minCleanTexts entries) and grows fourfold, up to
// maxCleanTexts, when a text to hold finds its slot full (again, while it
// does): a writer that
// holds a few texts (a server whose requests are alike) keeps a table of a
// few hundred bytes, where one of maxCleanTexts entries is 96 KiB of
// string pointers that every garbage collection scans (see "twenty-sixth
// round" in docs/BENCHMARKS-history-2.md). Entries keep their slots' order
// as the table grows: the two of a slot go to slots of their own hashes in
// the larger table, where no other slot's entries go.
func (c *cleanTexts) cleanSlot(h uint64) *[2]cleanEntry {
	return (*[2]cleanEntry)(c.clean[2*(h&uint64(len(c.clean)/2-1)):])
}

// growClean makes clean n entries (a power of two, larger than it is),
// each entry in the slot of its hash.
func (c *cleanTexts) growClean(n int) {
	old := c.clean
	c.clean = make([]cleanEntry, n)
	for i := 0; i < len(old); i += 2 {
		for _, e := range [2]cleanEntry{old[i], old[i+1]} {
			if e.s == "" {
				continue
			}
			// In the order they were: the one held last first.
			if d := c.cleanSlot(e.h); d[0].s == "" {
				d[0] = e
			} else {
				d[1] = e
			}
		}
	}
}

// held returns the entry of clean (not nil) holding s, of hash h, or nil.
func (c *cleanTexts) held(h uint64, s string) *cleanEntry {
	e := c.cleanSlot(h)
	if e[0].h == h && e[0].s == s {
		return &e[0]
	}
	if e[1].h == h && e[1].s == s {
		return &e[1]
	}
	return nil
}

// redactMissed is redactHashed for s of hash h, not empty nor longer than
// maxCleanLen, which clean does not hold.
func (c *cleanTexts) redactMissed(red func(string) string, s string, h uint64) string {
	t := red(s)
	if t != s {
		return t
	}
	if _, ok := c.seen[h]; !ok {
		if len(c.seen) >= maxCleanTexts {
			clear(c.seen)
		}
		c.seen[h] = struct{}{}
		return s
	}
	if c.clean == nil {
		c.clean = make([]cleanEntry, minCleanTexts)
	}
	e := c.cleanSlot(h)
	// Grown until s has room, as far as it goes: once grown, s's slot
	// may hold the same two texts still (as the first table's slot,
	// their hashes may share the larger table's slot bits too).
	for e[1].s != "" && len(c.clean) < maxCleanTexts {
		c.growClean(4 * len(c.clean))
		e = c.cleanSlot(h)
	}
	e[1], e[0] = e[0], cleanEntry{h, strings.Clone(s)}
	return s
}
