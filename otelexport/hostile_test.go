package otelexport_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/goappstats/appstats/internal/otlptest"
	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
)

// The secrets of the hostile collectors' endpoints: a password in the
// endpoint's URL and a token in the OTLP headers. Neither may reach a log
// line or an error string.
const (
	hostilePassword = "pw-77c1e0"
	hostileToken    = "tok-5b2d94"
)

// A hostileCollector is a collector that misbehaves; start returns its
// base URL (scheme://host:port) and stops it when the test ends.
type hostileCollector struct {
	name  string
	proto string // "http/protobuf" or "grpc"
	start func(t testing.TB) string
}

// blackhole accepts connections and never reads from them nor answers.
func blackhole(t testing.TB) string { return "http://" + testservers.Silent(t) }

// httpCollector serves h over loopback HTTP (TLS with a certificate the
// exporter does not trust, when tlsOn).
func httpCollector(h http.HandlerFunc, tlsOn bool) func(t testing.TB) string {
	return func(t testing.TB) string {
		t.Helper()
		ts := httptest.NewUnstartedServer(h)
		if tlsOn {
			ts.StartTLS()
		} else {
			ts.Start()
		}
		t.Cleanup(func() {
			ts.CloseClientConnections()
			ts.Close()
		})
		return ts.URL
	}
}

// partialSuccess answers 200 with a body that rejects every span.
func partialSuccess(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req collectortrace.ExportTraceServiceRequest
	proto.Unmarshal(body, &req)
	n := 0
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			n += len(ss.GetSpans())
		}
	}
	out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{
		PartialSuccess: &collectortrace.ExportTracePartialSuccess{RejectedSpans: int64(max(n, 1)), ErrorMessage: "all spans rejected"},
	})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// retryAfter answers with code and Retry-After: 3600.
func retryAfter(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(code)
	}
}

// hugeBody answers code with a body of size bytes of a page of text.
func hugeBody(code int, size int64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", fmt.Sprint(size))
		w.WriteHeader(code)
		line := []byte(strings.Repeat("<p>collector says no</p>", 40) + "\n")
		for sent := int64(0); sent < size; {
			n, err := w.Write(line[:min(int64(len(line)), size-sent)])
			if err != nil {
				return
			}
			sent += int64(n)
		}
	}
}

// slowDrip answers 200 and drips its body a byte at a time until the
// client goes away.
func slowDrip(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	for {
		if _, err := w.Write([]byte{0}); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// grpcCollector serves a TraceService whose Export is export, over TLS
// with a certificate the exporter does not trust when tlsOn.
func grpcCollector(export func(context.Context, *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error), tlsOn bool) func(t testing.TB) string {
	return func(t testing.TB) string {
		t.Helper()
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var opts []grpc.ServerOption
		if tlsOn {
			// httptest's own certificate, which no client trusts.
			ts := httptest.NewUnstartedServer(http.NotFoundHandler())
			ts.StartTLS()
			cert := ts.TLS.Certificates[0]
			ts.Close()
			opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
		}
		srv := grpc.NewServer(opts...)
		collectortrace.RegisterTraceServiceServer(srv, exportFunc{f: export})
		go srv.Serve(lis)
		t.Cleanup(srv.Stop)
		if tlsOn {
			return "https://" + lis.Addr().String()
		}
		return "http://" + lis.Addr().String()
	}
}

// exportFunc is a TraceService whose Export is f.
type exportFunc struct {
	collectortrace.UnimplementedTraceServiceServer
	f func(context.Context, *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error)
}

func (e exportFunc) Export(ctx context.Context, r *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	return e.f(ctx, r)
}

// resourceExhausted refuses every export with RESOURCE_EXHAUSTED and a
// RetryInfo of an hour.
func resourceExhausted(context.Context, *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	st, err := status.New(codes.ResourceExhausted, "slow down").WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Hour)})
	if err != nil {
		return nil, err
	}
	return nil, st.Err()
}

func grpcPartial(_ context.Context, r *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	return &collectortrace.ExportTraceServiceResponse{
		PartialSuccess: &collectortrace.ExportTracePartialSuccess{RejectedSpans: 1, ErrorMessage: "all spans rejected"},
	}, nil
}

func hostileCollectors() []hostileCollector {
	refused := func(t testing.TB) string { return "http://" + closedAddr(t) }
	return []hostileCollector{
		{"http refused", "http/protobuf", refused},
		{"http blackhole", "http/protobuf", blackhole},
		{"http 429 retry-after", "http/protobuf", httpCollector(retryAfter(http.StatusTooManyRequests), false)},
		{"http 503 retry-after", "http/protobuf", httpCollector(retryAfter(http.StatusServiceUnavailable), false)},
		{"http partial success", "http/protobuf", httpCollector(partialSuccess, false)},
		{"http 200 2GiB body", "http/protobuf", httpCollector(hugeBody(http.StatusOK, 2<<30), false)},
		{"http 503 2GiB body", "http/protobuf", httpCollector(hugeBody(http.StatusServiceUnavailable, 2<<30), false)},
		{"http 400 3MiB body", "http/protobuf", httpCollector(hugeBody(http.StatusBadRequest, 3<<20), false)},
		{"http slow drip", "http/protobuf", httpCollector(slowDrip, false)},
		{"http wrong certificate", "http/protobuf", httpCollector(partialSuccess, true)},
		{"grpc refused", "grpc", refused},
		{"grpc blackhole", "grpc", blackhole},
		{"grpc resource exhausted", "grpc", grpcCollector(resourceExhausted, false)},
		{"grpc partial success", "grpc", grpcCollector(grpcPartial, false)},
		{"grpc wrong certificate", "grpc", grpcCollector(grpcPartial, true)},
	}
}

// hostileExporter makes an exporter for the collector at base, with the
// endpoint's password and the header's token, either through the
// environment (NewFromEnv) or through options (NewOTLPHTTP, NewOTLPGRPC).
func hostileExporter(t testing.TB, c hostileCollector, base string, fromEnv bool, opts ...otelexport.Option) (*otelexport.Exporter, error) {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("user", hostilePassword)
	const timeout = 300 * time.Millisecond
	if fromEnv {
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", u.String())
		t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", c.proto)
		t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20"+hostileToken)
		t.Setenv("OTEL_EXPORTER_OTLP_TIMEOUT", fmt.Sprint(timeout.Milliseconds()))
		return otelexport.NewFromEnv(t.Context(), opts...)
	}
	hdr := map[string]string{"Authorization": "Bearer " + hostileToken}
	opts = append(opts, otelexport.WithExportTimeout(timeout))
	if c.proto == "grpc" {
		return otelexport.NewOTLPGRPC(t.Context(), append(opts, otelexport.WithGRPCOptions(
			otlptracegrpc.WithEndpointURL(u.String()), otlptracegrpc.WithHeaders(hdr), otlptracegrpc.WithTimeout(timeout)))...)
	}
	u.Path = "/v1/traces"
	return otelexport.NewOTLPHTTP(t.Context(), append(opts, otelexport.WithHTTPOptions(
		otlptracehttp.WithEndpointURL(u.String()), otlptracehttp.WithHeaders(hdr), otlptracehttp.WithTimeout(timeout)))...)
}

// newApp serves requests that each make two recorded calls to a loopback
// backend, and returns its URL and a client, both closed when tb ends.
func newApp(tb testing.TB, rec *recording.Recorder) (string, *http.Client) {
	tb.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	tb.Cleanup(backend.Close)
	client := &http.Client{Transport: httpstats.NewTransport(http.DefaultTransport.(*http.Transport).Clone())}
	tb.Cleanup(client.CloseIdleConnections)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		for range 2 {
			req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, backend.URL+"/v/"+r.PathValue("id"), nil)
			resp, err := client.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		io.WriteString(w, "item")
	})
	app := httptest.NewServer(httpstats.NewHandler(rec, mux))
	tb.Cleanup(app.Close)
	appClient := app.Client()
	tb.Cleanup(appClient.CloseIdleConnections)
	return app.URL, appClient
}

// get sends GET url with c and returns an error unless it is answered 200.
func get(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// loadApp sends n requests from 4 clients to an app (newApp) recorded by
// rec; it fails the test if one fails.
func loadApp(t *testing.T, rec *recording.Recorder, n int) {
	t.Helper()
	appURL, appClient := newApp(t, rec)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				if err := get(appClient, fmt.Sprintf("%s/items/%d", appURL, i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// BenchmarkHostileCollector measures a recorded request (with two
// recorded calls) of an app exporting to an exporter that discards, and
// to healthy collectors (the in-process receiver) and to hostile ones:
// a hostile collector must cost a request no more than a healthy one. Compare the sub-benchmarks with benchstat.
func BenchmarkHostileCollector(b *testing.B) {
	cases := []struct {
		name  string
		proto string
		start func(t testing.TB) string // nil: a discarding exporter
	}{
		{"discard", "", nil},
		{"http-ok", "http/protobuf", func(t testing.TB) string { return httpCollector(new(otlptest.Receiver).ServeHTTP, false)(t) }},
		{"grpc-ok", "grpc", func(t testing.TB) string { return grpcCollector(new(otlptest.Receiver).Export, false)(t) }},
		{"http-refused", "http/protobuf", func(t testing.TB) string { return "http://" + closedAddr(t) }},
		{"http-blackhole", "http/protobuf", blackhole},
		{"http-503-retry-after", "http/protobuf", httpCollector(retryAfter(http.StatusServiceUnavailable), false)},
		{"http-slow-drip", "http/protobuf", httpCollector(slowDrip, false)},
		{"grpc-blackhole", "grpc", blackhole},
		{"grpc-resource-exhausted", "grpc", grpcCollector(resourceExhausted, false)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var exp *otelexport.Exporter
			if c.start == nil {
				exp = otelexport.New(discardExporter{})
			} else {
				var err error
				exp, err = hostileExporter(b, hostileCollector{name: c.name, proto: c.proto}, c.start(b), false)
				if err != nil {
					b.Fatal(err)
				}
			}
			rec := recording.New(recording.WithSinks(exp))
			appURL, appClient := newApp(b, rec)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if err := get(appClient, fmt.Sprintf("%s/items/%d", appURL, i)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			rec.Close(context.Background())
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			exp.Close(ctx)
			cancel()
			st := exp.Stats()
			b.ReportMetric(float64(st.Dropped+st.Failed)/float64(max(i, 1)), "lost/op")
		})
	}
}

// stacksOf returns the stacks of the goroutines running code of the
// exporter, of OTLP, or of a gRPC client. Not the collectors' (servers'),
// nor net/http's pooled client connections: otlptracehttp keeps its
// connections in a process-wide pool that its Shutdown does not empty, as
// NewOTLPHTTP's doc says; they end with the collector's connection, or
// idle after 90 s.
func stacksOf() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "testing.tRunner") || strings.Contains(g, "grpc.(*Server)") ||
			strings.Contains(g, "http2Server") || strings.Contains(g, "net/http.(*conn)") || strings.Contains(g, "Listener).accept") {
			continue
		}
		for _, fn := range []string{"otelexport.", "otlptrace", "google.golang.org/grpc"} {
			if strings.Contains(g, fn) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// noGoroutinesLeft fails the test if a goroutine of the exporter, OTLP or
// a gRPC client is still running 5 s after Close.
func noGoroutinesLeft(t *testing.T) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if left = stacksOf(); len(left) == 0 {
			return
		}
	}
	t.Errorf("%d goroutines left after Close:\n%s", len(left), strings.Join(left, "\n\n"))
}

// TestHostileCollectors: a collector that is down, hangs, throttles for an
// hour, rejects every span, answers with a huge or dripping body, or shows
// a certificate the exporter does not trust, harms no request of the app
// (each is answered), loses records only as counted (Exported, Dropped,
// Failed add up to the records written), logs at most a line per 10 s,
// with no secret of the endpoint's and no line longer than a few KiB,
// lets Close return, with its context's error at worst, and leaves no
// goroutine — through the environment and through options alike.
func TestHostileCollectors(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile collectors: several seconds")
	}
	for _, c := range hostileCollectors() {
		for _, fromEnv := range []bool{true, false} {
			name := c.name + "/options"
			if fromEnv {
				name = c.name + "/env"
			}
			t.Run(name, func(t *testing.T) {
				base := c.start(t)
				var logMu sync.Mutex
				var logs strings.Builder
				exp, err := hostileExporter(t, c, base, fromEnv,
					otelexport.WithLogger(newTestLogger(&logMu, &logs)), otelexport.WithQueueSize(64))
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				rec := recording.New(recording.WithSinks(exp), recording.WithBatch(16, 5*time.Millisecond))
				const n = 200
				loadApp(t, rec, n)
				if err := rec.Close(t.Context()); err != nil {
					t.Errorf("recorder Close: %v", err)
				}
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
				defer cancel()
				cerr := exp.Close(ctx)
				var wait *otelexport.RetryAfterError // a throttling collector's wait, past Close's deadline
				var lost *otelexport.ExportError     // the failed exports, and what Close gave up on
				if cerr != nil && !errors.Is(cerr, context.DeadlineExceeded) && !strings.Contains(cerr.Error(), "shutdown") &&
					!(errors.As(cerr, &wait) && wait.Dropped) && !errors.As(cerr, &lost) {
					t.Errorf("Close: %v", cerr)
				}
				st := exp.Stats()
				rs := rec.Stats()
				// No ForceFlush: Close's error counts every record lost
				// in a failed export since the exporter was made.
				if !errors.As(cerr, &lost) || uint64(lost.Failed) != st.Failed || uint64(lost.Dropped) > st.Dropped {
					t.Errorf("Close: %v; want an *ExportError of the %d records failed, and some of the %d dropped", cerr, st.Failed, st.Dropped)
				}
				if st.Exported+st.Failed+st.Dropped != n || st.QueueDepth != 0 {
					t.Errorf("exporter %+v; recorder %+v: want %d records exported, failed or dropped, none queued", st, rs.Sinks, n)
				}
				if st.Exported == n {
					t.Errorf("every record exported to a hostile collector: %+v", st)
				}
				if st.Errors == 0 {
					t.Errorf("no failed export counted: %+v", st)
				}
				if cerr != nil && strings.Contains(cerr.Error(), hostilePassword) || cerr != nil && strings.Contains(cerr.Error(), hostileToken) {
					t.Errorf("Close's error shows a secret: %v", cerr)
				}
				logMu.Lock()
				out := logs.String()
				logMu.Unlock()
				// One line per 10 s at most: the first failure's, and
				// one more per 10 s the case took (and one for Close's).
				lines := strings.Split(strings.TrimSpace(out), "\n")
				if most := 2 + int(time.Since(start)/(10*time.Second)); len(lines) > most || !strings.Contains(out, "export failed") {
					t.Errorf("%d log lines, want %d at most, the first an export failure:\n%.2000s", len(lines), most, out)
				}
				for _, l := range lines {
					if len(l) > 4<<10 {
						t.Errorf("a log line of %d bytes: %.300s…", len(l), l)
					}
				}
				if strings.Contains(out, hostilePassword) || strings.Contains(out, hostileToken) {
					t.Errorf("the log shows a secret:\n%.2000s", out)
				}
				noGoroutinesLeft(t)
			})
		}
	}
}
