package convention_test

import (
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

func TestUnmatchedRoute(t *testing.T) {
	for _, tt := range []struct {
		method string
		status int
		want   string
	}{
		{"GET", 404, "GET (unmatched 4xx)"},
		{"GET", 405, "GET (unmatched 4xx)"},
		{"POST", 200, "POST (unmatched 2xx)"},
		{"HEAD", 307, "HEAD (unmatched 3xx)"},
		{"DELETE", 503, "DELETE (unmatched 5xx)"},
		{"PATCH", 101, "PATCH (unmatched 1xx)"},
		{"GET", 0, "GET (unmatched)"},   // hijacked before any status
		{"GET", 999, "GET (unmatched)"}, // not an HTTP status
		{"get", 404, "_OTHER (unmatched 4xx)"},
		{"PROPFIND", 404, "_OTHER (unmatched 4xx)"},
		{strings.Repeat("X", 5000), 404, "_OTHER (unmatched 4xx)"},
		{"", 404, "_OTHER (unmatched 4xx)"},
	} {
		if got := convention.UnmatchedRoute(tt.method, tt.status); got != tt.want {
			t.Errorf("UnmatchedRoute(%.20q, %d) = %q, want %q", tt.method, tt.status, got, tt.want)
		}
	}
}
