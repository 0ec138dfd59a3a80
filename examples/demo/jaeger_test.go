package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// TestJaegerDemoTraffic exports the demo's own traffic to a real Jaeger v2,
// over OTLP/HTTP and OTLP/gRPC, and checks through Jaeger's query API that
// every trace holds exactly the records' spans: the same count, names,
// parent links, start times and durations. It runs when APPSTATS_JAEGER names
// Jaeger's query endpoint (scripts/interop-jaeger.sh starts one and sets it);
// APPSTATS_OTLP_HTTP and APPSTATS_OTLP_GRPC name its OTLP receivers.
func TestJaegerDemoTraffic(t *testing.T) {
	query := os.Getenv("APPSTATS_JAEGER")
	if query == "" {
		t.Skip("set APPSTATS_JAEGER=http://127.0.0.1:16686 (scripts/interop-jaeger.sh does) to export the demo's traffic to Jaeger")
	}
	for _, tc := range []struct{ proto, endpoint string }{
		{"http/protobuf", "http://" + envOr("APPSTATS_OTLP_HTTP", "127.0.0.1:4318")},
		{"grpc", "http://" + envOr("APPSTATS_OTLP_GRPC", "127.0.0.1:4317")},
	} {
		t.Run(tc.proto, func(t *testing.T) {
			recs := runDemoExporting(t, appstats.Config{
				InMemory: true, OTLPEndpoint: tc.endpoint, OTLPProtocol: tc.proto,
				ServiceName: "appstats-demo-interop",
			})
			byTrace := map[recording.TraceID][]*recording.Record{}
			for _, r := range recs {
				byTrace[r.TraceID] = append(byTrace[r.TraceID], r)
			}
			for id, rs := range byTrace {
				want := expectedSpans(rs)
				tr := jaegerTrace(t, query, id, len(want))
				if len(tr.Spans) != len(want) {
					t.Errorf("trace %s (%s): Jaeger has %d spans, the records make %d", id, rs[0].Path, len(tr.Spans), len(want))
				}
				for _, s := range tr.Spans {
					w, ok := want[s.SpanID]
					if !ok {
						t.Errorf("trace %s: span %s %q is not in the records", id, s.SpanID, s.OperationName)
						continue
					}
					parent := ""
					for _, ref := range s.References {
						if ref.RefType == "CHILD_OF" {
							parent = ref.SpanID
						}
					}
					if s.OperationName != w.name || parent != w.parent || s.StartTime != w.start.UnixMicro() || s.Duration != w.dur.Microseconds() {
						t.Errorf("trace %s span %s: %q parent %q start %d dur %d µs; record says %q parent %q start %d dur %d µs",
							id, s.SpanID, s.OperationName, parent, s.StartTime, s.Duration,
							w.name, w.parent, w.start.UnixMicro(), w.dur.Microseconds())
					}
				}
			}
			t.Logf("%d records in %d traces matched span for span in Jaeger", len(recs), len(byTrace))
		})
	}
}

type wantSpan struct {
	name, parent string
	start        time.Time
	dur          time.Duration
}

// expectedSpans is what the records of one trace should look like in a trace
// viewer: a server span per record, a client span per call (events are span
// events, not spans), named as OpenTelemetry's conventions say, each call's
// span a child of the call it was made inside of (Call.ParentSpanID), else
// of its record's span.
func expectedSpans(rs []*recording.Record) map[string]wantSpan {
	out := map[string]wantSpan{}
	for _, r := range rs {
		name := strings.TrimPrefix(r.Path, "/") // gRPC: the full method
		if r.Kind == recording.KindHTTP {
			_, route, _ := strings.Cut(r.Route, " ")
			name = r.Method + " " + route
		}
		parent := ""
		if r.ParentSpanID.IsValid() {
			parent = r.ParentSpanID.String()
		}
		out[r.SpanID.String()] = wantSpan{name, parent, r.Start, r.Duration}
		parents := r.Parents()
		for i, c := range r.Calls {
			if c.Event {
				continue
			}
			// A call made inside another (recording.Do, ContextWithParent:
			// the demo's /report makes its GET inside "report Build") is that
			// call's child; any other, the record's server span's.
			callParent := r.SpanID.String()
			if p := parents[i]; p >= 0 && !r.Calls[p].Event {
				callParent = r.Calls[p].SpanID.String()
			}
			name := c.Service + " " + c.Method
			switch c.Service {
			case "http": // the method alone, never the URI
				name, _, _ = strings.Cut(c.Method, " ")
			case "sql": // the query's summary
				name = c.Method
			case "grpc":
				name = strings.TrimPrefix(c.Method, "/")
			}
			out[c.SpanID.String()] = wantSpan{name, callParent, r.Start.Add(c.Start), c.Duration}
		}
	}
	return out
}

// runDemoExporting serves the demo with cfg, requests each page, and returns
// the records made, once they are exported.
func runDemoExporting(t *testing.T, cfg appstats.Config) []*recording.Record {
	t.Helper()
	as, err := appstats.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, closeApp, err := newApp(as)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	pages := []string{"/product/7", "/home", "/orders", "/checkout", "/report", "/customers/orders", "/stock", "/lookup", "/socket"}
	for _, p := range pages {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	srv.Close()
	closeApp()
	// Wait until every request (and the gRPC server's record) is stored.
	var recs []*recording.Record
	deadline := time.Now().Add(10 * time.Second)
	for len(recs) < len(pages)+1 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		page, err := as.Store().List(context.Background(), store.Query{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		recs = recs[:0]
		for _, s := range page.Records {
			r, err := as.Store().Get(context.Background(), s.ID)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
	}
	if err := as.Close(); err != nil { // flushes the OTLP exporter
		t.Fatal(err)
	}
	return recs
}

type jaegerData struct {
	Spans []struct {
		SpanID        string `json:"spanID"`
		OperationName string `json:"operationName"`
		References    []struct {
			RefType string `json:"refType"`
			SpanID  string `json:"spanID"`
		} `json:"references"`
		StartTime int64 `json:"startTime"`
		Duration  int64 `json:"duration"`
	} `json:"spans"`
}

// jaegerTrace polls Jaeger's query API until the trace has n spans.
func jaegerTrace(t *testing.T, query string, id recording.TraceID, n int) jaegerData {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var got struct {
			Data []jaegerData `json:"data"`
		}
		resp, err := http.Get(query + "/api/traces/" + id.String())
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
		}
		if err == nil && len(got.Data) == 1 && len(got.Data[0].Spans) >= n {
			return got.Data[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s: not in Jaeger with %d spans after 30 s (%v)", id, n, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
