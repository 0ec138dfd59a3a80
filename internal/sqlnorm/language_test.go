package sqlnorm

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// languageWordsOf returns the first two words LANGUAGE of s[a:b], read as a
// text of its own, by reading it again: the search languageWords replaced
// (review 43), which read each body's rest of the text. (That one missed
// the byte before a match right after another: "languagelanguage x" was
// read as naming the language x.)
func languageWordsOf(s string, a, b int) (ps []int) {
	const w = len("language")
	part := s[a:b]
	for q := 0; q+w <= len(part) && len(ps) < 2; q++ {
		if strings.EqualFold(part[q:q+w], "language") && (q == 0 || !isWordByte(part[q-1])) && (q+w == len(part) || !isWordByte(part[q+w])) {
			ps = append(ps, a+q)
		}
	}
	return ps
}

// TestLanguageWords checks that languageWords, which looks the words up
// among those found once a text, finds in any part of a text what reading
// that part again finds: at its ends too, where a word of the part may be
// part of a longer word of the text ("$$language", "language$$").
func TestLanguageWords(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 2))
	pieces := []string{"language", "LANGUAGE", "Language", " ", "x", "$$", "'sql'", "plpgsql", ";", "languages", "_", "\n"}
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		l := newLexer(s, PostgreSQL)
		// Parts from growing starts, as body asks.
		for a := 0; a <= len(s); a += 1 + rng.IntN(4) {
			e := a + rng.IntN(len(s)-a+1)
			ps, n := l.languageWords(a, e)
			want := languageWordsOf(s, a, e)
			if n != len(want) || n > 0 && !equalInts(ps[:n], want) {
				t.Fatalf("%q[%d:%d]: %v, want %v", s, a, e, ps[:n], want)
			}
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
