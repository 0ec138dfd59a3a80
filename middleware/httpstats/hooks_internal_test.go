package httpstats

import (
	"context"
	"crypto/tls"
	"net/http/httptrace"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// TestHookCodesFound checks that the hooks' closures were laid out as a
// hookSet needs on this compiler, so that the calls' hooks take no
// allocations of their own (a fallback would pass every other test).
func TestHookCodesFound(t *testing.T) {
	if !traceHooks.ok {
		t.Fatal("findHookCodes found no usable closure code; the hooks fall back to closures of their own")
	}
}

// TestHookSetFiresItsOwnEvent fires each hook of a trace set by a hookSet,
// and by the fallback, and checks that it notes its own event in its own
// phases, and GotConn the connection's reuse.
func TestHookSetFiresItsOwnEvent(t *testing.T) {
	rec := recording.New(recording.WithSinks())
	t.Cleanup(func() { rec.Close(context.Background()) })
	_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	defer ar.Finish()
	fire := []struct {
		e    event
		fire func(*httptrace.ClientTrace)
	}{
		{dnsStart, func(tr *httptrace.ClientTrace) { tr.DNSStart(httptrace.DNSStartInfo{}) }},
		{dnsDone, func(tr *httptrace.ClientTrace) { tr.DNSDone(httptrace.DNSDoneInfo{}) }},
		{connStart, func(tr *httptrace.ClientTrace) { tr.ConnectStart("tcp", "a:1") }},
		{connDone, func(tr *httptrace.ClientTrace) { tr.ConnectDone("tcp", "a:1", nil) }},
		{tlsStart, func(tr *httptrace.ClientTrace) { tr.TLSHandshakeStart() }},
		{tlsDone, func(tr *httptrace.ClientTrace) { tr.TLSHandshakeDone(tls.ConnectionState{}, nil) }},
		{gotConn, func(tr *httptrace.ClientTrace) { tr.GotConn(httptrace.GotConnInfo{Reused: true}) }},
		{wrote, func(tr *httptrace.ClientTrace) { tr.WroteRequest(httptrace.WroteRequestInfo{}) }},
		{firstByte, func(tr *httptrace.ClientTrace) { tr.GotFirstResponseByte() }},
	}
	if len(fire) != numHooks {
		t.Fatalf("%d hooks fired, want %d", len(fire), numHooks)
	}
	for _, codes := range []struct {
		name string
		hc   *hookCodes
	}{{"hookSet", &traceHooks}, {"fallback", &hookCodes{}}} {
		for _, f := range fire {
			// Two states side by side: a hook of one must not write to the other.
			var st [2]callState
			for i := range st {
				st[i].pt.c = ar.StartCall("test", "call")
				codes.hc.set(&st[i].hooks, &st[i].trace, &st[i].pt)
			}
			f.fire(&st[1].trace)
			if st[0].pt.seen != 0 {
				t.Errorf("%s: event %d noted in the other call's phases", codes.name, f.e)
			}
			if got, want := st[1].pt.seen, uint16(1)<<f.e; got != want {
				t.Errorf("%s: event %d noted events %b, want %b", codes.name, f.e, got, want)
			}
			if got, want := st[1].pt.reused, f.e == gotConn; got != want {
				t.Errorf("%s: event %d: reused %v, want %v", codes.name, f.e, got, want)
			}
			if st[1].trace.GetConn != nil || st[1].trace.Got100Continue != nil || st[1].trace.WroteHeaders != nil {
				t.Errorf("%s: hooks the phases do not use are set", codes.name)
			}
		}
	}
}
