package sqlnorm

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestBackslashEitherWay checks statements whose literals end in different
// places depending on a server setting the client cannot see: whether a
// backslash escapes a quote in an ordinary string (PostgreSQL with
// standard_conforming_strings off, MySQL and MariaDB by default) or is an
// ordinary character (PostgreSQL by default, MySQL with
// NO_BACKSLASH_ESCAPES). SECRET is a literal in one of the two readings
// of each statement, and must not survive normalization in the dialect,
// nor as of unknown dialect.
func TestBackslashEitherWay(t *testing.T) {
	tests := []struct {
		d Dialect
		q string
	}{
		// A literal when a backslash escapes: 'it''s SECRET'.
		{PostgreSQL, `SELECT 'it\'s SECRET'`},
		{PostgreSQL, `UPDATE users SET note = 'it\'s', pw = 'x\' || SECRET || '' WHERE id = 1`},
		{PostgreSQL, `ALTER USER app PASSWORD 'pa\'ss SECRET'`},
		{PostgreSQL, `SELECT n'it\'s SECRET'`},
		// A literal when it does not: 'C:\' then 'SECRET'.
		{MySQL, `INSERT INTO t VALUES ('C:\', 'SECRET')`},
		{MySQL, `SELECT * FROM t WHERE dir = 'C:\' AND password = "SECRET"`},
		{MySQL, `SELECT "a\", "SECRET"`},
		{MySQL, `SELECT n'a\', 'SECRET'`},
		{MySQL, `INSERT INTO t VALUES ('a\\', 'b\', 'SECRET')`},
	}
	for _, tt := range tests {
		for _, as := range []Dialect{tt.d, Unknown} {
			if out := Normalize(as, tt.q); strings.Contains(out, "SECRET") {
				t.Errorf("%v read as %v: a literal survived\n  in:  %s\n  out: %s", tt.d, as, tt.q, out)
			}
		}
	}
}

// TestBackslashUnchanged checks that texts whose backslashes do not move a
// string's end normalize as they did: a backslash before an ordinary
// character, a doubled backslash, an escape string, and texts without any.
func TestBackslashUnchanged(t *testing.T) {
	tests := []struct {
		d       Dialect
		in, out string
	}{
		{PostgreSQL, `SELECT * FROM t WHERE name ~ '^\d+$' AND id = $1`, `SELECT * FROM t WHERE name ~ ? AND id = $1`},
		{PostgreSQL, `SELECT 'a\\', 'b' FROM t`, `SELECT ?, ? FROM t`},
		{PostgreSQL, `SELECT E'it\'s', x FROM t WHERE y = 'z'`, `SELECT ?, x FROM t WHERE y = ?`},
		{MySQL, `SELECT * FROM t WHERE path LIKE 'C:\\%' AND id = ?`, `SELECT * FROM t WHERE path LIKE ? AND id = ?`},
		{MySQL, `SELECT 'a\nb', c FROM t WHERE d = 'e'`, `SELECT ?, c FROM t WHERE d = ?`},
		{SQLite, `SELECT 'C:\', 'x' FROM t`, `SELECT ?, ? FROM t`},
		// Where both readings agree, a text with a backslash is written
		// as one without: each literal its own ?.
		{PostgreSQL, "SELECT 'ab'\n'c' FROM t", `SELECT ? ? FROM t`},
		{PostgreSQL, "SELECT 'a\\b'\n'c' FROM t", `SELECT ? ? FROM t`},
		{MySQL, `SELECT 'a\nb' /* x */ 'c' FROM t`, `SELECT ? ? FROM t`},
	}
	for _, tt := range tests {
		if got := Normalize(tt.d, tt.in); got != tt.out {
			t.Errorf("Normalize(%v, %q)\n = %q\nwant %q", tt.d, tt.in, got, tt.out)
		}
	}
}

// TestBackslashModes generates statements of string literals holding
// SECRET markers among quotes, backslashes and comment openers, separated
// by operators and comments (and MySQL's -- that is none), each
// written for one server setting — PostgreSQL with and without
// standard_conforming_strings, MySQL with and without
// NO_BACKSLASH_ESCAPES — and checks that no marker survives normalization
// in the dialect, nor as of unknown dialect; and that a statement with a
// backslash that both readings split alike is written as a statement
// without one is, each literal its own ?.
func TestBackslashModes(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 500
	}
	pieces := []string{"a", " ", `\`, "'", `"`, "--", "#", "/*", "*/", "$$", "\n", "`", "x"}
	for _, mode := range []struct {
		d         Dialect
		backslash bool // the setting the statements are written for
	}{{PostgreSQL, false}, {PostgreSQL, true}, {MySQL, true}, {MySQL, false}} {
		// What separates literals: operators, and comments of the
		// dialect, with markers in them (a comment is dropped), and in
		// MySQL two minus signs that are no comment.
		seps := []string{", ", " || ", " AND x = ", " /* SECRETc */ ", ", -- SECRETc\n", "/**/", ", --\n"}
		if mode.d == MySQL {
			seps = append(seps, "--", " /* /* SECRETc */ ", ", #SECRETc\n", " --\tSECRETc\n")
		} else {
			seps = append(seps, " /* /* SECRETc */ SECRETc */ ", ", --SECRETc\n")
		}
		rng := rand.New(rand.NewPCG(7, uint64(mode.d)*2+map[bool]uint64{false: 0, true: 1}[mode.backslash]))
		failures, agree := 0, 0
		for range n {
			var b strings.Builder
			b.WriteString("SELECT ")
			marker := 0
			for i := range 1 + rng.IntN(4) {
				if i > 0 {
					b.WriteString(seps[rng.IntN(len(seps))])
				}
				b.WriteByte('\'')
				for range rng.IntN(6) {
					p := pieces[rng.IntN(len(pieces))]
					switch {
					case p == "'" && mode.backslash && rng.IntN(2) == 0:
						p = `\'`
					case p == "'":
						p = "''"
					case p == `\` && mode.backslash:
						p = `\\`
					}
					b.WriteString(p)
					if rng.IntN(3) == 0 {
						marker++
						fmt.Fprintf(&b, "SECRET%d", marker)
					}
				}
				b.WriteByte('\'')
			}
			b.WriteString(" FROM t")
			q := b.String()
			for _, as := range []Dialect{mode.d, Unknown} {
				if out := Normalize(as, q); strings.Contains(out, "SECRET") && failures < 5 {
					failures++
					t.Errorf("%v, backslash escapes %v, read as %v: a literal survived\n  in:  %s\n  out: %s", mode.d, mode.backslash, as, q, out)
				}
			}
			if strings.Contains(q, `\`) && sameTokens(newLexer(q, mode.d), newAltLexer(q, mode.d)) {
				agree++
				if out, plain := Normalize(mode.d, q), normalizePlain(q, mode.d); out != plain && failures < 5 {
					failures++
					t.Errorf("%v: the readings agree, but the text is not written as without a backslash\n  in:   %s\n  out:  %s\n  want: %s", mode.d, q, out, plain)
				}
			}
		}
		if agree == 0 {
			t.Errorf("%v, backslash escapes %v: no statement with a backslash whose readings agree", mode.d, mode.backslash)
		}
	}
}

// sameTokens reports whether two lexers split their texts into the same
// tokens.
func sameTokens(a, b *lexer) bool {
	for {
		k1, s1, e1, ok1 := a.next()
		k2, s2, e2, ok2 := b.next()
		if k1 != k2 || s1 != s2 || e1 != e2 || ok1 != ok2 {
			return false
		}
		if !ok1 {
			return true
		}
	}
}
