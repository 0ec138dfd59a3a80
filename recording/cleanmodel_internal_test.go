package recording

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// FuzzCleanTexts drives a writer's cleanTexts through its look-ups (by
// address, by hash, by route) with texts of which some redaction changes,
// many enough that the table of clean texts grows to its largest and the
// hashes seen once start afresh: every look-up gives what redaction gives
// (a text with a secret is never served as clean, after a growth or
// otherwise), and so does a copy of the text (equal bytes, another
// address). It asserts what TestCleanTexts* do not: the look-ups against
// redaction itself, across the table's growths.
func FuzzCleanTexts(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 0, 2, 1, 3, 2, 4, 3, 5})
	// Every text three times, by each look-up in turn: held, grown to
	// the largest table, and the hashes seen once cleared.
	seq := make([]byte, 0, 3*3*5000)
	for pass := range 3 {
		for i := range 5000 {
			seq = append(seq, byte(i+pass), byte(i), byte(i>>8))
		}
	}
	f.Add(seq)
	const texts = 5000
	pool := make([]string, texts)
	for i := range pool {
		switch i % 7 {
		case 3:
			pool[i] = fmt.Sprintf("/api/item/%d?token=secret%d", i, i)
		case 5:
			pool[i] = fmt.Sprintf("Bearer secret-%d", i)
		default:
			pool[i] = fmt.Sprintf("/api/item/%d/clean", i)
		}
	}
	routes := []string{"GET /api/item/{id}", "GET /other", "POST /x"}
	red := func(s string) string { return strings.ReplaceAll(s, "secret", "******") }
	f.Fuzz(func(t *testing.T, ops []byte) {
		c := newCleanTexts()
		for len(ops) >= 3 {
			op, i := ops[0], int(binary.LittleEndian.Uint16(ops[1:]))%texts
			ops = ops[3:]
			s := pool[i]
			if op&8 != 0 {
				s = strings.Clone(s) // equal bytes elsewhere
			}
			want := red(s)
			var got, kept string
			switch op % 5 {
			case 0:
				got = c.redactHashed(red, s)
			case 1:
				got, kept = c.redactHeld(red, s)
				if kept != "" && (kept != s || got != s) {
					t.Fatalf("redactHeld(%q) = %q, %q", s, got, kept)
				}
			case 2:
				got = c.byRoute(red, s, routes[i%len(routes)])
			case 3:
				// By address: the pool's strings are never changed.
				if e, ok := c.recentSlot(s); ok {
					got = s
				} else if got = c.redactHashed(red, s); got == s {
					keepRecent(e, s)
				}
			case 4:
				got = c.redactHashed(red, s[:len(s)/2])
				want = red(s[:len(s)/2])
			}
			if got != want {
				t.Fatalf("op %d on %q: %q, want %q (table of %d)", op%5, s, got, want, len(c.clean))
			}
		}
	})
}
