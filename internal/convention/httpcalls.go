package convention

import (
	"math/bits"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync/atomic"
)

// HTTPCalls remembers the names ([HTTPURLCallName]) and descriptions
// ([NewHTTPCall]) of recent HTTP client calls, so that a client calling the
// same URLs again and again (a backend's few endpoints) neither builds the
// name, normalizes the path, writes the URL out nor redacts it at every
// call: building them costs four allocations and thousands of
// instructions, looking them up a hash of a few short strings. R is the
// type of the redactor that writes the URLs out; a redactor is the same one
// when it is equal (==), and must give the same text for the same URL every
// time (as the rules of a recorder do).
//
// The cache is bounded: a fixed table of sets of four entries, a URL's set
// chosen by its hash with a random seed. A URL takes a free entry of its
// set; when all are taken, it takes the set's oldest the second time the
// set sees it among its last four URLs not held (the first time only its
// hash is noted), so that URLs seen once — paths with IDs, queries that
// vary — neither evict the ones that repeat nor cost a copy, while up to
// four URLs a client repeats that share a set are all remembered (with two
// entries a set, three of them took turns and were built at every call).
// Only URLs without user information, at most maxCachedURL bytes long,
// whose text redaction leaves as it is, are remembered: the cache holds no
// secret, and no more than httpCallWays*httpCallSets short URLs.
//
// The zero value is ready to use; it is safe for concurrent use.
type HTTPCalls[R interface {
	comparable
	URLRedactor
}] struct {
	seed atomic.Uint64 // made on first use; never 0 after
	sets [httpCallSets]httpCallSet[R]
	// last is the entry remembered last, whose name, server address
	// and port a new entry takes when they are equal (see share).
	last atomic.Pointer[httpCallEntry[R]]
}

// httpCallSets is how many sets of httpCallWays URLs an HTTPCalls has.
const (
	httpCallSets = 32
	httpCallWays = 4
)

// maxCachedURL bounds the length of the URLs HTTPCalls remembers (the sum
// of their parts' lengths).
const maxCachedURL = 256

type httpCallSet[R comparable] struct {
	// seen holds the hashes of the last URLs the set did not hold, the
	// next to be replaced at seenAt (modulo its length).
	seen     [httpCallWays]atomic.Uint64
	seenAt   atomic.Uint32
	next     atomic.Uint32 // the way a URL takes next in a full set (modulo)
	redacted atomic.Uint64 // the hash of the last URL found redacted
	ways     [httpCallWays]atomic.Pointer[httpCallEntry[R]]
}

// admit returns the entry of s a URL of hash h not held may take: a free
// one, or -1 for the oldest of a full set (see take), if h is among the
// last URLs the set did not hold, which it then no longer is, so that
// of several goroutines missing it at once one takes an entry; ok is false
// when it takes none yet (h is then noted as a miss).
func (s *httpCallSet[R]) admit(h uint64) (way int, ok bool) {
	for i := range s.ways {
		if s.ways[i].Load() == nil {
			return i, true
		}
	}
	for i := range s.seen {
		if s.seen[i].CompareAndSwap(h, 0) {
			return -1, true
		}
	}
	s.seen[(s.seenAt.Add(1)-1)%httpCallWays].Store(h)
	return 0, false
}

// take stores e in the entry admit returned (-1: the set's oldest), unless
// the set holds e's URL already (another goroutine's, made meanwhile).
func (s *httpCallSet[R]) take(way int, e *httpCallEntry[R]) {
	for i := range s.ways {
		if o := s.ways[i].Load(); o != nil && o.hash == e.hash && o.method == e.method && o.r == e.r && o.u == e.u {
			return
		}
	}
	if way < 0 {
		way = int((s.next.Add(1) - 1) % httpCallWays)
	}
	s.ways[way].Store(e)
}

// httpCallEntry is one remembered URL; it never changes once published.
type httpCallEntry[R comparable] struct {
	hash   uint64
	method string // as the caller gave it (empty is not "GET" here)
	u      url.URL
	r      R
	name   string
	call   HTTPCall
}

// Get returns [HTTPURLCallName](method, u) and [NewHTTPCall](method, u, r),
// the same texts those return, remembered from an earlier call with the
// same method, URL and redactor when there was one.
func (c *HTTPCalls[R]) Get(method string, u *url.URL, r R) (name string, call HTTPCall) {
	if u.User != nil || urlLen(u) > maxCachedURL {
		return HTTPURLCallName(method, u), NewHTTPCall(method, u, r)
	}
	h := c.hash(method, u)
	set := &c.sets[h%httpCallSets]
	for i := range set.ways {
		if e := set.ways[i].Load(); e != nil && e.hash == h && e.method == method && e.r == r && e.u == *u {
			return e.name, e.call
		}
	}
	name, call = HTTPURLCallName(method, u), NewHTTPCall(method, u, r)
	if set.redacted.Load() == h {
		return name, call // not remembered, as last time
	}
	way, ok := set.admit(h)
	if !ok {
		return name, call // not seen lately: not remembered yet
	}
	if call.URLFull != u.String() {
		set.redacted.Store(h)
		return name, call // redacted: not remembered
	}
	name = c.share(name, &call)
	e := &httpCallEntry[R]{hash: h, method: strings.Clone(method), r: r, name: name, call: call}
	e.u = url.URL{
		Scheme: strings.Clone(u.Scheme), Opaque: strings.Clone(u.Opaque), Host: strings.Clone(u.Host),
		Path: strings.Clone(u.Path), RawPath: strings.Clone(u.RawPath), OmitHost: u.OmitHost,
		ForceQuery: u.ForceQuery, RawQuery: strings.Clone(u.RawQuery),
		Fragment: strings.Clone(u.Fragment), RawFragment: strings.Clone(u.RawFragment),
	}
	set.take(way, e)
	c.last.Store(e)
	return name, call
}

// share returns name, and sets call's server address and port, as the
// strings of the entry remembered last where they are equal to them: the
// URLs a client calls mostly share a host and a port, and the paths of
// one route a name ("GET host/item/{id}"), so that the entries of one
// backend's URLs share those strings. A call to /item/2 then has the
// strings of the call to /item/1 before it, which a reader compares by
// their addresses (the memory version of store/internal/codec writes an
// attribute or method that is the previous call's as a flag), where each
// URL's entry had copies of its own. It is called only as an entry is
// made.
func (c *HTTPCalls[R]) share(name string, call *HTTPCall) string {
	l := c.last.Load()
	if l == nil {
		return name
	}
	if name == l.name {
		name = l.name
	}
	if call.ServerAddress == l.call.ServerAddress {
		call.ServerAddress = l.call.ServerAddress
	}
	if call.ServerPort == l.call.ServerPort {
		call.ServerPort = l.call.ServerPort
	}
	return name
}

// urlLen is the sum of the lengths of u's parts.
func urlLen(u *url.URL) int {
	return len(u.Scheme) + len(u.Opaque) + len(u.Host) + len(u.Path) + len(u.RawPath) +
		len(u.RawQuery) + len(u.Fragment) + len(u.RawFragment)
}

// hash hashes the parts of a call that vary most between URLs: the method,
// the host, the path and the query (when there is one). The others are
// compared on a hit.
//
// The hash only picks a URL's set and filters the entries compared, so
// it need not resist an attacker who chose the URLs: at worst, URLs that
// collide take turns in one set and are built at each call, as uncached
// ones are. It is a seeded multiply-and-fold over the strings eight bytes
// at a time, inline, a third of the instructions of four calls to
// [maphash.String] on URLs of a few dozen bytes.
func (c *HTTPCalls[R]) hash(method string, u *url.URL) uint64 {
	seed := c.seed.Load()
	if seed == 0 {
		c.seed.CompareAndSwap(0, rand.Uint64()|1)
		seed = c.seed.Load()
	}
	h := mixString(seed, u.Path)
	h = mixString(h, u.Host)
	if u.RawQuery != "" { // mostly none: its mix saved
		h = mixString(h, u.RawQuery)
	}
	return mixString(h, method)
}

// mixString mixes s, and its length, into h: eight bytes at a time, the
// last eight (or four, twice) read whole even where they overlap the ones
// before, as wyhash does.
func mixString(h uint64, s string) uint64 {
	n := len(s)
	var t uint64
	switch {
	case n > 8:
		r := s
		for len(r) > 8 {
			h = mix(h ^ le64(r))
			r = r[8:]
		}
		t = le64(s[n-8:])
	case n == 8:
		t = le64(s)
	case n >= 4:
		t = le32(s) | le32(s[n-4:])<<32
	case n > 0:
		t = uint64(s[0])<<16 | uint64(s[n>>1])<<8 | uint64(s[n-1])
	}
	return mix(h^t) ^ uint64(n)
}

// le64 returns s's first eight bytes, little-endian.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// le32 returns s's first four bytes, little-endian.
func le32(s string) uint64 {
	_ = s[3]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
}

// mix folds the 128-bit product of x and an odd constant into 64 bits.
func mix(x uint64) uint64 {
	hi, lo := bits.Mul64(x, 0x9e3779b97f4a7c15)
	return hi ^ lo
}
