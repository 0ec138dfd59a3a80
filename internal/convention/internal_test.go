package convention

import (
	"bytes"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestLogger drives a Logger with a clock of its own: one message per
// interval gets through, and the next one says how many were held back.
func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	l := NewLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})), time.Minute)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l.now = func() time.Time { return now }

	steps := []struct {
		advance time.Duration
		msg     string
		want    string // the line logged, "" for none
	}{
		{0, "sink failed", `level=WARN msg="sink failed" n=0`},
		{time.Second, "sink failed again", ""},
		{58 * time.Second, "and again", ""},
		{time.Second, "after a minute", `level=WARN msg="after a minute" n=3 suppressed=2`},
		{time.Minute - time.Nanosecond, "too soon", ""},
		{time.Hour, "later", `level=WARN msg=later n=5 suppressed=1`},
		{time.Hour, "quiet since", `level=WARN msg="quiet since" n=6`},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		buf.Reset()
		l.Warn(s.msg, "n", i)
		if got := strings.TrimSpace(buf.String()); got != s.want {
			t.Errorf("step %d (%s): logged %q, want %q", i, s.msg, got, s.want)
		}
	}
}

func TestLoggerQuiet(t *testing.T) {
	var nilLogger *Logger
	nilLogger.Warn("nothing") // no panic

	// A handler that drops warnings costs no lock and counts nothing.
	var buf bytes.Buffer
	l := NewLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError})), 0)
	if l.interval != LogInterval {
		t.Errorf("interval %v, want the default %v", l.interval, LogInterval)
	}
	l.Warn("dropped")
	l.Warn("dropped")
	if buf.Len() != 0 || l.suppressed != 0 || !l.last.IsZero() {
		t.Errorf("disabled logger wrote %q, suppressed %d, last %v", buf.String(), l.suppressed, l.last)
	}
	NewLogger(nil, time.Second).Warn("discarded") // nil logs nothing, and does not panic
}

func TestSetters(t *testing.T) {
	n, d := 5, time.Second
	SetPositive(&n, 0)
	SetPositive(&n, -1)
	SetPositive(&d, 0)
	if n != 5 || d != time.Second {
		t.Errorf("zero or negative values replaced defaults: %d %v", n, d)
	}
	SetPositive(&n, 7)
	SetPositive(&d, time.Minute)
	if n != 7 || d != time.Minute {
		t.Errorf("positive values not stored: %d %v", n, d)
	}
	l := slog.Default()
	SetNonNil(&l, nil)
	if l != slog.Default() {
		t.Error("nil replaced a logger")
	}
	other := slog.New(slog.DiscardHandler)
	SetNonNil(&l, other)
	if l != other {
		t.Error("a logger was not stored")
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"", 0, ""},
		{"abc", 3, "abc"},
		{"abc", 10, "abc"},
		{"abcdef", 3, "abc…[truncated 3 bytes]"},
		{"abc", 0, "…[truncated 3 bytes]"},
		{"abc", -1, "…[truncated 3 bytes]"},
		{"héllo", 2, "h…[truncated 5 bytes]"},                       // "é" is 2 bytes: not split
		{"日本語", 4, "日…[truncated 6 bytes]"},                         // 3-byte runes
		{"\xff\xff\xff\xff\xff", 2, "\xff\xff…[truncated 3 bytes]"}, // not UTF-8: cut at n
	} {
		if got := Truncate(tc.s, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
	long := strings.Repeat("x", 100000)
	got := Truncate(long, 1000)
	if got != long[:1000]+"…[truncated 99000 bytes]" {
		t.Errorf("Truncate of a long string: %q…", got[:20])
	}
	if n := TruncatedLen(len(long), 1000); n != len(got) {
		t.Errorf("TruncatedLen = %d, want %d", n, len(got))
	}
	if n := TruncatedLen(5, 10); n != 5 {
		t.Errorf("TruncatedLen of a short string = %d, want 5", n)
	}
	if a := testing.AllocsPerRun(100, func() { _ = Truncate(long, 1000) }); a != 1 {
		t.Errorf("Truncate allocates %v times, want 1", a)
	}
	if a := testing.AllocsPerRun(100, func() { _ = Truncate("short", 1000) }); a != 0 {
		t.Errorf("Truncate of a short string allocates %v times, want 0", a)
	}
}

// TestShortPlain checks Text's shortcut: every text it returns as it is
// without a scan is one the scan leaves as it is — all texts of up to four
// bytes over an alphabet of the characters the rules look at, and random
// five-byte ones.
func TestShortPlain(t *testing.T) {
	r := NewRules(DefaultSecretWords(), true)
	alphabet := []byte("apwsc4%7@./-_+~ \"'*")
	var check func(b []byte)
	n := 0
	check = func(b []byte) {
		if s := string(b); shortPlain(s) {
			n++
			if got := r.text(s, 0); got != s {
				t.Fatalf("shortPlain(%q), but the scan gives %q", s, got)
			}
		}
		if len(b) == 4 {
			return
		}
		for _, c := range alphabet {
			check(append(b, c))
		}
	}
	check(nil)
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		var b [5]byte
		for i := range b {
			b[i] = byte(rnd.IntN(95) + 32)
		}
		if s := string(b[:]); shortPlain(s) && r.text(s, 0) != s {
			t.Fatalf("shortPlain(%q), but the scan gives %q", s, r.text(s, 0))
		}
	}
	for _, s := range []string{"pw=x", "a:b@c", "x://y", "sig=1"} {
		if shortPlain(s) {
			t.Errorf("shortPlain(%q): it may hold a secret", s)
		}
	}
	if n < 1000 {
		t.Fatalf("only %d texts checked", n)
	}
}
