package ssestats_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/ssestats"
)

// TestRetryRounding checks the retry field, in whole milliseconds: a
// positive Retry below a millisecond is sent as 1 — never 0, which asks a
// client to reconnect at once — and a fraction is rounded up.
func TestRetryRounding(t *testing.T) {
	for _, tc := range []struct {
		retry time.Duration
		want  string
	}{
		{500 * time.Microsecond, "retry: 1\n"},
		{time.Nanosecond, "retry: 1\n"},
		{1500 * time.Microsecond, "retry: 2\n"},
		{3 * time.Second, "retry: 3000\n"},
	} {
		w := httptest.NewRecorder()
		s, err := ssestats.New(w, httptest.NewRequest("GET", "/events", nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(t.Context(), ssestats.Event{Data: "x", Retry: tc.retry}); err != nil {
			t.Fatal(err)
		}
		if body := w.Body.String(); !strings.Contains(body, tc.want) {
			t.Errorf("Retry %v: body %q, want %q", tc.retry, body, tc.want)
		}
	}
}
