package otelexport_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/goappstats/appstats/otelexport"
)

// sharingCollector takes OTLP exports, and holds the requests of the app
// sharing the exporter's connections (marked by X-App) until release is
// closed; it notes the client address of each kind of request.
type sharingCollector struct {
	entered chan struct{} // closed when the app's request is in the handler
	release chan struct{}
	once    sync.Once
	freed   sync.Once

	mu    sync.Mutex
	addrs map[string]string // "export", "app" -> RemoteAddr
}

func (c *sharingCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	kind := "export"
	if r.Header.Get("X-App") != "" {
		kind = "app"
	}
	c.mu.Lock()
	c.addrs[kind] = r.RemoteAddr
	c.mu.Unlock()
	io.Copy(io.Discard, r.Body)
	if kind == "app" {
		c.once.Do(func() { close(c.entered) })
		<-c.release
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// Close leaves alone the connections the exporter shares with the app:
// once an export's connection is back in the pool, the app's own request
// may be on it, and closing it under that request broke it. The pool is
// the app's client given with WithHTTPClient, or otlptracehttp's
// process-wide transport, which the app's own OTLP exporter uses too.
func TestCloseSparesSharedConnections(t *testing.T) {
	for _, name := range []string{"WithHTTPClient", "app's OTLP exporter"} {
		t.Run(name, func(t *testing.T) {
			c := &sharingCollector{entered: make(chan struct{}), release: make(chan struct{}),
				addrs: map[string]string{}}
			ts := httptest.NewServer(c)
			t.Cleanup(ts.Close)
			free := func() { c.freed.Do(func() { close(c.release) }) }
			t.Cleanup(free) // before ts.Close
			httpOpts := []otlptracehttp.Option{otlptracehttp.WithEndpointURL(ts.URL)}
			var appRequest func() error
			if name == "WithHTTPClient" {
				client := &http.Client{Transport: &http.Transport{}}
				t.Cleanup(client.CloseIdleConnections)
				httpOpts = append(httpOpts, otlptracehttp.WithHTTPClient(client))
				appRequest = func() error {
					req, err := http.NewRequest(http.MethodPost, ts.URL+"/app", http.NoBody)
					if err != nil {
						return err
					}
					req.Header.Set("X-App", "1")
					resp, err := client.Do(req)
					if err != nil {
						return err
					}
					return resp.Body.Close()
				}
			} else {
				app, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(ts.URL),
					otlptracehttp.WithHeaders(map[string]string{"X-App": "1"}), otlptracehttp.WithRetry(
						otlptracehttp.RetryConfig{Enabled: false}))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { app.Shutdown(context.Background()) })
				appRequest = func() error {
					return app.ExportSpans(context.Background(), tracetest.SpanStubs{{Name: "app"}}.Snapshots())
				}
			}
			e, err := otelexport.NewOTLPHTTP(context.Background(), otelexport.WithHTTPOptions(httpOpts...))
			if err != nil {
				t.Fatal(err)
			}
			writeFlush(t, e) // its connection is idle in the pool now
			done := make(chan error, 1)
			go func() { done <- appRequest() }()
			<-c.entered
			c.mu.Lock()
			shared := c.addrs["app"] == c.addrs["export"]
			c.mu.Unlock()
			// The app's own client shares its pool with the exporter; the
			// app's OTLP exporter no longer shares otlptracehttp's with it.
			if !shared && name == "WithHTTPClient" {
				t.Fatal("the app's request did not reuse the exporter's connection: the test shows nothing")
			}
			if err := e.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			free()
			if err := <-done; err != nil {
				t.Errorf("the app's request on a connection shared with the exporter failed after Close: %v", err)
			}
		})
	}
}
