package convention

import (
	"hash/maphash"
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
// The cache is bounded: a fixed table of sets of two entries, a URL's set
// chosen by its hash with a random seed. A URL takes a free entry of its
// set; when both are taken, it takes one of them (which, the hash says) the
// second time in a row its set sees it (the first time only its hash is
// noted), so that URLs seen once — paths with IDs, queries that vary —
// neither evict the ones that repeat nor cost a copy. Only URLs without user
// information, at most maxCachedURL bytes long, whose text redaction leaves
// as it is, are remembered: the cache holds no secret, and no more than
// 2*httpCallSets short URLs.
//
// The zero value is ready to use; it is safe for concurrent use.
type HTTPCalls[R interface {
	comparable
	URLRedactor
}] struct {
	seed atomic.Pointer[maphash.Seed] // made on first use
	sets [httpCallSets]httpCallSet[R]
}

// httpCallSets is how many sets of two URLs an HTTPCalls has.
const httpCallSets = 64

// maxCachedURL bounds the length of the URLs HTTPCalls remembers (the sum
// of their parts' lengths).
const maxCachedURL = 256

type httpCallSet[R comparable] struct {
	seen     atomic.Uint64 // the hash of the last URL the set did not hold
	redacted atomic.Uint64 // the hash of the last URL found redacted
	ways     [2]atomic.Pointer[httpCallEntry[R]]
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
	way := &set.ways[0]
	switch {
	case set.redacted.Load() == h:
		return name, call // not remembered, as last time
	case way.Load() == nil:
	case set.ways[1].Load() == nil:
		way = &set.ways[1]
	case set.seen.Swap(h) != h:
		return name, call // the first time in a row this full set sees it
	default:
		way = &set.ways[h>>63]
	}
	if call.URLFull != u.String() {
		set.redacted.Store(h)
		return name, call // redacted: not remembered
	}
	e := &httpCallEntry[R]{hash: h, method: strings.Clone(method), r: r, name: name, call: call}
	e.u = url.URL{
		Scheme: strings.Clone(u.Scheme), Opaque: strings.Clone(u.Opaque), Host: strings.Clone(u.Host),
		Path: strings.Clone(u.Path), RawPath: strings.Clone(u.RawPath), OmitHost: u.OmitHost,
		ForceQuery: u.ForceQuery, RawQuery: strings.Clone(u.RawQuery),
		Fragment: strings.Clone(u.Fragment), RawFragment: strings.Clone(u.RawFragment),
	}
	way.Store(e)
	return name, call
}

// urlLen is the sum of the lengths of u's parts.
func urlLen(u *url.URL) int {
	return len(u.Scheme) + len(u.Opaque) + len(u.Host) + len(u.Path) + len(u.RawPath) +
		len(u.RawQuery) + len(u.Fragment) + len(u.RawFragment)
}

// hash hashes the parts of a call that vary most between URLs: the method,
// the host, the path and the query. The others are compared on a hit.
func (c *HTTPCalls[R]) hash(method string, u *url.URL) uint64 {
	seed := c.seed.Load()
	if seed == nil {
		s := maphash.MakeSeed()
		if !c.seed.CompareAndSwap(nil, &s) {
			seed = c.seed.Load()
		} else {
			seed = &s
		}
	}
	const k = 0x9e3779b97f4a7c15 // mixes the parts' hashes, so that swapping them changes the sum
	h := maphash.String(*seed, u.Path)
	h = h*k ^ maphash.String(*seed, u.Host)
	h = h*k ^ maphash.String(*seed, u.RawQuery)
	return h*k ^ maphash.String(*seed, method)
}
