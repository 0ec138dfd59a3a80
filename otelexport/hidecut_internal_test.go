package otelexport

import (
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// The log's error is hidden, then cut, as before, whatever its length:
// the text shown hides a value begun in it, shows no part of a value past
// it, and counts the bytes not shown.
func TestHideTruncate(t *testing.T) {
	const n = 1024
	const tok = "s3cr3t-token-value-9d1c"
	w := newWatch()
	w.addSecret("Bearer " + tok)
	for _, tc := range []struct {
		name, text string
	}{
		{"short", "401: your request had Authorization: Bearer " + tok},
		{"straddling the cut", strings.Repeat("a", n-4) + tok + strings.Repeat("é", 2<<20)},
		{"past the cut", strings.Repeat("a", n+2) + tok + strings.Repeat("b", 4<<20) + tok},
		{"many", strings.Repeat("Bearer "+tok+" ", 200) + strings.Repeat("b", 4<<20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := w.hideTruncate(tc.text, n)
			if strings.Contains(got, tok[:4]) {
				t.Errorf("shows part of the token: %q", got)
			}
			if want := convention.Truncate(w.hide(tc.text), n); len(tc.text) < 2*n && got != want {
				t.Errorf("got %q; want %q", got, want)
			}
			if len(tc.text) > 2*n {
				shown, _, ok := strings.Cut(got, convention.TruncatedMarker)
				if !ok || len(shown) > n || !strings.HasSuffix(got, " bytes]") {
					t.Errorf("not cut at %d bytes with the marker: %d bytes shown, ends %q", n, len(shown), got[max(0, len(got)-40):])
				}
			}
		})
	}
}
