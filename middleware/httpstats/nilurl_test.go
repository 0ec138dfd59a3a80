package httpstats_test

import (
	"context"
	"net/http"
	"testing"
)

// TestTransportNilURL checks that a request without a URL, given to the
// recording transport's RoundTrip in a recorded request, gets the base
// transport's error, as without the wrapper, rather than a panic.
func TestTransportNilURL(t *testing.T) {
	recordRequest(t, nil, func(ctx context.Context, client *http.Client) {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://example.invalid/", nil)
		req.URL = nil
		bare, _ := http.NewRequestWithContext(context.Background(), "GET", "http://example.invalid/", nil)
		bare.URL = nil
		_, want := http.DefaultTransport.RoundTrip(bare)
		var got error
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("RoundTrip panicked: %v", p)
				}
			}()
			_, got = client.Transport.RoundTrip(req)
		}()
		if got == nil || want == nil || got.Error() != want.Error() {
			t.Errorf("RoundTrip: %v, want %v", got, want)
		}
	})
}
