package recording

import (
	"strings"
	"testing"
)

func BenchmarkSecretHeader(b *testing.B) {
	r := DefaultRedaction()
	names := []string{"User-Agent", "Accept", "Accept-Encoding", "X-Request-Id", "Content-Type", "Traceparent"}
	b.ReportAllocs()
	for b.Loop() {
		for _, n := range names {
			r.secretHeader(n)
		}
	}
}

// TestRedactionVariants checks secret query parameters and headers in the
// less common spellings: after ";", in other cases, percent-encoded, and
// tokens in header names other than Authorization and in a Referer's query.
func TestRedactionVariants(t *testing.T) {
	r := DefaultRedaction()
	for _, q := range []string{
		"a=1;token=SECRET",
		"token=SECRET",
		"x=1&Api_Key=SECRET",
		"%74oken=SECRET",
	} {
		got := r.Query(q)
		if strings.Contains(got, "SECRET") {
			t.Errorf("Query(%q) = %q leaks", q, got)
		}
	}
	h := r.Header(map[string][]string{
		"Referer":              {"https://app.example/reset?token=SECRET"},
		"X-Access-Token":       {"SECRET"},
		"Private-Token":        {"SECRET"},
		"X-Amz-Security-Token": {"SECRET"},
	})
	for k, v := range h {
		if strings.Contains(v[0], "SECRET") {
			t.Errorf("header %s kept %q", k, v[0])
		}
	}
}
