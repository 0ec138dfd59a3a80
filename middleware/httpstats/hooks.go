package httpstats

import (
	"net/http/httptrace"
	"unsafe"
)

// A hookSet holds the closures of a call's nine httptrace hooks, which
// all capture the call's phases and nothing else, inside the call's own
// allocation rather than in nine allocations of their own.
//
// A Go func value points to its closure: the address of the function's
// code, followed by the variables it captured. The hooks that
// [phases.hooks] makes capture p alone, by value, so each of their closures
// is a [closure]: their code, then p. A hookSet is nine such closures, whose
// code is that of phases.hooks' own, found once by [findHookCodes]. It
// checks that the compiler laid the closures out so; if it did not (one
// that captured p by reference, say), the trace gets phases.hooks' own
// closures, as it did before.
//
// The hooks may fire after the call ended (a dial that finished for
// another request, HTTP/2's late WroteRequest): a hookSet lives in its
// call's callState, which is never reused, so a late hook writes only to
// phases that are no longer read.
type hookSet [numHooks]closure

// closure is the layout of the closure of a func value that captured one
// *phases.
type closure struct {
	code uintptr // the function's code
	p    *phases
}

// numHooks is how many of [httptrace.ClientTrace]'s hooks the phases use.
const numHooks = 9

// hookCodes holds the code of phases.hooks' closures, in hookFields'
// order, and whether a hookSet can use them.
type hookCodes struct {
	code [numHooks]uintptr
	ok   bool
}

// traceHooks is the code of the hooks, found as the package is
// initialized and never changed after.
var traceHooks = findHookCodes()

// findHookCodes returns the code of the closures phases.hooks makes, after
// checking that each is a closure that captured p by value: ok is false
// otherwise.
func findHookCodes() hookCodes {
	probe := new(phases)
	var t httptrace.ClientTrace
	probe.hooks(&t)
	var hc hookCodes
	for i, f := range hookFields(&t) {
		c := *(**closure)(f)
		if c == nil || c.p != probe || c.code == 0 {
			return hookCodes{}
		}
		hc.code[i] = c.code
	}
	hc.ok = true
	return hc
}

// hookFields returns the addresses of the func fields of t that
// phases.hooks sets.
func hookFields(t *httptrace.ClientTrace) [numHooks]unsafe.Pointer {
	return [numHooks]unsafe.Pointer{
		unsafe.Pointer(&t.DNSStart),
		unsafe.Pointer(&t.DNSDone),
		unsafe.Pointer(&t.ConnectStart),
		unsafe.Pointer(&t.ConnectDone),
		unsafe.Pointer(&t.TLSHandshakeStart),
		unsafe.Pointer(&t.TLSHandshakeDone),
		unsafe.Pointer(&t.GotConn),
		unsafe.Pointer(&t.WroteRequest),
		unsafe.Pointer(&t.GotFirstResponseByte),
	}
}

// set sets t's hooks to record into p, as p.hooks(t) does, with their
// closures in s.
func (hc *hookCodes) set(s *hookSet, t *httptrace.ClientTrace, p *phases) {
	if !hc.ok {
		p.hooks(t)
		return
	}
	*t = httptrace.ClientTrace{}
	for i, f := range hookFields(t) {
		s[i] = closure{code: hc.code[i], p: p}
		*(**closure)(f) = &s[i]
	}
}
