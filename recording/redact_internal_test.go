package recording

import (
	"strings"
	"testing"
)

// containsFoldRef is containsFold without the ASCII fast path.
func containsFoldRef(s, sub string) bool {
	if len(sub) > len(s) {
		return false
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}

func TestContainsFold(t *testing.T) {
	subs := []string{"", "token", "KEY", "x", "ſecret", "k\u212Ay", "é"}
	strs := []string{"", "Token", "X-Access-TOKEN", "api_key", "AUTHORIZATION", "tok", "\u212Aey", "ſecret",
		"SECRET", "kK", "k\u212Ay", "É", "xé", "User-Agent", "a-tokenb", "tokentoken", "\xff\xfetoken"}
	for _, s := range strs {
		for _, sub := range subs {
			if got, want := containsFold(s, sub), containsFoldRef(s, sub); got != want {
				t.Errorf("containsFold(%q, %q) = %v, want %v", s, sub, got, want)
			}
		}
	}
}

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
