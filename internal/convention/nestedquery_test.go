package convention_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/internal/testalloc"
)

// nestedQueryURL returns a URL whose query value is a URL with user
// information whose query value is one again, depth URLs in all:
// "https://u:p@h/?next=https://u:p@h/?next=…".
func nestedQueryURL(depth int) string {
	return strings.Repeat("https://u:p@h/?next=", depth-1) + "https://u:p@h/"
}

// TestQueryNestedURLsLinear checks that URLs nested in one another's query
// ("?next=https://u:p@h/?next=https://u:p@h/…", a redirect's target
// carrying its own) are scrubbed in time linear in their length, counted
// in the bytes allocated (not the clock): each query value was scrubbed
// as a text again, its URL's query value again, so that n nested URLs cost
// n scans of the text (round 45: the bytes allocated for 1,024 levels were
// 16 times those for 256). 4 times the text may allocate 6 times the bytes
// at most. Every password is still hidden: the URLs of nine levels are
// read, a value nested deeper is hidden whole.
func TestQueryNestedURLsLinear(t *testing.T) {
	r := defaultRules()
	allocated := func(s string) uint64 { return testalloc.Bytes(func() { r.Text(s) }) }
	for _, depth := range []int{256} {
		small := allocated("GET " + nestedQueryURL(depth))
		large := allocated("GET " + nestedQueryURL(4*depth))
		if large > 6*small {
			t.Errorf("%d and %d nested URLs: %d and %d bytes allocated (%.1f times)", depth, 4*depth, small, large, float64(large)/float64(small))
		}
	}
	for _, depth := range []int{1, 2, 3, 8, 16, 17, 64, 1000} {
		s := "GET " + nestedQueryURL(depth)
		got := r.Text(s)
		if strings.Contains(got, ":p@") || strings.Contains(got, "u:") {
			t.Errorf("depth %d: a password is left: %.200q", depth, got)
		}
		u, err := url.Parse(nestedQueryURL(depth))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.URL(u); strings.Contains(got, ":p@") || strings.Contains(got, "u:") {
			t.Errorf("URL, depth %d: a password is left: %.200q", depth, got)
		}
	}
	const R = convention.Redacted
	checkTexts(t, r, []textCase{
		{"GET " + nestedQueryURL(9), "GET " + strings.Repeat("https://"+R+"@h/?next=", 8) + "https://" + R + "@h/"},
		{"GET " + nestedQueryURL(10), "GET " + strings.Repeat("https://"+R+"@h/?next=", 9) + R},
		{"GET https://h/?next=" + strings.Repeat("https://h/?next=", 8) + "/home", "GET https://h/?next=" + strings.Repeat("https://h/?next=", 8) + R},
	})
}

// BenchmarkQueryNested measures Text over URLs nested in one another's
// query value, 1 to 64 levels deep and to 1 MiB, and over a 1 MiB query of
// many parameters holding a URL each: time and allocations per byte must
// not grow with the depth.
func BenchmarkQueryNested(b *testing.B) {
	r := defaultRules()
	run := func(name, s string) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				r.Text(s)
			}
		})
	}
	for _, depth := range []int{1, 2, 4, 8, 16, 32, 64} {
		run(fmt.Sprintf("depth=%d", depth), "GET "+nestedQueryURL(depth))
	}
	run("flat-1MiB", "GET https://h/?"+strings.Repeat("next=https://u:p@h/x&", (1<<20)/21))
	run("nested-1MiB", "GET "+nestedQueryURL((1<<20)/20))
}
