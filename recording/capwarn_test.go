package recording_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// warnHandler is a slog.Handler that keeps each warning (and anything
// above) as its message followed by its attributes, as "key=value".
type warnHandler struct {
	mu    sync.Mutex
	warns []string
}

func (h *warnHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *warnHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return nil
	}
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	h.warns = append(h.warns, b.String())
	return nil
}

func (h *warnHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *warnHandler) WithGroup(string) slog.Handler      { return h }

func (h *warnHandler) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.warns...)
}

// TestCutOptionsWarn: a queue or batch size New cuts to its cap is not
// cut silently: New logs one warning through the recorder's logger naming
// the option and the size it uses. Sizes within the caps, and the default
// batch cut to a smaller queue (no batch size was given), log nothing.
func TestCutOptionsWarn(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []recording.Option
		want []string // each warning's words, in order; none: no warning
	}{
		{"queue over the cap", []recording.Option{recording.WithQueueSize(1 << 20)}, []string{"WithQueueSize 65536"}},
		{"batch over the queue", []recording.Option{recording.WithQueueSize(100), recording.WithBatch(1000, 0)}, []string{"WithBatch 100"}},
		{"both", []recording.Option{recording.WithQueueSize(1 << 20), recording.WithBatch(1<<20, 0)}, []string{"WithQueueSize 65536", "WithBatch 65536"}},
		{"queue within", []recording.Option{recording.WithQueueSize(1 << 16)}, nil},
		{"batch within", []recording.Option{recording.WithQueueSize(100), recording.WithBatch(100, 0)}, nil},
		{"default batch over a small queue", []recording.Option{recording.WithQueueSize(10)}, nil},
		{"defaults", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &warnHandler{}
			rec := recording.New(append(tc.opts, recording.WithLogger(slog.New(h)))...)
			if err := rec.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := h.all()
			if len(got) != len(tc.want) {
				t.Fatalf("%d warnings %q; want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				option, used, _ := strings.Cut(w, " ")
				if !strings.Contains(got[i], option) || !strings.Contains(got[i], "used="+used) {
					t.Errorf("warning %q; want one naming %s and used=%s", got[i], option, used)
				}
			}
		})
	}
}
