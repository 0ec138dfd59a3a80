package recording

import (
	"slices"
	"unsafe"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/internal/headermap"
)

// SetHeaders keeps the request's headers for the full record, within the
// recorder's header caps ([WithMaxHeaders]): a value over its cap is cut,
// values past the total are left out and counted under [HeaderTruncated]. It
// copies them with at most one allocation (mostly none: a reused record,
// see [Borrower], and a record a sink may keep reuse the memory of earlier
// records' copies; and one per value it cuts) — the header
// map may change after the request ends — and leaves building the map and
// redacting it to the recorder's writer, off the request path — but for
// the values of a name over its cap ([WithMaxName]) that is secret by its
// whole name, hidden here, since the cut name may no longer say so. Like
// [ActiveRecord.Record], it is for the goroutine that started the record.
func (a *ActiveRecord) SetHeaders(h map[string][]string) {
	if a == nil || h == nil {
		return
	}
	if a.rec.pool == nil {
		a.setKeptHeaders(h)
		return
	}
	r, cfg := a.r, &a.rec.cfg
	flat := r.hdrFlat[:0]
	if order := r.spare.hdrOrder; len(order) == len(h) && len(h) <= maxKnownHeaders &&
		len(order) == len(r.spare.hdr) && cap(flat) >= 2*len(h) {
		// A reused record whose last request sent as many names as this
		// one: mostly the same names, looked up by name rather than
		// found by a walk of the map: knownHeaders' two ways called
		// from here, which saves a call between (and its frame) on most
		// requests, each name in its slot of a small map first.
		if g := headermap.Small(h); g != nil {
			if kept, size, same, ok := cfg.knownBySlots(flat, g, order); ok {
				// The pairs in order's order: User-Agent's, if any,
				// in the place of its entry.
				r.hdrFlat, r.hdrFlatBytes, r.hdrUA, r.hdrSame = kept, size, r.hdrOrderUA, same
				return
			}
		}
		if kept, size, same, ok := cfg.knownByName(flat, h, order); ok {
			r.hdrFlat, r.hdrFlatBytes, r.hdrUA, r.hdrSame = kept, size, r.hdrOrderUA, same
			return
		}
	}
	r.hdrUA, r.hdrSame = 0, false
	if cap(flat) < 2*len(h) && cap(r.spare.hdrVals) == 0 {
		// A record made afresh (the pool ran dry): the pairs, and the
		// values of the map the writer makes of them, in one
		// allocation, sized by the names. Most have one value; for
		// more, flatHeaders makes the pairs room and headerMap the
		// values. Counting the values (headerValues) would walk the
		// map once more than flatHeaders does, and each walk of a map
		// draws a random start: ~350 instructions a request (see
		// "What recording adds under load, fifteenth round" in
		// docs/BENCHMARKS-history.md).
		n := min(len(h), cfg.maxHeaderBytes/headerEntryCost)
		buf := make([]string, 3*n)
		flat, r.spare.hdrVals = buf[:0:2*n], buf[2*n:2*n:3*n]
	}
	r.hdrFlat, r.hdrFlatBytes = cfg.flatHeaders(flat, h)
}

// setKeptHeaders is SetHeaders for a record a sink may keep (the
// recorder has no pool): such a record is never reused, but the spare it
// borrows is (see spareList), and its buffer of pairs (spare.flat) with
// it, so that a request allocates none. When the request sends the
// headers of the last map the writer made for kept records and saw sent
// again (published in keptPub: the same names, each with the one value
// redaction left as it was, or any value of a secret name), the pairs are
// taken in that map's order, each name looked up in h rather than h
// walked (a walk of a map draws a random start), and the record is marked
// to be given that map (hdrSame, spare.hdr), as a pooled record is given
// its own (see knownHeaders): the writer then neither compares the pairs
// with a map nor makes one.
func (a *ActiveRecord) setKeptHeaders(h map[string][]string) {
	r, cfg := a.r, &a.rec.cfg
	sp := r.spare
	flat := sp.flat[:0]
	if kh := a.rec.keptPub.Load(); kh != nil && len(kh.order) == len(h) && len(h) <= maxKnownHeaders && cap(flat) >= 2*len(h) {
		// The entries are the published map's, never written (no
		// slot noted, unlike knownHeaders').
		if kept, size, ok := cfg.knownKept(flat, h, kh.order); ok {
			r.hdrFlat, r.hdrFlatBytes, r.hdrUA, r.hdrSame = kept, size, kh.uaAt, true
			sp.hdr, sp.hdrOrder, sp.hdrBytes = kh.m, kh.order, kh.bytes
			return
		}
	}
	r.hdrUA, r.hdrSame = 0, false
	sp.hdr, sp.hdrOrder, sp.hdrBytes = nil, nil, 0
	if cap(flat) < 2*len(h) {
		// Room for a value a name (flatHeaders makes more when a name
		// has several): sized by the names, not by a walk of h that
		// counts the values (see SetHeaders).
		flat = make([]string, 0, 2*min(len(h), cfg.maxHeaderBytes/headerEntryCost))
	}
	r.hdrFlat, r.hdrFlatBytes = cfg.flatHeaders(flat, h)
	sp.flat = r.hdrFlat[:0]
}

// knownKept is knownByName for the entries of a map the writer published
// for kept records (Recorder.keptPub), which nothing writes any more:
// each name is looked up in h, and no slot is noted in its entry. It
// appends to flat (which has room for them) the pairs of h, a map with as
// many names as order, in order's order, and returns recordSize's
// estimate of them, when each name of order is in h with one value, both
// within their caps, all within the total, and the map holds the value as
// redaction leaves it: the value the entry holds, which redaction left as
// it was, or any value of a secret name. ok is false otherwise.
func (c *config) knownKept(flat []string, h map[string][]string, order []headerEntry) (_ []string, size int64, ok bool) {
	flat = flat[:2*len(order)]
	maxName, maxValue, budget := c.maxName, c.maxHeaderValue, c.maxHeaderBytes
	for i := range order {
		e := &order[i]
		k := e.name
		vs := headerGet(h, k)
		if len(vs) != 1 || len(e.vals) != 1 {
			return nil, 0, false
		}
		v := vs[0]
		if budget -= len(k) + len(v) + headerEntryCost; len(k) > maxName || len(v) > maxValue || budget < 0 {
			return nil, 0, false
		}
		if !e.secret && (!e.clean || e.vals[0] != v) {
			return nil, 0, false
		}
		flat[2*i], flat[2*i+1] = k, v
	}
	return flat, int64(c.maxHeaderBytes - budget), true
}

// maxKnownHeaders is the most names SetHeaders looks up by the names of a
// record's last request: a map of up to 8 names is one group of slots,
// where a look-up (headerGet: the group's slots in use, no hash) costs
// less than a walk's start (which draws a random number) and steps; in a
// larger map it costs more than a step.
const maxKnownHeaders = 8

// knownHeaders appends to flat the pairs of h, a map with as many names as
// order, taken in order's order (the entries of the header map the
// record's last request made, all distinct names), and recordSize's
// estimate of them, as flatHeaders would append them in the order of its
// walk: when each name of order is in h, with one value, both within
// their caps, all of them within the total. The names of h are then
// exactly those of order. ok is false otherwise, for the caller to walk h
// instead: a name that is not in h, none or several values, a cut to
// make, values to leave out (which ones flatHeaders leaves out depends on
// its walk's order).
//
// same reports whether the map of the last request, as redaction left
// it, is already the map of these pairs: each name had one value, which
// redaction left as it was and which h sends again, or a secret name's,
// redacted whatever it is. The writer then takes the map as it is (see
// headerMap). flat must have room for the pairs, 2*len(order) strings.
func (c *config) knownHeaders(flat []string, h map[string][]string, order []headerEntry) (_ []string, size int64, same, ok bool) {
	if g := headermap.Small(h); g != nil {
		// Mostly each name is in the slot where the last request's was.
		if kept, size, same, ok := c.knownBySlots(flat, g, order); ok {
			return kept, size, same, true
		}
	}
	return c.knownByName(flat, h, order)
}

// knownByName is knownHeaders' way for a map whose names are not each in
// the slot where the last request's was (or a larger map): each looked up
// by name, the slot where it is found noted for the next request.
func (c *config) knownByName(flat []string, h map[string][]string, order []headerEntry) (_ []string, size int64, same, ok bool) {
	// The pairs written in place (flat has room for them, see
	// SetHeaders), the caps in registers: the loop's variables outlive
	// the look-ups' calls.
	flat = flat[:2*len(order)]
	maxName, maxValue, budget := c.maxName, c.maxHeaderValue, c.maxHeaderBytes
	same = true
	for i := range order {
		e := &order[i]
		k := e.name
		vs, slot := headerSlot(h, k)
		e.slot = slot
		if len(vs) != 1 {
			return nil, 0, false, false
		}
		v := vs[0]
		if budget -= len(k) + len(v) + headerEntryCost; len(k) > maxName || len(v) > maxValue || budget < 0 {
			return nil, 0, false, false
		}
		flat[2*i], flat[2*i+1] = k, v
		if same && (len(e.vals) != 1 || !e.secret && (!e.clean || e.vals[0] != v)) {
			same = false
		}
	}
	// headerEntryCost is a pair's two string headers: the size is what
	// the pairs took of the total.
	return flat, int64(c.maxHeaderBytes - budget), same, true
}

// knownBySlots is knownHeaders for a map of one group of slots, g,
// each name of order looked for in its entry's slot alone (see
// headerEntry.slot): no look-up, no call but to compare a value with
// the last request's (and a name whose string is not the entry's own). ok is false when a name is not in its slot — or when
// knownHeaders would decline — for knownHeaders to look the names up.
func (c *config) knownBySlots(flat []string, g *headermap.Group, order []headerEntry) (_ []string, size int64, same, ok bool) {
	flat = flat[:2*len(order)]
	pairs := unsafe.Slice((*[2]string)(unsafe.Pointer(unsafe.SliceData(flat))), len(order)) // flat's pairs
	maxName, maxValue, budget := c.maxName, c.maxHeaderValue, c.maxHeaderBytes
	same = true
	for i := range order {
		e := &order[i]
		k, j := e.name, uint(e.slot)
		if j >= 8 || g.Ctrl>>(8*j)&0x80 != 0 { // no slot, or one not in use
			return nil, 0, false, false
		}
		s := &g.Slots[j]
		if len(s.Key) != len(k) || unsafe.StringData(s.Key) != unsafe.StringData(k) && s.Key != k {
			return nil, 0, false, false
		}
		vs := s.Vals
		if len(vs) != 1 {
			return nil, 0, false, false
		}
		v := vs[0]
		if budget -= len(k) + len(v) + headerEntryCost; len(k) > maxName || len(v) > maxValue || budget < 0 {
			return nil, 0, false, false
		}
		// The pair as one array: no bounds check (pairs is as long as
		// order), and the two stores next to each other, which take
		// one write-barrier check.
		pairs[i] = [2]string{k, v}
		if same && (len(e.vals) != 1 || !e.secret && (!e.clean || e.vals[0] != v)) {
			same = false
		}
	}
	return flat, int64(c.maxHeaderBytes - budget), same, true
}

// KeptHeader returns the first value of the header name among those
// [ActiveRecord.SetHeaders] kept, when it kept all of the request's
// values whole (none cut to its cap, none left out): the request's own
// value, found in the record's copy, which a wrapper that wants one header
// after SetHeaders reads instead of looking the name up in the request's
// map again. name is a key of the map SetHeaders was given (for
// net/http, canonical: "User-Agent"). ok is false when the record kept no
// headers, left some values out or cut the value, or when the map had no
// such name: the caller then asks the map. Like SetHeaders, it is for the
// goroutine that started the record, before [ActiveRecord.Finish].
func (a *ActiveRecord) KeptHeader(name string) (value string, ok bool) {
	if a == nil {
		return "", false
	}
	flat, cfg := a.r.hdrFlat, &a.rec.cfg
	if i := int(a.r.hdrUA); i != 0 && name == userAgent {
		// SetHeaders found the names in the places of the record's
		// last request, User-Agent's among them, each with its one
		// value within the caps, none left out (see knownHeaders).
		return flat[2*i-1], true
	}
	if len(flat) < 2 || flat[len(flat)-2] == HeaderTruncated || len(name) > cfg.maxName {
		// No copy, or values left out: the first value of the name may
		// be one of them.
		return "", false
	}
	for i := 0; i+1 < len(flat); i += 2 {
		if flat[i] == name {
			// A cut value is longer than its cap (its note of the cut
			// follows the kept part); a name within its cap is never
			// hidden.
			if v := flat[i+1]; len(v) <= cfg.maxHeaderValue {
				return v, true
			}
			return "", false
		}
	}
	return "", false
}

// KeptUserAgent is the fast path of [ActiveRecord.KeptHeader]("User-Agent"),
// small enough for the compiler to inline in the caller: when
// [ActiveRecord.SetHeaders] found the request's header names in the places
// of the record's last request (the common case for a service's repeated
// requests), each with its one value within the caps and none left out, it
// returns the User-Agent value of the record's copy and true. Otherwise,
// and for a record without a User-Agent, it returns "" and false, and the
// caller asks KeptHeader (which then looks through the copy) or the
// request's map. When ok is true, value is what KeptHeader("User-Agent")
// returns. Like SetHeaders, it is for the goroutine that started the
// record, before [ActiveRecord.Finish].
func (a *ActiveRecord) KeptUserAgent() (value string, ok bool) {
	if a != nil {
		if r := a.r; r.hdrUA != 0 {
			return r.hdrFlat[2*int(r.hdrUA)-1], true
		}
	}
	return "", false
}

// headerMap makes rec's redacted header map from the pairs SetHeaders
// kept, in the map and the values rec's spare memory holds when it has
// been used before. It runs in the writer goroutine, which alone uses the
// recorder's cache of which header names are secret.
func (r *Recorder) headerMap(rec *Record) map[string][]string {
	rec.ownSpare()
	flat := rec.hdrFlat
	out := rec.spare.hdr
	if rec.hdrSame && len(out) > 0 && len(flat) == 2*len(rec.spare.hdrOrder) {
		// The pairs of the last request, which the map holds as
		// redaction left them (see knownHeaders).
		rec.hdrBytes = rec.spare.hdrBytes
		noteSameUserAgent(r.scrubber(), flat, rec.spare.hdrOrder)
		return out
	}
	fresh, leaving := false, false
	if r.pool != nil && (out == nil || rec.hdrShared) {
		// A pooled record without a map of its own: made afresh, or
		// holding the map records share. Headers the same as the shared
		// map's take it (no map of its own for the collector to scan in
		// every cycle while the record waits in the queue); others get a
		// map of the record's own, made once and refilled from then on.
		if sh := r.poolHdr; sh != nil && sameHeaders(r.scrubber(), flat, sh.m, sh.order, r.cfg.maxName) {
			return takeSharedHeaders(rec, sh)
		}
		if rec.hdrShared {
			// The shared map is never written: the record's own map is
			// made below, with its entries (the record's, which the
			// requests note their slots in), and its values in
			// spare.hdrVals, which the shared map's never are.
			out, rec.spare.hdr, rec.hdrShared, leaving = nil, nil, false, true
		} else {
			fresh = true
		}
	}
	if len(out) > 0 {
		// The map of the record's last use, its values cleared by reset:
		// requests mostly send the same names, and writing the values
		// in place costs a look-up a name, where emptying the map and
		// filling it again costs a clear and an insert a name.
		if size, ok := r.refillHeaderMap(rec, out); ok {
			rec.hdrBytes = size
			return out
		}
		clear(out)
	}
	// The entries' order, for refillHeaderMap, is kept only in a map
	// made before: a record made afresh (the pool ran dry) does not
	// allocate it, the first time its map is remade does, with room for
	// all the names. Without a pool, keptHeaderMap hands the writer's own
	// order in, for sameHeaders.
	// A pooled record made afresh keeps it too when its map may be the
	// one records share (see shareHeaderMap), which copies the entries.
	keepOrder := out != nil || r.pool == nil || leaving || fresh && len(flat) <= 2*maxKnownHeaders
	if out != nil && len(flat) <= 2*maxKnownHeaders && headermap.Table(out) {
		// The map of a request with more than eight names is a table,
		// which clear leaves one: the codec and the next refills would
		// walk it and look names up for every request this record
		// serves. A request's names that fit one group of slots get a
		// small map (one allocation, at such a change of size only).
		out = nil
	}
	if out == nil {
		out = make(map[string][]string, len(flat)/2)
	}
	// The values of a name, in order, share one backing array, as
	// http.Header.Clone makes them. SetHeaders keeps the pairs of a name
	// next to each other; a name met again (two long names cut to the
	// same prefix) has its values copied.
	// Each name's values are redacted as they are copied (no walk of the
	// map afterwards).
	s := r.scrubber()
	vals := slices.Grow(rec.spare.hdrVals[:0], len(flat)/2)
	order := rec.spare.hdrOrder[:0]
	if keepOrder && cap(order) < len(flat)/2 {
		order = make([]headerEntry, 0, len(flat)/2)
	}
	var size int64 // recordSize's estimate, without a walk of the map
	var uaAt uint8 // see Record.hdrOrderUA
	for i := 0; i+1 < len(flat); {
		k := flat[i]
		first, start := flat[i+1], len(vals)
		for ; i+1 < len(flat) && flat[i] == k; i += 2 {
			vals = append(vals, flat[i+1])
		}
		secret := r.secretKey(k)
		clean := !secret && redactValues(s, vals[start:])
		ua := false
		if secret {
			s.headerValues(vals[start:], true)
		} else if k == userAgent {
			s.noteUserAgent(first, vals[start])
			ua = true
		}
		size += headerSize(k, vals[start:])
		// Only a name cut to its cap, or the note of values left out,
		// may be met again: the names of a header map are distinct.
		if len(k) > r.cfg.maxName || k == HeaderTruncated {
			if prev, ok := out[k]; ok {
				out[k] = append(prev[:len(prev):len(prev)], vals[start:]...)
				if keepOrder {
					order = append(order, headerEntry{name: k}) // never refilled (see refillHeaderMap)
				}
				continue
			}
		}
		out[k] = vals[start:len(vals):len(vals)]
		if keepOrder {
			if ua && len(order) < maxKnownHeaders {
				uaAt = uint8(len(order) + 1)
			}
			order = append(order, headerEntry{name: k, vals: out[k], secret: secret, clean: clean, ua: ua})
		}
	}
	rec.spare.hdr, rec.spare.hdrVals, rec.spare.hdrOrder, rec.hdrOrderUA = out, vals, order, uaAt
	rec.hdrBytes, rec.spare.hdrBytes = size, size
	if fresh {
		r.shareHeaderMap(out, order, size, uaAt)
	}
	return out
}

// takeSharedHeaders gives rec, a pooled record, the header map records
// share, sh (Recorder.poolHdr), whose headers sameHeaders found rec's
// pairs to be: the map itself, which nothing writes to, and a copy of its
// entries, which are the record's own (SetHeaders notes in them the
// slots where it found the names; a later headerMap remakes them). The
// record keeps no map of its own (nor its values, in spare.hdrVals, which
// a map of its own reuses): see Record.hdrShared.
func takeSharedHeaders(rec *Record, sh *keptHeaders) map[string][]string {
	sp := rec.spare
	clear(sp.hdrVals)
	sp.hdrVals = sp.hdrVals[:0]
	sp.hdr, sp.hdrOrder, sp.hdrBytes = sh.m, append(sp.hdrOrder[:0], sh.order...), sh.bytes
	rec.hdrBytes, rec.hdrOrderUA, rec.hdrShared = sh.bytes, sh.uaAt, true
	return sh.m
}

// shareHeaderMap makes the header map pooled records share
// (Recorder.poolHdr) a copy of m, the map headerMap made for a pooled
// record made afresh, whose entries are order and recordSize's estimate
// bytes: when its headers are ones sameHeaders can match (as many
// entries as names, at most maxKnownHeaders, each with one value). The
// copy is the writer's, with values and entries of its own: nothing
// writes to it once made, while the record refills its own m. The
// ~2 × DefaultBatchSize records a recorder keeps mostly serve requests
// with the same headers; each holding a map of its own, which the
// collector scans in every cycle while they wait in the queue, cost
// ~56 KB of scan a cycle in the hello scenario (see "thirty-third round,
// i33-hello" in docs/BENCHMARKS.md).
func (r *Recorder) shareHeaderMap(m map[string][]string, order []headerEntry, bytes int64, uaAt uint8) {
	if len(order) == 0 || len(order) != len(m) || len(order) > maxKnownHeaders {
		return
	}
	for i := range order {
		if len(order[i].vals) != 1 {
			return
		}
	}
	vals := make([]string, len(order))
	sm := make(map[string][]string, len(order))
	so := make([]headerEntry, len(order))
	for i, e := range order {
		vals[i] = e.vals[0]
		e.vals = vals[i : i+1 : i+1]
		sm[e.name] = e.vals
		so[i] = e
	}
	r.poolHdr = &keptHeaders{m: sm, order: so, bytes: bytes, uaAt: uaAt}
}

// keptHeaderMap is headerMap for a record that a sink may keep (the
// recorder has no pool): such a record is never reused, so its map is
// never refilled, and a new one would be made for every record. A record
// whose headers are those of the last map made — the same names, each
// with the one value redaction left as it was, or any value of a secret
// name — is given that map instead: sinks never modify a record, so
// records may share it (as calls share their frames), and nothing writes
// to it again. Headers that differ get a map of their own, which the
// next records may share in turn.
func (r *Recorder) keptHeaderMap(rec *Record) map[string][]string {
	k := &r.keptHdr
	rec.ownSpare()
	if k.m != nil && len(k.order) == len(k.m) && sameHeaders(r.scrubber(), rec.hdrFlat, k.m, k.order, r.cfg.maxName) {
		rec.hdrBytes = k.bytes
		if !k.published && len(k.order) <= maxKnownHeaders {
			// Sent twice in a row: the requests are told of the map,
			// with entries of its own that nothing writes (k.order is
			// the writer's, reused for the next map it makes).
			k.published = true
			r.keptPub.Store(&keptHeaders{m: k.m, order: slices.Clone(k.order), bytes: k.bytes, uaAt: k.uaAt})
		}
		return k.m
	}
	// The values get an array of their own (the spare's is reused, not
	// kept with the record).
	rec.spare.hdr, rec.spare.hdrOrder, rec.spare.hdrVals = nil, k.order[:0], nil
	m := r.headerMap(rec)
	k.m, k.order, k.bytes, k.uaAt, k.published = m, rec.spare.hdrOrder, rec.hdrBytes, rec.hdrOrderUA, false
	rec.spare.hdrOrder, rec.spare.hdrVals = nil, nil
	return m
}

// A keptHeaders is the last header map keptHeaderMap made, with its
// entries (names, values, and what redaction did to them) in the order
// headerMap made them, and recordSize's estimate of the map. The map
// belongs to the records that hold it and is never written to again; the
// order is the writer's own.
type keptHeaders struct {
	m     map[string][]string
	order []headerEntry
	bytes int64
	uaAt  uint8 // 1 + the index of User-Agent's entry in order, among its first maxKnownHeaders, else 0 (see Record.hdrOrderUA)
	// published says the requests were told of m (Recorder.keptPub),
	// with a copy of order: the writer's own keptHdr only.
	published bool
}

// sameHeaders reports whether flat, the pairs SetHeaders kept, hold the
// headers of m, whose entries are order (a map with no name merged
// by headerMap): as many names, each of them in order, with one value
// that is the entry's, which redaction left as it was, or any value of a
// secret name. The map is then what headerMap would make of flat. A
// name that may come twice in flat (cut to maxName, or the note of values
// left out) is never compared: then the pairs could hold fewer names than
// the map. Nor is a name with several values, whose pairs SetHeaders keeps
// next to each other: its entries hold one value, and its pairs, as many
// as the map's names, would leave one of the map's names unmatched (a
// name, and its value, of another request). It notes the User-Agent value
// for s, as headerMap does.
func sameHeaders(s *scrubber, flat []string, m map[string][]string, order []headerEntry, maxName int) bool {
	if len(flat) != 2*len(order) {
		return false
	}
	ua := -1 // the pair of the User-Agent value
	for i := 0; i+1 < len(flat); i += 2 {
		k, v := flat[i], flat[i+1]
		if i >= 2 && flat[i-2] == k {
			return false
		}
		e := &order[i/2]
		if e.name != k {
			if len(k) > maxName || k == HeaderTruncated {
				return false
			}
			if e = findHeader(order, m, k); e == nil {
				return false
			}
		}
		if len(e.vals) != 1 || !e.secret && (!e.clean || e.vals[0] != v) {
			return false
		}
		if e.ua {
			ua = i + 1
		}
	}
	if ua >= 0 {
		s.noteUserAgent(flat[ua], flat[ua])
	}
	return true
}

// redactValues redacts vs, the values of a header name that is not
// secret, in place, and reports whether redaction left all of them as
// they were.
func redactValues(s *scrubber, vs []string) (clean bool) {
	clean = true
	for i, v := range vs {
		t := s.text(v)
		if t != v {
			vs[i], clean = t, false
		}
	}
	return clean
}

// refillHeaderMap writes the pairs SetHeaders kept into out, the header
// map of rec's last use, when they have the same names, each with as many
// values: the map's entries are kept, and their values, which share
// rec.spare.hdrVals, overwritten in place and redacted. A name is found
// in rec.spare.hdrOrder, the map's entries in the order headerMap made
// them, when it comes in the same place (mostly: the pairs come from a
// walk of the request's header map, which starts anywhere), else by a
// look-up in the map. A value equal to the one it overwrites, of a name
// whose values redaction left as they were last time, is left as it is
// without being redacted again: redaction is a function of the text alone
// (and of the name, for a secret one), and requests mostly send the
// values of the last one (Accept, User-Agent…). It returns recordSize's
// estimate of the headers, or false — having maybe written some values,
// which the caller's rebuild of the map overwrites — when the names
// differ. A map in which headerMap merged a name met twice (a name cut to
// its cap, or the note of values left out) is never refilled, nor is a
// name that may be met twice looked up.
func (r *Recorder) refillHeaderMap(rec *Record, out map[string][]string) (int64, bool) {
	flat, order := rec.hdrFlat, rec.spare.hdrOrder
	if len(order) != len(out) {
		return 0, false // a name was merged
	}
	s := r.scrubber()
	var size int64
	p := 0
	for i := 0; i+1 < len(flat); p++ {
		k := flat[i]
		if p == len(order) {
			return 0, false
		}
		e := &order[p]
		if e.name != k {
			if len(k) > r.cfg.maxName || k == HeaderTruncated {
				return 0, false
			}
			if e = findHeader(order, out, k); e == nil {
				return 0, false
			}
		}
		vs := e.vals
		first := i + 1 // the name's first value, the one KeptHeader gives
		// The name's values, mostly one: the next pair has another name.
		n, clean := 0, true
		for {
			if n == len(vs) {
				return 0, false
			}
			switch v := flat[i+1]; {
			case e.secret:
				vs[n] = Redacted
			case e.clean && vs[n] == v:
				// The last request's value, which redaction left as it
				// was (the same text: kept, not redacted again).
			default:
				t := s.text(v)
				vs[n], clean = t, clean && t == v
			}
			n++
			if i += 2; i+1 >= len(flat) || flat[i] != k {
				break
			}
		}
		if n != len(vs) {
			return 0, false
		}
		if e.ua {
			s.noteUserAgent(flat[first], vs[0])
		}
		e.clean = clean && !e.secret
		size += headerSize(k, vs)
	}
	if p != len(out) {
		return 0, false
	}
	rec.spare.hdrBytes = size
	return size, true
}

// userAgent is the canonical name of the header whose first value
// httpstats records as user_agent.original.
const userAgent = "User-Agent"

// noteSameUserAgent tells s the request's User-Agent value when headerMap
// takes the last request's map as it is (see knownHeaders): flat holds the
// pairs in order's order, and a name that is not secret (as User-Agent's
// entry, marked ua, is) had its one value left as it was by redaction, and
// sent again.
func noteSameUserAgent(s *scrubber, flat []string, order []headerEntry) {
	for i := range order {
		if order[i].ua {
			if 2*i+1 < len(flat) {
				s.noteUserAgent(flat[2*i+1], flat[2*i+1])
			}
			return
		}
	}
}

// findHeader returns the entry of the header name k in order, the entries
// of the header map out, or nil: a few names are compared faster than a
// map looks one up.
func findHeader(order []headerEntry, out map[string][]string, k string) *headerEntry {
	if len(order) > 8 {
		vs, ok := out[k]
		if !ok || len(vs) == 0 {
			return nil
		}
		// The entry whose values are vs: the map's values are the
		// entries' own slices.
		for i := range order {
			if e := &order[i]; len(e.vals) > 0 && &e.vals[0] == &vs[0] {
				return e
			}
		}
		return nil
	}
	for i := range order {
		if order[i].name == k {
			return &order[i]
		}
	}
	return nil
}

// A headerEntry is an entry of a header map headerMap made: a name, its
// values, and whether the name is secret (the recorder's redaction never
// changes).
type headerEntry struct {
	name   string
	vals   []string
	secret bool
	// clean says redaction left all of vals as they were: each is the
	// text a request sent, so a value equal to it needs no redaction.
	clean bool
	// ua says the name is User-Agent, not secret: headerMap tells the
	// scrubber its first value's redaction (see scrubber.ua).
	ua bool
	// slot is where knownHeaders found the name in the group of slots
	// of the last request's header map (see headerSlot), and looks first
	// in the next one's: a server's parser inserts a request's headers
	// in the order the client sends them, mostly the order of the last
	// request, and a small map puts them in its slots in that order. A
	// hint only: the slot's name is compared.
	slot uint8
}

// noSlot is a headerEntry's slot when the name was not found in a group
// of slots: past the eight of a group.
const noSlot = 8

// secretKey reports whether a header name or an attribute key is secret
// ([Redaction.secretHeader]), from the writer's cache (see keyKind). It
// runs in the writer goroutine, which alone uses the cache.
func (r *Recorder) secretKey(k string) bool { return r.keyKind(k)&keySecret != 0 }

// A keyKind says how the writer redacts the value of a header or an
// attribute by its name: whether the name is secret, counts secret things
// (convention.Rules.CountName: "gen_ai.usage.input_tokens", "api.tokens"),
// or is db.query.text.
type keyKind uint8

const (
	keySecret keyKind = 1 << iota
	keyCount
	keyQuery
	// keyRequest is an attribute whose value is the request's own text,
	// a new string each request (user_agent.original, url.full,
	// url.path, url.query, client.address): the writer looks it up by
	// its hash alone, never holds it by its address (see cleanTexts).
	keyRequest
)

// keyKind returns what k is, as a header name or an attribute key, from a
// cache: a record's names repeat from record to record. It runs in the
// writer goroutine, which alone uses the cache.
func (r *Recorder) keyKind(k string) keyKind {
	if k == "" {
		return r.kindOf(k)
	}
	// Most keys are constants of the code that sets them
	// (convention.KeyURLScheme…), the same string every time: found by
	// their address first, without hashing them. An entry holds its key,
	// which stays alive and unchanged, so the same address and length
	// are the same key.
	e := &r.secretRecent[(uintptr(unsafe.Pointer(unsafe.StringData(k)))>>3^uintptr(len(k)))%uintptr(len(r.secretRecent))]
	if unsafe.StringData(e.key) == unsafe.StringData(k) && len(e.key) == len(k) {
		return e.kind
	}
	kind, ok := r.secretNames[k]
	if !ok {
		if len(r.secretNames) >= 4096 {
			clear(r.secretNames)
		}
		kind = r.kindOf(k)
		r.secretNames[k] = kind
	}
	*e = secretEntry{key: k, kind: kind}
	return kind
}

// kindOf is keyKind without the cache.
func (r *Recorder) kindOf(k string) keyKind {
	var kind keyKind
	if r.cfg.redaction.secretHeader(k) {
		kind |= keySecret
	}
	if r.cfg.redaction.compiled().CountName(k) {
		kind |= keyCount
	}
	switch k {
	case convention.KeyDBQueryText:
		kind |= keyQuery
	case convention.KeyUserAgentOriginal, convention.KeyURLFull, convention.KeyURLPath,
		convention.KeyURLQuery, convention.KeyClientAddress:
		kind |= keyRequest
	}
	return kind
}

// secretEntry is an entry of the writer's cache of keys by address.
type secretEntry struct {
	key  string
	kind keyKind
}
