package recording_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// optionWarns returns the warnings about an option (a line of text
// with an "option" attribute) that logged holds, a TextHandler's output.
func optionWarns(logged string) []string {
	var warns []string
	for _, line := range strings.Split(logged, "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, " option=") {
			warns = append(warns, line)
		}
	}
	return warns
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
			var logged strings.Builder // slog's handler writes a record at a time
			rec := recording.New(append(tc.opts, recording.WithLogger(slog.New(slog.NewTextHandler(&logged, nil))))...)
			if err := rec.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := optionWarns(logged.String())
			if len(got) != len(tc.want) {
				t.Fatalf("%d warnings %q; want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				option, used, _ := strings.Cut(w, " ")
				if !strings.Contains(got[i], "option="+option+" ") || !strings.Contains(got[i]+" ", " used="+used+" ") {
					t.Errorf("warning %q; want one naming %s and used=%s", got[i], option, used)
				}
			}
		})
	}
}
