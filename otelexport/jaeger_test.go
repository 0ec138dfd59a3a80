package otelexport_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// jaegerTrace is the part of Jaeger's query API answer (GET
// /api/traces/{id}) the interop test reads.
type jaegerTrace struct {
	Data []jaegerTraceData `json:"data"`
}

type jaegerTraceData struct {
	TraceID string `json:"traceID"`
	Spans   []struct {
		TraceID       string `json:"traceID"`
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		References    []struct {
			RefType string `json:"refType"`
			TraceID string `json:"traceID"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		StartTime int64 `json:"startTime"` // µs since the epoch
		Duration  int64 `json:"duration"`  // µs
		Tags      []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		} `json:"tags"`
		ProcessID string `json:"processID"`
	} `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// TestJaegerInterop exports a record to a real Jaeger v2 over OTLP/HTTP and
// OTLP/gRPC and checks, through Jaeger's query API, that the trace has the
// record's spans, names, parent links, start times and durations. It runs
// only when APPSTATS_JAEGER names Jaeger's query endpoint (see
// scripts/interop-jaeger.sh); APPSTATS_OTLP_HTTP and APPSTATS_OTLP_GRPC name
// its OTLP receivers (default 127.0.0.1:4318 and 127.0.0.1:4317).
func TestJaegerInterop(t *testing.T) {
	query := os.Getenv("APPSTATS_JAEGER")
	if query == "" {
		t.Skip("set APPSTATS_JAEGER=http://127.0.0.1:16686 (and start Jaeger: scripts/interop-jaeger.sh) to run the Jaeger interop test")
	}
	httpAddr := envOr("APPSTATS_OTLP_HTTP", "127.0.0.1:4318")
	grpcAddr := envOr("APPSTATS_OTLP_GRPC", "127.0.0.1:4317")
	tests := []struct {
		name string
		make func(opts ...otelexport.Option) (*otelexport.Exporter, error)
	}{
		{"otlp-http", func(opts ...otelexport.Option) (*otelexport.Exporter, error) {
			return otelexport.NewOTLPHTTP(t.Context(), append(opts, otelexport.WithHTTPOptions(
				otlptracehttp.WithEndpoint(httpAddr), otlptracehttp.WithInsecure()))...)
		}},
		{"otlp-grpc", func(opts ...otelexport.Option) (*otelexport.Exporter, error) {
			return otelexport.NewOTLPGRPC(t.Context(), append(opts, otelexport.WithGRPCOptions(
				otlptracegrpc.WithEndpoint(grpcAddr), otlptracegrpc.WithInsecure()))...)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			service := "appstats-interop-" + tt.name
			exp, err := tt.make(otelexport.WithServiceName(service))
			if err != nil {
				t.Fatal(err)
			}
			r := fixture(t)
			r.TraceID = recording.NewTraceID()
			r.SpanID = recording.NewSpanID()
			r.Start = time.Now().Add(-time.Second).Truncate(time.Millisecond)
			for i := range r.Calls {
				r.Calls[i].SpanID = recording.NewSpanID()
			}
			if err := exp.Write(t.Context(), []*recording.Record{r}); err != nil {
				t.Fatal(err)
			}
			if err := exp.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			if st := exp.Stats(); st.Exported != 1 {
				t.Fatalf("not exported: %+v", st)
			}

			want := 1
			for _, c := range r.Calls {
				if !c.Event {
					want++
				}
			}
			tr := jaegerWait(t, query, r.TraceID, want)
			if len(tr.Spans) != want {
				t.Errorf("Jaeger has %d spans, want %d", len(tr.Spans), want)
			}
			type expect struct {
				name       string
				parent     string
				start, dur time.Duration
				kind       string
				tags       map[string]any // semantic-convention attributes, as Jaeger shows them
			}
			exp2 := map[string]expect{
				r.SpanID.String(): {"GET /users/{id}", r.ParentSpanID.String(), 0, r.Duration, "server", map[string]any{
					"http.route": "/users/{id}", "http.response.status_code": 503.0, "error.type": "503",
					"url.query": "token=REDACTED&page=2", "otel.scope.version": otelexport.Version(),
				}},
			}
			for _, c := range r.Calls {
				if c.Event {
					continue
				}
				name := map[string]string{"grpc": "pkg.Users/Get", "memcache": "memcache Get", "http": "GET"}[c.Service]
				if name == "" {
					name = c.Method
				}
				var tags map[string]any
				if c.Service == "grpc" {
					tags = map[string]any{"rpc.method": "pkg.Users/Get", "rpc.response.status_code": "NOT_FOUND", "error.type": "NOT_FOUND"}
				}
				exp2[c.SpanID.String()] = expect{name, r.SpanID.String(), c.Start, c.Duration, "client", tags}
			}
			for _, s := range tr.Spans {
				w, ok := exp2[s.SpanID]
				if !ok {
					t.Errorf("unexpected span %s %q", s.SpanID, s.OperationName)
					continue
				}
				var parent string
				for _, ref := range s.References {
					if ref.RefType == "CHILD_OF" && ref.TraceID == r.TraceID.String() {
						parent = ref.SpanID
					}
				}
				tags := map[string]any{}
				for _, tg := range s.Tags {
					tags[tg.Key] = tg.Value
				}
				if s.OperationName != w.name || parent != w.parent || tags["span.kind"] != w.kind {
					t.Errorf("span %s: %q parent %s kind %v; want %q parent %s kind %s",
						s.SpanID, s.OperationName, parent, tags["span.kind"], w.name, w.parent, w.kind)
				}
				if s.StartTime != r.Start.Add(w.start).UnixMicro() || s.Duration != w.dur.Microseconds() {
					t.Errorf("span %q: start %d µs, %d µs long; want %d, %d", s.OperationName,
						s.StartTime, s.Duration, r.Start.Add(w.start).UnixMicro(), w.dur.Microseconds())
				}
				for k, v := range w.tags {
					if tags[k] != v {
						t.Errorf("span %q: tag %s = %#v, want %#v", s.OperationName, k, tags[k], v)
					}
				}
				if p := tr.Processes[s.ProcessID]; p.ServiceName != service {
					t.Errorf("span %q: service %q, want %q", s.OperationName, p.ServiceName, service)
				}
				t.Logf("%-32s %-6s parent %-16s start +%-6v %v", s.OperationName, w.kind, parent, w.start, w.dur)
			}
		})
	}
}

// jaegerWait returns the trace id from Jaeger once it has at least n spans.
// Jaeger stores what it receives after its batch processor's timeout (200 ms
// in jaeger-loopback.yaml), so the test polls its API.
func jaegerWait(t *testing.T, query string, id recording.TraceID, n int) jaegerTraceData {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got jaegerTrace
		err := getJSON(query+"/api/traces/"+id.String(), &got)
		if err == nil && len(got.Data) == 1 && len(got.Data[0].Spans) >= n {
			return got.Data[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s not in Jaeger after 30 s (last error: %v, got %+v)", id, err, got)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestJaegerInteropTwoServices runs two recorded services, A calling B
// through the recording transport, both exporting to Jaeger over OTLP/HTTP,
// and checks that Jaeger shows one trace: A's request, A's call, B's request.
func TestJaegerInteropTwoServices(t *testing.T) {
	query := os.Getenv("APPSTATS_JAEGER")
	if query == "" {
		t.Skip("set APPSTATS_JAEGER=http://127.0.0.1:16686 (and start Jaeger: scripts/interop-jaeger.sh) to run the Jaeger interop test")
	}
	httpAddr := envOr("APPSTATS_OTLP_HTTP", "127.0.0.1:4318")
	newService := func(name string, h http.Handler) (*httptest.Server, *recording.Recorder, *recordingtest.Sink, *otelexport.Exporter) {
		exp, err := otelexport.NewOTLPHTTP(t.Context(), otelexport.WithServiceName(name),
			otelexport.WithHTTPOptions(otlptracehttp.WithEndpoint(httpAddr), otlptracehttp.WithInsecure()))
		if err != nil {
			t.Fatal(err)
		}
		sink := recordingtest.NewSink()
		rec := recording.New(recording.WithSinks(sink, exp), recording.WithPropagator(otelexport.NewPropagator(nil)))
		srv := httptest.NewServer(httpstats.NewHandler(rec, h))
		t.Cleanup(srv.Close)
		return srv, rec, sink, exp
	}
	srvB, recB, sinkB, expB := newService("appstats-interop-b", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "b")
	}))
	client := &http.Client{Transport: httpstats.NewTransport(nil)}
	srvA, recA, sinkA, expA := newService("appstats-interop-a", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), "GET", srvB.URL+"/b", nil)
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		io.Copy(w, resp.Body)
		resp.Body.Close()
	}))
	resp, err := http.Get(srvA.URL + "/a")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	for _, c := range []func() error{
		func() error { return recA.Close(t.Context()) }, func() error { return recB.Close(t.Context()) },
		func() error { return expA.Close(t.Context()) }, func() error { return expB.Close(t.Context()) },
	} {
		if err := c(); err != nil {
			t.Fatal(err)
		}
	}
	if len(sinkA.Records()) != 1 || len(sinkB.Records()) != 1 || len(sinkA.Records()[0].Calls) != 1 {
		t.Fatalf("records: A %d, B %d", len(sinkA.Records()), len(sinkB.Records()))
	}
	a, b := sinkA.Records()[0], sinkB.Records()[0]
	call := a.Calls[0]
	tr := jaegerWait(t, query, a.TraceID, 3)
	want := map[string]struct{ parent, service string }{
		a.SpanID.String():    {"", "appstats-interop-a"},
		call.SpanID.String(): {a.SpanID.String(), "appstats-interop-a"},
		b.SpanID.String():    {call.SpanID.String(), "appstats-interop-b"},
	}
	if len(tr.Spans) != 3 {
		t.Errorf("Jaeger has %d spans, want 3", len(tr.Spans))
	}
	for _, s := range tr.Spans {
		w, ok := want[s.SpanID]
		var parent string
		for _, ref := range s.References {
			if ref.RefType == "CHILD_OF" {
				parent = ref.SpanID
			}
		}
		svc := tr.Processes[s.ProcessID].ServiceName
		if !ok || parent != w.parent || svc != w.service {
			t.Errorf("span %s %q: parent %q service %q; want %+v", s.SpanID, s.OperationName, parent, svc, w)
		}
		t.Logf("%-20s %-24s parent %-16s %v µs", svc, s.OperationName, parent, s.Duration)
	}
}

func getJSON(url string, v any) error {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return err
	}
	req.Close = true // no idle connection to Jaeger outlives the test
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
