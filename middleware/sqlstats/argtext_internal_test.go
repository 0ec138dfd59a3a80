package sqlstats

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testalloc"
	"github.com/goappstats/appstats/recording"
)

// Named types a driver that takes any argument (pgx) is handed as they are.
type (
	label   string
	blob    []byte
	point   struct{ X, Y int }
	wrapped struct {
		Name string
		Tags []string
	}
)

// TestArgTextSmall checks the text recorded for small arguments: what
// fmt's %v prints, strings quoted, byte slices as their length, pointers
// through to what they point at, and every text clipped to maxArgValue.
func TestArgTextSmall(t *testing.T) {
	red := &recording.Redaction{Values: true}
	s := "ann"
	var nilp *string
	long := strings.Repeat("ab", 50)
	tests := []struct {
		v    any
		want string
	}{
		{nil, "NULL"},
		{"ann", `"ann"`},
		{long, `"` + long[:maxArgValue] + `…"`},
		{label("ann"), `"ann"`},
		{[]byte("abc"), "[3 bytes]"},
		{json.RawMessage(`{"a":1}`), "[7 bytes]"},
		{blob("abcd"), "[4 bytes]"},
		{int64(-7), "-7"},
		{uint8(7), "7"},
		{3.5, "3.5"},
		{float32(0.5), "0.5"},
		{true, "true"},
		{time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), "2026-01-02T03:04:05.000000006Z"},
		{[]int64{1, 2, 3}, "[1 2 3]"},
		{[]string{"a", "b"}, "[a b]"},
		{[2]bool{true, false}, "[true false]"},
		{point{1, 2}, "{1 2}"},
		{&point{1, 2}, "&{1 2}"},
		{wrapped{"n", []string{"x"}}, "{n [x]}"},
		{&s, `"ann"`},
		{nilp, "NULL"},
		{map[string]int{"b": 2, "a": 1}, "map[a:1 b:2]"},
		{[]any{1, "x", nil}, "[1 x <nil>]"},
		{complex(1, 2), "(1+2i)"},
		{fmt.Errorf("boom"), "boom"},
		{make([]int, 40), "[" + strings.TrimSpace(strings.Repeat("0 ", 32)) + "…"},
	}
	for _, tt := range tests {
		if got := argText(red, tt.v); got != tt.want {
			t.Errorf("argText(%T %v) = %q, want %q", tt.v, tt.v, got, tt.want)
		}
	}
	// A value that looks secret, as its own text.
	if got := argText(red, "ann@example.com"); got != recording.Redacted {
		t.Errorf("an e-mail address recorded as %q", got)
	}
	if got := argText(red, label("ann@example.com")); got != recording.Redacted {
		t.Errorf("an e-mail address of a named string type recorded as %q", got)
	}
}

// bigArgs are arguments of 16 MB, or of a million elements, of the
// shapes a driver is handed.
func bigArgs() map[string]any {
	const n = 16 << 20
	s := strings.Repeat("x", n)
	ints := make([]int64, 1<<20)
	strs := make([]string, 1<<20)
	for i := range strs {
		strs[i] = "item"
	}
	return map[string]any{
		"string":          s,
		"named string":    label(s),
		"[]byte":          []byte(s),
		"json.RawMessage": json.RawMessage(s),
		"named []byte":    blob(s),
		"[]int64":         ints,
		"[]string":        strs,
		"struct":          wrapped{Name: s, Tags: strs},
		"pointer":         &s,
		"[]any":           []any{s, ints},
	}
}

// TestArgTextBounded checks that recording an argument costs what its
// recorded text costs, whatever the argument's size: a 16 MB string, byte
// slice or slice of a million elements is formatted only as far as the
// 64 bytes kept.
func TestArgTextBounded(t *testing.T) {
	red := &recording.Redaction{Values: true}
	for name, v := range bigArgs() {
		argText(red, v) // reflect's caches, filled once
		var got string
		n := testalloc.Bytes(func() { got = argText(red, v) })
		if n > 4<<10 {
			t.Errorf("%s: %d bytes allocated for its text, want at most 4 KB", name, n)
		}
		if len(got) > maxArgValue+len(`""…`) {
			t.Errorf("%s: text of %d bytes", name, len(got))
		}
	}
}

// BenchmarkArgText measures the recording of a 16 MB argument (bytes and
// time per argument do not grow with its size).
func BenchmarkArgText(b *testing.B) {
	red := &recording.Redaction{Values: true}
	for name, v := range bigArgs() {
		b.Run(strings.ReplaceAll(name, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				argText(red, v)
			}
		})
	}
}
