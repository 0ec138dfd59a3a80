package otelexport_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.uber.org/goleak"

	"github.com/goappstats/appstats/otelexport"
)

// Close closes the OTLP/HTTP exporter's connection to an HTTP/2 collector
// over TLS too (its client connection's goroutine ends).
func TestCloseLeavesNoHTTP2Connection(t *testing.T) {
	var proto atomic.Value // string
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(r.Proto)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	before := goleak.IgnoreCurrent()
	roots := ts.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	e, err := otelexport.NewOTLPHTTP(context.Background(), otelexport.WithHTTPOptions(
		otlptracehttp.WithEndpointURL(ts.URL), otlptracehttp.WithTLSClientConfig(&tls.Config{RootCAs: roots})))
	if err != nil {
		t.Fatal(err)
	}
	writeFlush(t, e)
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.Exported != 1 || proto.Load() != "HTTP/2.0" {
		t.Fatalf("stats %+v over %q; want 1 record exported over HTTP/2.0", st, proto.Load())
	}
	if err := goleak.Find(before); err != nil {
		t.Errorf("goroutines left after Close, the collector still up: %v", err)
	}
}
