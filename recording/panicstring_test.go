package recording_test

import (
	"testing"

	"github.com/goappstats/appstats/recording"
)

// nilErr is an error whose Error method, like many, reads its receiver:
// a nil *nilErr in an error (the typed nil that passes an err != nil
// check) panics when formatted.
type nilErr struct{ msg string }

func (e *nilErr) Error() string { return e.msg }

// nilStringer is a fmt.Stringer of the same kind.
type nilStringer struct{ s string }

func (s *nilStringer) String() string { return s.s }

// TestPanicStringOfNilReceiver: formatting a panic value whose Error or
// String method panics (a typed nil) gives a text, not a second panic,
// which on main replaced the first: a wrapper recovering from the
// request's panic panicked in PanicString before finishing the record,
// and the exporter's recovery from a panicking span exporter crashed the
// program.
func TestPanicStringOfNilReceiver(t *testing.T) {
	for _, v := range []any{(*nilErr)(nil), (*nilStringer)(nil), error((*nilErr)(nil))} {
		var s string
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("PanicString(%T) panicked: %v", v, p)
				}
			}()
			s = recording.PanicString(v)
		}()
		if s == "" {
			t.Errorf("PanicString(%T) = %q, want a text", v, s)
		}
	}
	if got := recording.PanicString(&nilErr{msg: "boom"}); got != "boom" {
		t.Errorf("PanicString of an error = %q, want its Error()", got)
	}
}
