package httpstats_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestLongQuerySecretRedacted checks that a secret value in a query over
// the recorder's text cap is redacted whole, wherever the cap falls in it:
// the query is cut only after its redaction, so no part of the secret is
// stored (a secret cut in two no longer looks like one).
func TestLongQuerySecretRedacted(t *testing.T) {
	var mu sync.Mutex
	var got []*recording.Record
	sink := recording.SinkFunc(func(_ context.Context, rs []*recording.Record) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, rs...)
		return nil
	})
	rec := recording.New(recording.WithSinks(sink))
	h := httpstats.NewMiddleware(rec)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	secrets := []string{
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
		"4111111111111111",
		"q8Zr2mT5vXa9LpW3nB7cK1dF6gH0jY4sE",
	}
	sent := 0
	for _, sec := range secrets {
		for cut := 3; cut < len(sec); cut += 4 {
			// The default text cap (1024 bytes) falls cut bytes into the
			// secret.
			pad := strings.Repeat("a", recording.DefaultMaxText-len("p=&x=")-cut)
			req := httptest.NewRequest("GET", "/p?p="+pad+"&x="+sec, nil)
			h.ServeHTTP(httptest.NewRecorder(), req)
			sent++
		}
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != sent {
		t.Fatalf("%d records, want %d", len(got), sent)
	}
	for _, r := range got {
		i := strings.Index(r.Query, "&x=")
		if i < 0 {
			continue // the cap fell before the secret
		}
		// The redaction marker, or the part of it the cap left.
		v := r.Query[i+3:]
		if k := strings.Index(v, recording.TruncatedMarker); k >= 0 {
			v = v[:k]
		}
		if !strings.HasPrefix(recording.Redacted, v) {
			t.Errorf("part of a secret kept in the query: %q", r.Query[i:])
		}
		if len(r.Query) > recording.DefaultMaxText+64 {
			t.Errorf("query of %d bytes kept, over the cap", len(r.Query))
		}
	}
}
