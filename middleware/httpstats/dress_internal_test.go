package httpstats

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestDress checks that dress, given the itab of wrapMask's answers for a
// mask, makes wrapMask's answer for that mask, for every mask: the same
// dynamic type and the same respWriter, as interface equality compares
// them.
func TestDress(t *testing.T) {
	rw := &respWriter{w: httptest.NewRecorder()}
	other := &respWriter{w: httptest.NewRecorder()}
	for m := uint(0); m < 1<<7; m++ {
		w := wrapMask(other, m)
		got, want := dress(typeWord(&w), rw), wrapMask(rw, m)
		if got != want {
			t.Fatalf("mask %#x: dress gives %T %p, wrapMask %T %p", m, got, got, want, want)
		}
	}
}

// TestWrapFirst checks that wrapFirst answers for the type the first
// writer wrapped has, with wrap's answer, and nil for any other, and that
// the first type takes entry 0: with it elsewhere, wrapFirst would answer
// nil for every writer and ServeHTTP take wrap's loop.
func TestWrapFirst(t *testing.T) {
	var wt writerTypes
	rec := &respWriter{w: httptest.NewRecorder()}
	plain := &respWriter{w: plainWriter{}}
	if w := wt.wrapFirst(rec); w != nil {
		t.Fatalf("wrapFirst before any wrap: %T, want nil", w)
	}
	first := wt.wrap(rec)
	if first != wrapMask(rec, optionalMask(rec.w)) {
		t.Fatalf("wrap gives %T, want %T", first, wrapMask(rec, optionalMask(rec.w)))
	}
	if w := wt.wrapFirst(rec); w != first {
		t.Fatalf("wrapFirst after wrap: %T %p, want %T %p", w, w, first, first)
	}
	rec2 := &respWriter{w: httptest.NewRecorder()}
	if w, want := wt.wrapFirst(rec2), wrapMask(rec2, optionalMask(rec2.w)); w != want {
		t.Fatalf("wrapFirst of another writer of the type: %T %p, want %T %p", w, w, want, want)
	}
	if w := wt.wrapFirst(plain); w != nil {
		t.Fatalf("wrapFirst of a writer of another type: %T, want nil", w)
	}
	if w, want := wt.wrap(plain), wrapMask(plain, 0); w != want {
		t.Fatalf("wrap of a plain writer: %T, want %T", w, want)
	}
	if w := wt.wrapFirst(plain); w != nil {
		t.Fatalf("wrapFirst of the second type seen: %T, want nil", w)
	}
	if w, want := wt.wrap(plain), wrapMask(plain, 0); w != want {
		t.Fatalf("wrap of a plain writer, seen: %T, want %T", w, want)
	}
}

// plainWriter has none of the optional interfaces.
type plainWriter struct{}

func (plainWriter) Header() http.Header         { return http.Header{} }
func (plainWriter) Write(p []byte) (int, error) { return len(p), nil }
func (plainWriter) WriteHeader(int)             {}
