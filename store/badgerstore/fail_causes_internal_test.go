package badgerstore

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/testlog"
)

// TestReopenFailedLogsEachCauseOnce: reopenFailed remembered only the
// last cause, so causes that alternate (A, B, A) were logged each time,
// though the store says it logs each cause once. Now each cause is
// logged once until the store writes again (then again if it recurs);
// Health's cause is always the latest; and the causes remembered are
// bounded, one seen least recently logged again past maxReopenCauses.
func TestReopenFailedLogsEachCauseOnce(t *testing.T) {
	logs := &testlog.Buffer{}
	s := &Store{log: slog.New(slog.NewTextHandler(logs, nil)), dir: "data"}
	logged := func(cause string) int { return strings.Count(logs.String(), "err="+cause) }
	fail := func(cause string) {
		t.Helper()
		s.reopenFailed("opening the directory again", errors.New(cause))
		if got := s.reopenErr.Load(); got == nil || *got != "opening the directory again: "+cause {
			t.Errorf("after %s: Health's cause %v, want it", cause, got)
		}
	}
	for _, c := range []string{"A", "B", "A", "B", "A"} {
		fail(c)
	}
	if a, b := logged("A"), logged("B"); a != 1 || b != 1 {
		t.Errorf("A, B, A, B, A: A logged %d times, B %d; want once each:\n%s", a, b, logs.String())
	}
	// Past the bound, the cause seen least recently (B: A was seen
	// last) is forgotten, and logged again when it recurs.
	for i := range maxReopenCauses - 1 {
		fail(fmt.Sprint("C", i))
	}
	fail("A")
	fail("B")
	if a, b := logged("A"), logged("B"); a != 1 || b != 2 {
		t.Errorf("past %d causes: A logged %d times, B %d; want A once, B twice:\n%s", maxReopenCauses, a, b, logs.String())
	}
	if n := len(s.reopenSeen); n > maxReopenCauses {
		t.Errorf("%d causes remembered, want at most %d", n, maxReopenCauses)
	}
	// Once the store writes again, a cause that recurs is logged again.
	s.reopenOK()
	if s.reopenErr.Load() != nil {
		t.Errorf("Health's cause %v after the store wrote again, want none", *s.reopenErr.Load())
	}
	fail("A")
	if a := logged("A"); a != 2 {
		t.Errorf("A logged %d times, want twice: again after the store wrote", a)
	}
}
