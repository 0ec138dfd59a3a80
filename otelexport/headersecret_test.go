package otelexport_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// The OTLP headers of the environment (a collector's token) reach the
// collector and never the exporter's log, whatever the collector answers:
// a refusal, a retryable error, or a body that is not OTLP.
func TestHeadersNeverLogged(t *testing.T) {
	const secret = "tok-3f9a1c"
	for _, status := range []int{http.StatusUnauthorized, http.StatusServiceUnavailable, http.StatusOK} {
		var mu sync.Mutex
		var got []string
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, r.Header.Get("Authorization"))
			mu.Unlock()
			w.Header().Set("Content-Type", "application/x-protobuf")
			w.WriteHeader(status)
			w.Write([]byte("\xff\xffnot protobuf"))
		}))
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", ts.URL)
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
		t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", "1000") // the 503 is retried until then
		t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20"+secret)
		var log bytes.Buffer
		e, err := otelexport.NewFromEnv(context.Background(), otelexport.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Write(context.Background(), []*recording.Record{fixture(t)}); err != nil {
			t.Fatal(err)
		}
		e.ForceFlush(context.Background())
		if err := e.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		ts.Close()
		mu.Lock()
		if len(got) == 0 || got[0] != "Bearer "+secret {
			t.Errorf("%d: the collector got Authorization %q", status, got)
		}
		mu.Unlock()
		if st := e.Stats(); st.Errors == 0 {
			t.Errorf("%d: no failed export counted (%+v)", status, st)
		}
		if !strings.Contains(log.String(), "export failed") || strings.Contains(log.String(), secret) {
			t.Errorf("%d: log = %q; want the failure, without the token", status, log.String())
		}
	}
}
