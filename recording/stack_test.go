package recording

import (
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

//go:noinline
func stackLevel(n int, f func()) {
	if n == 0 {
		f()
		return
	}
	stackLevel(n-1, f)
}

// TestUnwindMatchesCallers checks the frame-pointer unwinder against
// runtime.Callers: the same functions, in the same order.
func TestUnwindMatchesCallers(t *testing.T) {
	var got, want []string
	stackLevel(5, func() {
		var buf [stackBuf]uintptr
		n := captured(captureStack(buf[:], nil))
		pcs := buf[:n]
		var cbuf [stackBuf]uintptr
		n = runtime.Callers(1, cbuf[:])
		for _, pc := range pcs {
			if sf := lookup(pc); !strings.Contains(sf.f.Function, ".gowrap") {
				got = append(got, sf.f.Function)
			}
		}
		frames := runtime.CallersFrames(cbuf[:n])
		for {
			fr, more := frames.Next()
			want = append(want, fr.Function)
			if !more {
				break
			}
		}
	})
	t.Logf("fp:      %q", got)
	t.Logf("callers: %q", want)
	if len(got) < 8 || len(got) != len(want) {
		t.Fatalf("unwound %d frames, want the whole stack: %d", len(got), len(want))
	}
	// Callers starts at the closure; so does the unwinder (captureStack is
	// the first frame it reports the caller of).
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("frame %d: fp %q, callers %q", i, got[i], want[i])
		}
	}
}

//go:noinline
func stackLeaf(buf []uintptr) []uintptr {
	n := captured(captureStack(buf, nil))
	return buf[:n]
}

// stackInlined is small enough to be inlined into stackOuter.
func stackInlined(buf []uintptr) []uintptr { return stackLeaf(buf) }

//go:noinline
func stackOuter(buf []uintptr) []uintptr { return stackInlined(buf) }

// TestSymbolizeInlined checks that a function that inlined the call leading
// to the capture still appears in the stack, after the inlined function.
func TestSymbolizeInlined(t *testing.T) {
	var buf [stackBuf]uintptr
	names := symbolizeAll(stackOuter(buf[:]))
	want := []string{"stackLeaf", "stackInlined", "stackOuter", "TestSymbolizeInlined"}
	if len(names) < len(want) || !slices.Equal(names[:len(want)], want) {
		t.Fatalf("frames %q, want %q first", names, want)
	}
}

// symbolizeAll is frames() without the filter (which would drop this
// package), returning short function names.
func symbolizeAll(pcs []uintptr) []string {
	var names []string
	for i, pc := range pcs {
		var next uintptr
		if i+1 < len(pcs) {
			next = pcs[i+1]
		}
		for _, sf := range lookupAll(pc, next) {
			names = append(names, sf.f.Function[strings.LastIndexByte(sf.f.Function, '.')+1:])
		}
	}
	return names
}

//go:noinline
func callersLeaf(buf []uintptr) []uintptr { return buf[:runtime.Callers(1, buf)] }

// callersInlined is small enough to be inlined into callersOuter.
func callersInlined(buf []uintptr) []uintptr { return callersLeaf(buf) }

//go:noinline
func callersOuter(buf []uintptr) []uintptr { return callersInlined(buf) }

// TestSymbolizeCallers checks that PCs from runtime.Callers (the stack
// capture where frame pointers are not walked), which already stand for inlined frames, are not
// expanded twice: the frames are exactly runtime.CallersFrames'.
func TestSymbolizeCallers(t *testing.T) {
	var buf [stackBuf]uintptr
	pcs := callersOuter(buf[:])
	var want []string
	frames := runtime.CallersFrames(pcs)
	for {
		fr, more := frames.Next()
		want = append(want, fr.Function[strings.LastIndexByte(fr.Function, '.')+1:])
		if !more {
			break
		}
	}
	if got := symbolizeAll(pcs); !slices.Equal(got, want) {
		t.Errorf("frames %q, want %q", got, want)
	}
	if want[1] != "callersInlined" {
		t.Errorf("runtime.CallersFrames gave %q: callersInlined was not inlined, the test proves nothing", want)
	}
}

func TestInternalFrame(t *testing.T) {
	for fn, want := range map[string]bool{
		"github.com/goappstats/appstats/recording.StartCall":                         true,
		"github.com/goappstats/appstats/middleware/httpstats.(*transport).RoundTrip": true,
		"github.com/goappstats/appstats/middleware/sqlstats.(*conn).Query":           true,
		"github.com/goappstats/appstats.(*Appstats).Middleware.func1":                true,
		"github.com/goappstats/appstats/middleware/httpstats_test.callSite":          false,
		"github.com/goappstats/appstats/middleware/sqlstats_test.TestX":              false,
		"github.com/goappstats/appstats/examples/demo/internal/app.(*A).Get":         false,
		"main.handler":                   false,
		"net/http.HandlerFunc.ServeHTTP": true,
		"net/http/httptrace.x":           true,
		"runtime.goexit":                 true,
		"github.com/acme/shop.(*DB).Get": false,
	} {
		if got := internalFrame(fn); got != want {
			t.Errorf("internalFrame(%q) = %v, want %v", fn, got, want)
		}
	}
}

// BenchmarkCaptureStack is the stack capture alone, 16 frames deep, with the
// frame-pointer unwinder, beside runtime.Callers for the same depth.
func BenchmarkCaptureStack(b *testing.B) {
	var buf [stackBuf]uintptr
	b.ReportAllocs()
	stackLevel(12, func() {
		for i := 0; i < b.N; i++ {
			captureStack(buf[:16], nil)
		}
	})
}

func BenchmarkRuntimeCallers(b *testing.B) {
	var buf [stackBuf]uintptr
	b.ReportAllocs()
	stackLevel(12, func() {
		for i := 0; i < b.N; i++ {
			runtime.Callers(2, buf[:16])
		}
	})
}

// BenchmarkSymbolize is symbolizing a 16-frame stack, cold (a new cache
// each time), with every frame cached, and with the whole stack cached (what
// the recorder's writer does).
func BenchmarkSymbolize(b *testing.B) {
	var buf [stackBuf]uintptr
	var pcs []uintptr
	stackLevel(12, func() {
		n := captured(captureStack(buf[:16], nil))
		pcs = buf[:n]
	})
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			newSymbolizer().frames(pcs, 16)
		}
	})
	b.Run("cached", func(b *testing.B) {
		s := newSymbolizer()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			s.frames(pcs, 16)
		}
	})
	b.Run("stack-cached", func(b *testing.B) {
		s, c := newSymbolizer(), newStackCache(maxStackCache)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			c.frames(s, pcs, 16)
		}
	})
}

// TestSymbolizeShared checks the recorder's symbolization of a record
// whose calls share stacks in runs (a loop), with calls of other stacks
// and of none among them, and of a stack at the same address as another
// but shorter: each call gets its own stack's frames, no raw stack is
// kept, and the estimate's growth is that of every call.
func TestSymbolizeShared(t *testing.T) {
	r := New()
	defer r.Close(t.Context())
	var b1, b2 [stackBuf]uintptr
	n := captured(captureStack(b1[:], nil))
	s1 := b1[:n]
	s2 := stackLeaf(b2[:])
	// Two frames of functions outside the package (a return address is
	// one past a call), and the first alone, at the same address.
	b3 := [2]uintptr{reflect.ValueOf(strings.Repeat).Pointer() + 1, reflect.ValueOf(strconv.Itoa).Pointer() + 1}
	s3, s4 := b3[:2], b3[:1]
	want1, want2 := r.sym.frames(s1, r.cfg.maxStack), r.sym.frames(s2, r.cfg.maxStack)
	want3, want4 := r.sym.frames(s3, r.cfg.maxStack), r.sym.frames(s4, r.cfg.maxStack)
	if len(want3) != 2 || len(want4) != 1 {
		t.Fatalf("the made-up stacks symbolize to %v and %v", want3, want4)
	}
	stacks := map[int][]uintptr{1: s1, 2: s2, 3: s3, 4: s4}
	wants := map[int][]Frame{0: nil, 1: want1, 2: want2, 3: want3, 4: want4}
	order := []int{1, 1, 1, 0, 1, 2, 2, 1, 1, 3, 3, 4, 4, 3, 1, 4}
	rec := &Record{}
	var wantGrown int64
	for i, p := range order {
		c := Call{Method: strconv.Itoa(i)}
		if s := stacks[p]; s != nil {
			c.setRawStack(s)
			wantGrown += int64(len(wants[p]))*sizeFrame - int64(len(s))*8
		}
		rec.Calls = append(rec.Calls, c)
	}
	if grown := r.symbolize(rec); grown != wantGrown {
		t.Errorf("grown %d, want %d", grown, wantGrown)
	}
	for i, p := range order {
		c := &rec.Calls[i]
		if c.pcs != nil || c.npcs != 0 || !slices.Equal(c.Stack, wants[p]) {
			t.Errorf("call %d: pcs %v (%d), stack %v, want %v", i, c.pcs, c.npcs, c.Stack, wants[p])
		}
	}
}

// TestUnwindBufferSizes checks that a capture into a buffer of any size
// is the first frames of the whole stack, as many as the buffer holds.
func TestUnwindBufferSizes(t *testing.T) {
	stackLevel(7, func() {
		var full [stackBuf]uintptr
		var all []uintptr
		for n := 0; n <= stackBuf; n++ {
			var buf [stackBuf]uintptr
			// Both captures from the same line: the same stack.
			var pcs []uintptr
			for _, b := range [][]uintptr{full[:], buf[:n]} {
				n := captured(captureStack(b, nil))
				pcs = b[:n]
				if len(b) == stackBuf {
					all = pcs
				}
			}
			if want := all[:min(n, len(all))]; !slices.Equal(pcs, want) {
				t.Fatalf("buffer of %d: %d frames %x, want %x", n, len(pcs), pcs, want)
			}
		}
		if len(all) < 10 {
			t.Fatalf("%d frames in all", len(all))
		}
	})
}

// TestSymbolizeStopsAtZero checks that a zero PC, which the unwinder
// stores where it once stopped, ends the symbolized stack, through the
// stack cache too.
func TestSymbolizeStopsAtZero(t *testing.T) {
	var pcs []uintptr
	stackLevel(3, func() {
		var buf [stackBuf]uintptr
		n := captured(captureStack(buf[:], nil))
		pcs = slices.Clone(buf[:n])
	})
	if len(pcs) < 4 {
		t.Fatalf("%d frames", len(pcs))
	}
	sym := newSymbolizer()
	cache := newStackCache(16)
	for k := range len(pcs) {
		want := sym.frames(pcs[:k], 32)
		p := append(append(slices.Clone(pcs[:k]), 0), pcs[k:]...)
		if got := sym.frames(p, 32); !slices.Equal(got, want) {
			t.Fatalf("zero after %d of %d PCs: %v, want %v", k, len(pcs), got, want)
		}
		if got := cache.frames(sym, p, 32); !slices.Equal(got, want) {
			t.Fatalf("zero after %d of %d PCs, cached: %v, want %v", k, len(pcs), got, want)
		}
	}
}
