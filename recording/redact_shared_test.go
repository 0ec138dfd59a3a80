package recording_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestRedactSharedMemorySequences records random sequences of requests
// whose attributes and calls' texts are strings that share memory the way
// user code's may: the very strings of the request before, prefixes of one
// another (the same address, another length: "token" and "tokenizer",
// "api" and "api_key", a clean value and the same value with a secret
// after it), swapped for one another from one request to the next, a call's
// url.full the last bytes of its request, db.query.text its request,
// attributes set after a call ended, and a call's method and the route a
// clean text and, later, a longer one of the same address with a secret
// (64 bytes longer: one slot of the writer's cache). Calls set their attributes one by
// one, all at once, through Update after Reserve's room, or both. Each
// record, as a sink gets it, must be the record a recorder that saw no
// request before (a writer's cache of nothing) made of the same request
// with every string afresh: no redaction skipped for an address seen
// clean before, and no secret left in it. (sameAttrWords made to compare
// the words' addresses alone, not their lengths, fails it: a "token" of
// "tokenizer"'s address, its value kept; recentSlot made to compare
// addresses alone fails it: the route's and the method's secret kept.)
func TestRedactSharedMemorySequences(t *testing.T) {
	// One buffer for the keys, one for the values: their strings are
	// slices of them, so that a key or a value of one length shares its
	// address with those of other lengths.
	const keyBuf = "tokenizer.api_key.tenant_name.note"
	const valBuf = "acme password=hunter2 42 token=abc123def"
	keys := []string{
		keyBuf[:9], keyBuf[:5], keyBuf[10:13], keyBuf[10:17], keyBuf[18:24], keyBuf[18:29], keyBuf[25:29], keyBuf[30:34],
		"url.full", "db.query.text", "http.request.method",
	}
	values := []string{
		valBuf[:4], valBuf[:21], valBuf[5:13], valBuf[22:24], valBuf[25:30], valBuf[25:40], "", "GET",
	}
	// A call's method and a route of one buffer each: the first 10 bytes
	// clean, the first 74 with a secret. Their lengths are 64 apart, so
	// both land in one slot of the writer's 64-slot cache of texts known
	// clean by their address (recentSlot).
	const methodBuf = "ListItems/v1/items/lookup?tenant=acme&limit=50&sort=name password=hunter2 and more after it"
	const routeBuf = "GET /items/{id}/history?tenant=acme&limit=50&order=asc password=hunter2 and the rest"
	methods := append(keys[:len(keys):len(keys)], methodBuf[:10], methodBuf[:74])
	routes := []string{routeBuf[:10], routeBuf[:74], "GET /hello", ""}
	// sibling returns a string of the same address as v and another
	// length, if keys or values have one.
	sibling := func(v string) string {
		for _, from := range [][]string{keys, values, methods, routes} {
			for _, w := range from {
				if len(w) != len(v) && len(w) > 0 && len(v) > 0 && unsafe.StringData(w) == unsafe.StringData(v) {
					return w
				}
			}
		}
		return v
	}
	requests := []string{
		"GET http://api.example/v1/items?token=abc123def",
		"GET http://api.example/v1/items?tenant=acme",
		"SELECT * FROM users WHERE password = 'hunter2'",
		"POST /login password=hunter2",
		"plain text",
	}
	type callStep struct {
		method, request string
		attrs           [][2]string
		way             int // 0 SetAttr, 1 SetAttrs, 2 Update with Reserve, 3 half and half
		late            [][2]string
		urlFull, dbText bool
	}
	type step struct {
		route string
		attrs [][2]string
		calls []callStep
	}
	rnd := rand.New(rand.NewPCG(36, 7))
	pick := func(from []string) string { return from[rnd.IntN(len(from))] }
	drawAttrs := func(n int) [][2]string {
		as := make([][2]string, n)
		for i := range as {
			as[i] = [2]string{pick(keys), pick(values)}
		}
		return as
	}
	draw := func(prev step) step {
		// Mostly the request before, nearly: the strings are the very
		// same ones (no clone), so that the writer's cache sees the
		// same addresses again.
		s := step{route: prev.route, attrs: append([][2]string(nil), prev.attrs...), calls: append([]callStep(nil), prev.calls...)}
		switch rnd.IntN(9) {
		case 7, 8:
			// A key, a value, a call's method or the route of the same
			// address as the one it takes the place of, and another
			// length.
			switch k := rnd.IntN(6); {
			case k == 0:
				s.route = sibling(s.route)
			case k == 1 && len(s.calls) > 0:
				i := rnd.IntN(len(s.calls))
				s.calls[i].method = sibling(s.calls[i].method)
			case len(s.attrs) > 0 && k < 4:
				a := &s.attrs[rnd.IntN(len(s.attrs))]
				j := rnd.IntN(2)
				a[j] = sibling(a[j])
			case len(s.calls) > 0:
				i := rnd.IntN(len(s.calls))
				c := s.calls[i]
				c.attrs = append([][2]string(nil), c.attrs...)
				if len(c.attrs) > 0 {
					a := &c.attrs[rnd.IntN(len(c.attrs))]
					j := rnd.IntN(2)
					a[j] = sibling(a[j])
				}
				s.calls[i] = c
			}
		case 0:
			s = step{route: pick(routes), attrs: drawAttrs(rnd.IntN(5))}
			for range rnd.IntN(4) {
				s.calls = append(s.calls, callStep{method: pick(methods), request: pick(requests), attrs: drawAttrs(rnd.IntN(7)), way: rnd.IntN(4)})
			}
		case 1:
			if len(s.attrs) > 0 {
				s.attrs[rnd.IntN(len(s.attrs))][rnd.IntN(2)] = pick(append(keys, values...))
			}
		case 2:
			if len(s.calls) > 0 {
				i := rnd.IntN(len(s.calls))
				c := s.calls[i]
				c.attrs = append([][2]string(nil), c.attrs...)
				if len(c.attrs) > 0 {
					c.attrs[rnd.IntN(len(c.attrs))][rnd.IntN(2)] = pick(append(keys, values...))
				}
				c.way = rnd.IntN(4)
				s.calls[i] = c
			}
		case 3:
			if len(s.calls) > 0 {
				i := rnd.IntN(len(s.calls))
				c := s.calls[i]
				c.request = pick(requests)
				c.urlFull, c.dbText = rnd.IntN(2) == 0, rnd.IntN(3) == 0
				s.calls[i] = c
			}
		case 4:
			if len(s.calls) > 0 {
				i := rnd.IntN(len(s.calls))
				c := s.calls[i]
				c.late = drawAttrs(1 + rnd.IntN(2))
				s.calls[i] = c
			}
		case 5:
			s.calls = append(s.calls, callStep{method: pick(methods), request: pick(requests), attrs: drawAttrs(rnd.IntN(7)), way: rnd.IntN(4)})
		case 6:
			if len(s.calls) > 0 {
				s.calls = s.calls[1:]
			}
		}
		return s
	}
	// run records s; fresh gives every string memory of its own.
	run := func(rec *recording.Recorder, path string, s step, fresh bool) {
		cl := func(v string) string { return v }
		if fresh {
			cl = strings.Clone
		}
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: path})
		ar.Record().Route = cl(s.route)
		for _, a := range s.attrs {
			ar.AddAttr(cl(a[0]), cl(a[1]))
		}
		for _, c := range s.calls {
			call := recording.StartCall(ctx, "svc", cl(c.method))
			req := cl(c.request)
			call.SetRequest(req)
			as := make([]recording.Attr, 0, len(c.attrs)+2)
			for _, a := range c.attrs {
				as = append(as, recording.Attr{Key: cl(a[0]), Value: cl(a[1])})
			}
			if c.urlFull {
				if i := strings.Index(req, "http"); i >= 0 {
					as = append(as, recording.Attr{Key: "url.full", Value: req[i:]})
				}
			}
			if c.dbText {
				as = append(as, recording.Attr{Key: "db.query.text", Value: req})
			}
			switch c.way {
			case 0:
				for _, a := range as {
					call.SetAttr(a.Key, a.Value)
				}
			case 1:
				call.SetAttrs(as...)
			case 2:
				call.Update(&recording.CallUpdate{Reserve: true, Attrs: as})
			case 3:
				call.Reserve()
				call.SetAttrs(as[:len(as)/2]...)
				call.Update(&recording.CallUpdate{Attrs: as[len(as)/2:]})
			}
			call.End(nil)
			for _, a := range c.late {
				call.SetAttr(cl(a[0]), cl(a[1]))
			}
		}
		ar.Finish()
	}
	reference := func(s step) string {
		sink := recordingtest.NewSink()
		rec := recording.New(recording.WithSinks(sink))
		run(rec, "/", s, true)
		if err := rec.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		return recordShape(sink.Records()[0])
	}
	// First, fixed steps: a clean method and route, then the same
	// buffers' longer texts with the secret, alone and in one record.
	short := callStep{method: methodBuf[:10], request: "plain text"}
	long := callStep{method: methodBuf[:74], request: "plain text"}
	fixed := []step{
		{route: routeBuf[:10], calls: []callStep{short}},
		{route: routeBuf[:74], calls: []callStep{long}},
		{route: routeBuf[:10], calls: []callStep{short}},
		{route: routeBuf[:74], calls: []callStep{short, long}},
		{route: routeBuf[:10], calls: []callStep{long, short, long}},
	}
	for _, borrow := range []bool{false, true} {
		t.Run(fmt.Sprintf("borrow=%v", borrow), func(t *testing.T) {
			var want sync.Map
			sink := &shapeCheckSink{borrow: borrow, want: &want}
			rec := recording.New(recording.WithSinks(sink))
			var s step
			for i := range 3000 {
				if i < len(fixed) {
					s = fixed[i]
				} else {
					s = draw(s)
				}
				path := fmt.Sprintf("/r%d", i)
				want.Store(path, reference(s))
				run(rec, path, s, false)
			}
			closeAndReport(t, rec, &sink.bad)
		})
	}
}
