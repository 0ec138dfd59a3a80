package convention_test

import (
	"strings"
	"testing"
	"unicode/utf8"

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

func TestClipRoute(t *testing.T) {
	short := "GET /users/{id}"
	if got := convention.ClipRoute(short); got != short {
		t.Errorf("ClipRoute(%q) = %q", short, got)
	}
	exact := strings.Repeat("a", convention.MaxRouteLen)
	if got := convention.ClipRoute(exact); got != exact {
		t.Errorf("a route of exactly MaxRouteLen bytes was cut to %d", len(got))
	}
	for _, long := range []string{
		strings.Repeat("a", 5000),
		strings.Repeat("é", 3000),  // two-byte characters
		strings.Repeat("日本", 1000), // three-byte characters
		"a" + strings.Repeat("😀", 1000),
	} {
		got := convention.ClipRoute(long)
		if len(got) > convention.MaxRouteLen || len(got) < convention.MaxRouteLen-6 {
			t.Errorf("ClipRoute(%d bytes) is %d bytes, want at most %d and close to it", len(long), len(got), convention.MaxRouteLen)
		}
		if !strings.HasSuffix(got, "...") || !strings.HasPrefix(long, strings.TrimSuffix(got, "...")) {
			t.Errorf("ClipRoute(%.12q…) = %.12q…%q: not a prefix marked with ...", long, got, got[len(got)-6:])
		}
		if !utf8.ValidString(got) {
			t.Errorf("ClipRoute cut a character: %q", got[len(got)-8:])
		}
	}
}
