package convention

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// LogInterval is how often a [Logger] made by the recorder or the exporter
// lets a message through.
const LogInterval = 10 * time.Second

// A Logger logs problems found in the background — a failing sink, a
// collector that is down — at most once per interval, so that a problem
// that repeats with every batch cannot flood the application's log. A
// message that comes through after others were held back carries their
// number as "suppressed". Messages are logged at level Warn.
//
// A Logger is safe for concurrent use. A nil *Logger logs nothing.
type Logger struct {
	log      *slog.Logger
	interval time.Duration
	now      func() time.Time // the clock; replaced in tests

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// NewLogger returns a Logger writing to l (nil discards everything) at most
// one message per interval (<= 0 means [LogInterval]).
func NewLogger(l *slog.Logger, interval time.Duration) *Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	if interval <= 0 {
		interval = LogInterval
	}
	return &Logger{log: l, interval: interval, now: time.Now}
}

// Warn logs msg with args (key-value pairs, as [slog.Logger.Warn] takes
// them), unless another message was logged less than an interval ago; then
// it only counts it.
func (l *Logger) Warn(msg string, args ...any) {
	if l == nil || !l.log.Enabled(context.Background(), slog.LevelWarn) {
		return
	}
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() && now.Sub(l.last) < l.interval {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	n := l.suppressed
	l.suppressed = 0
	l.last = now
	l.mu.Unlock()
	if n > 0 {
		args = append(args, "suppressed", n)
	}
	l.log.Warn(msg, args...)
}
