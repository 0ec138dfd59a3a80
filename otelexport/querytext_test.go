package otelexport

import (
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// TestQueryTextCapped checks that only a query text's first maxScan bytes
// are normalized (review 43: the whole text was, on the app's goroutine),
// marked with an ellipsis, and that a shorter text is normalized whole.
func TestQueryTextCapped(t *testing.T) {
	long := "SELECT a" + strings.Repeat(" ", maxScan) + ", 'hunter2' FROM t"
	n := &callName{service: convention.ServiceSQL, system: "postgresql", request: long}
	if got, want := n.queryText(), "SELECT a…"; got != want {
		t.Errorf("a text of %d bytes: %q, want %q", len(long), got, want)
	}
	n.request = "SELECT a, 'hunter2' FROM t"
	if got, want := n.queryText(), "SELECT a, ? FROM t"; got != want {
		t.Errorf("%q: %q, want %q", n.request, got, want)
	}
}
