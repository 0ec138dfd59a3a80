package recording

import (
	"strconv"
	"time"
	"unsafe"
)

// Analyze looks for problems in a finished record and returns them as
// warnings:
//
//   - [WarnRepeated]: threshold or more calls with the same service, method
//     and request summary — the N+1 pattern, where one call in a loop could
//     have been one batched call;
//   - [WarnRunning]: calls still running when the request ended.
//
// A [Recorder] runs it on every record before the sinks see it, with its
// repeat threshold (default [DefaultRepeatThreshold]).
func Analyze(r *Record, threshold int) []Warning {
	var a analysis
	return a.analyze(nil, r, threshold)
}

// analysis is Analyze's working memory, kept from record to record by the
// recorder's writer goroutine (which alone uses it), so that analysing a
// record allocates nothing but the messages of its warnings.
type analysis struct {
	// groups are the record's distinct calls, in the order they first
	// appear. A record's calls are mostly a few distinct ones (one in a
	// loop, the N+1 pattern itself), found by comparing with each group,
	// by its tag first (see tagOf); past maxLinearGroups, index finds
	// them (indexed).
	groups  []repeated
	index   map[callKey]int
	indexed bool
	buf     []byte
	// prefix is the length of the start of the last repeated-call
	// warning left in buf, 0 for none; prefixN, prefixService and
	// prefixMethod are its count and its names' lengths (see
	// repeatedPrefix).
	prefix                               int
	prefixN, prefixService, prefixMethod int
}

// maxLinearGroups is how many distinct calls analysis finds by comparing
// with each; more are found through a map. A group whose tag differs
// costs a comparison of two words, where a look-up in the map hashes the
// three strings of the key, and filling the map hashes each group's: a
// record of ten calls to ten URLs (the fanout's), past eight, filled it
// every time.
const maxLinearGroups = 16

type callKey struct{ service, method, request string }

// same reports whether k and o are equal. The calls of a record that are
// alike mostly share their strings (constants of the code that made
// them), which are then compared by address, without a call to compare
// their bytes.
func (k callKey) same(o callKey) bool {
	return sameString(k.request, o.request) && sameString(k.method, o.method) && sameString(k.service, o.service)
}

// sameCall reports whether c and o have the same key (see callKey.same),
// without building the keys. The request summaries are compared first:
// calls of one method to many URLs (calls of one loop) share the other
// two, mostly by their addresses, and differ there.
func sameCall(c, o *Call) bool {
	return sameString(c.Request, o.Request) && sameString(c.Method, o.Method) && sameString(c.Service, o.Service)
}

// tagOf returns a word of k's strings: the last eight bytes of its
// request summary (where the URLs of a loop's calls mostly differ: an ID,
// a page) and the three strings' lengths. Equal keys have equal tags, so
// a group of another tag is another call, known without a comparison of
// strings: the calls of a record made to ten URLs by one loop have the
// same service and method, which the comparison of their keys found
// equal by their bytes before it found their requests different.
func tagOf(k callKey) uint64 {
	return tail8(k.request) ^ uint64(len(k.request))<<40 ^ uint64(len(k.method))<<20 ^ uint64(len(k.service))
}

// tail8 returns the last eight bytes of s as a little-endian word, its
// bytes when it is shorter.
func tail8(s string) uint64 {
	n := len(s)
	if n < 8 {
		var t uint64
		for i := range n {
			t = t<<8 | uint64(s[i])
		}
		return t
	}
	b := s[n-8:]
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// sameString reports whether a == b, comparing their addresses first,
// then their last bytes: the URLs of a loop's calls, of one length, mostly
// differ at their ends (an ID, a page), where a comparison of their bytes
// from the start reached the difference last.
func sameString(a, b string) bool {
	n := len(a)
	if n != len(b) {
		return false
	}
	if unsafe.StringData(a) == unsafe.StringData(b) || n == 0 {
		return true
	}
	return a[n-1] == b[n-1] && a == b
}

type callGroup struct {
	n     int
	total time.Duration
	first int
}

type repeated struct {
	k   callKey
	tag uint64 // tagOf(k)
	g   callGroup
}

// group returns the index in a.groups of the group of the calls like c,
// whose key is k, the i-th call of its record, adding one if c is the
// first.
func (a *analysis) group(k callKey, i int) int {
	tag := tagOf(k)
	if !a.indexed {
		for j := range a.groups {
			if g := &a.groups[j]; g.tag == tag && g.k.same(k) {
				return j
			}
		}
		if len(a.groups) == maxLinearGroups {
			if a.index == nil {
				a.index = make(map[callKey]int)
			}
			for j := range a.groups {
				a.index[a.groups[j].k] = j
			}
			a.indexed = true
		}
	} else if j, ok := a.index[k]; ok {
		return j
	}
	if a.indexed {
		a.index[k] = len(a.groups)
	}
	a.groups = append(a.groups, repeated{k: k, tag: tag, g: callGroup{first: i}})
	return len(a.groups) - 1
}

// tally puts calls, but events, in their groups (with group), and counts
// those still running and their time. It is analyze's loop over the
// calls, in a function of its own: in analyze's, its variables would not
// all stay in registers.
//
// Calls are grouped only while a group can still reach threshold: once
// the largest group's count and the calls left to look at (this one
// among them) sum to less than threshold, no group, old or new, can reach
// it, and the rest of the calls are only counted as running or not (a
// record of ten calls to ten URLs, the fanout's, is grouped up to its
// seventh call with the default threshold). Groups left below threshold
// give no warning, so the warnings are those of the whole record grouped.
// It returns the largest group's count, which is below threshold when no
// group reaches it (0 when the calls were not grouped at all).
func (a *analysis) tally(calls []Call, threshold int) (running int, runningTotal time.Duration, maxN int) {
	group := len(calls) >= threshold
	var prev *Call   // the last call grouped
	var g *callGroup // its group
	for i := 0; i < len(calls); i++ {
		c := &calls[i]
		if c.Event {
			continue
		}
		if c.Running {
			running++
			runningTotal += c.Duration
		}
		if !group {
			continue
		}
		if maxN+len(calls)-i < threshold {
			group = false // no group can reach threshold now
			continue
		}
		// A call like the one before it (a loop, the N+1 pattern
		// itself) is of its group, without a look through the groups.
		// (g stays valid until the next look: only a look adds groups.)
		if prev == nil || !sameCall(c, prev) {
			g = &a.groups[a.group(callKey{c.Service, c.Method, c.Request}, i)].g
		}
		prev = c
		g.n++
		g.total += c.Duration
		// The calls right after c made with c's very strings (a loop),
		// neither events nor running, are of g too.
		n, total := sameRun(calls[i+1:], c)
		i += n
		g.n += n
		g.total += total
		maxN = max(maxN, g.n)
	}
	return running, runningTotal, maxN
}

// sameRun returns how many of the calls at the start of calls were made
// with c's very strings (the same addresses and lengths, which sameCall
// would find equal), neither events nor running, and their total
// duration: tally's count of a loop's calls, in a function of its own,
// kept from being inlined, that calls nothing, so that its variables, c's
// strings among them, stay in registers.
//
//go:noinline
func sameRun(calls []Call, c *Call) (n int, total time.Duration) {
	sp, mp, rp := unsafe.StringData(c.Service), unsafe.StringData(c.Method), unsafe.StringData(c.Request)
	sl, ml, rl := len(c.Service), len(c.Method), len(c.Request)
	// The calls are walked by address, not by index (no multiplication a
	// call), never past the last (no pointer past the slice is made), and
	// Running and Event, adjacent, are read as one 16-bit word (one test
	// for both; see flagsOf).
	if len(calls) == 0 {
		return 0, 0
	}
	d := &calls[0]
	for {
		if flagsOf(d) != 0 ||
			unsafe.StringData(d.Service) != sp || unsafe.StringData(d.Method) != mp || unsafe.StringData(d.Request) != rp ||
			len(d.Service) != sl || len(d.Method) != ml || len(d.Request) != rl {
			break
		}
		total += d.Duration
		if n++; n == len(calls) {
			break
		}
		d = (*Call)(unsafe.Add(unsafe.Pointer(d), unsafe.Sizeof(Call{})))
	}
	return n, total
}

// flagsOf returns c's Running and Event as one word, zero when neither is
// set: the two bools are adjacent in Call, Event right after Running at an
// even offset (checked as the package compiles, below).
func flagsOf(c *Call) uint16 { return *(*uint16)(unsafe.Pointer(&c.Running)) }

// Each index is a constant out of range, and so fails to compile, unless
// Call.Event directly follows Call.Running and Running's offset is even.
var (
	_ = [1]struct{}{}[unsafe.Offsetof(Call{}.Event)-unsafe.Offsetof(Call{}.Running)-1]
	_ = [1]struct{}{}[unsafe.Offsetof(Call{}.Running)%2]
)

// analyze appends r's warnings to dst.
func (a *analysis) analyze(dst []Warning, r *Record, threshold int) []Warning {
	if threshold <= 1 {
		threshold = DefaultRepeatThreshold
	}
	if len(r.Calls) == 0 {
		return dst
	}
	running, runningTotal, maxN := a.tally(r.Calls, threshold)
	// The repeated groups, in order of first appearance (deterministic
	// output), each read in place; none when the largest is below
	// threshold.
	if maxN >= threshold {
		for i := range a.groups {
			f := &a.groups[i]
			if f.g.n < threshold {
				continue
			}
			// "10 identical svc calls Method (1.2ms in all): an N+1 pattern? …"
			b := a.repeatedPrefix(f)
			b = appendMicros(b, f.g.total)
			b = append(b, " in all): an N+1 pattern? batch them or run them once"...)
			a.buf = b
			dst = append(dst, Warning{
				Kind:    WarnRepeated,
				Service: f.k.service,
				Method:  f.k.method,
				Request: f.k.request,
				Count:   f.g.n,
				Total:   f.g.total,
				Message: string(b),
			})
		}
	}
	// Do not keep the record's strings alive (the keys alone hold
	// pointers: cleared one by one, without clear's call for a few
	// groups); memory that grew for a record of many distinct calls is
	// let go.
	for i := range a.groups {
		a.groups[i].k = callKey{}
	}
	a.groups = a.groups[:0]
	if a.indexed {
		clear(a.index)
		a.indexed = false
		if cap(a.groups) > 1024 {
			a.groups, a.index = nil, nil
		}
	}
	if running > 0 {
		a.prefix = 0 // buf is overwritten
		b := strconv.AppendInt(a.buf[:0], int64(running), 10)
		b = append(b, " call(s) still running when the request ended"...)
		a.buf = b
		dst = append(dst, Warning{
			Kind:    WarnRunning,
			Count:   running,
			Total:   runningTotal,
			Message: string(b),
		})
	}
	return dst
}

// repeatedPrefix returns a.buf holding the start of f's warning, up to
// its total: "10 identical svc calls Method (". The last one written is
// left in a.buf (its length in a.prefix, with its count and its names'
// lengths): a service's records repeat the same warning, whose start is
// then found there, its two names compared, instead of written again.
func (a *analysis) repeatedPrefix(f *repeated) []byte {
	b := a.buf
	if p := a.prefix; p > 0 && a.prefixN == f.g.n && a.prefixService == len(f.k.service) &&
		a.prefixMethod == len(f.k.method) && p <= len(b) {
		// The count's digits, " identical " (11 bytes), the service,
		// " calls " (7), the method and " (" (2).
		m := p - 2 - len(f.k.method)
		sv := m - 7 - len(f.k.service)
		if string(b[sv:sv+len(f.k.service)]) == f.k.service && string(b[m:m+len(f.k.method)]) == f.k.method {
			return b[:p]
		}
	}
	b = strconv.AppendInt(b[:0], int64(f.g.n), 10)
	b = append(b, " identical "...)
	b = append(b, f.k.service...)
	b = append(b, " calls "...)
	b = append(b, f.k.method...)
	b = append(b, " ("...)
	a.prefix, a.prefixN, a.prefixService, a.prefixMethod = len(b), f.g.n, len(f.k.service), len(f.k.method)
	return b
}

// appendMicros appends d rounded to the microsecond as
// d.Round(time.Microsecond).String() writes it, without its general
// formatting for a duration under a second above zero: "850µs", "1.2ms",
// "12.345ms".
func appendMicros(b []byte, d time.Duration) []byte {
	d = d.Round(time.Microsecond)
	if d <= 0 || d >= time.Second {
		return append(b, d.String()...)
	}
	us := int64(d / time.Microsecond)
	if us < 1000 {
		b = strconv.AppendInt(b, us, 10)
		return append(b, "µs"...)
	}
	b = strconv.AppendInt(b, us/1000, 10)
	if f := us % 1000; f != 0 {
		// Three digits, the trailing zeros left out.
		digits := [3]byte{byte('0' + f/100), byte('0' + f/10%10), byte('0' + f%10)}
		n := 3
		for digits[n-1] == '0' {
			n--
		}
		b = append(b, '.')
		b = append(b, digits[:n]...)
	}
	return append(b, "ms"...)
}
