package otelexport

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/goappstats/appstats/recording"
)

// rotatingAuth adds a new bearer token to each request, as an OAuth2
// transport does when its token expires.
type rotatingAuth struct {
	n    atomic.Int64
	last atomic.Value // string
}

func (a *rotatingAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	tok := fmt.Sprintf("tok-%04d-secret", a.n.Add(1))
	a.last.Store(tok)
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+tok)
	return http.DefaultTransport.RoundTrip(r)
}

// The exporter hides the header values it sent most recently, however
// many it has sent: it stopped noting new ones after 64, so that a token
// rotated by the client (a new one each hour, say) showed, once echoed,
// in the log after a day or so. The OTLP header sent with every request
// stays hidden too.
func TestRotatedTokenHidden(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(ts.Close)
	auth := &rotatingAuth{}
	client := &http.Client{Transport: auth}
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	e, err := NewOTLPHTTP(context.Background(), WithHTTPOptions(otlptracehttp.WithEndpointURL(ts.URL),
		otlptracehttp.WithHTTPClient(client), otlptracehttp.WithHeaders(map[string]string{"X-Api-Key": "static-key-7f3a"})))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	for range 100 {
		if err := e.Write(context.Background(), []*recording.Record{testRecord(1)}); err != nil {
			t.Fatal(err)
		}
		if err := e.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	last := auth.last.Load().(string)
	echo := "your request had: Authorization: Bearer " + last + ", X-Api-Key: static-key-7f3a"
	if got := e.cfg.watch.hide(echo); strings.Contains(got, last) || strings.Contains(got, "static-key-7f3a") {
		t.Errorf("after %d tokens, the echo hidden reads %q", auth.n.Load(), got)
	}
}
