package main

import (
	"encoding/hex"
	"net/http/httptest"
	"testing"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/internal/otlptest"
	"github.com/goappstats/appstats/recording"
)

// TestDemoTrafficOTLP is TestJaegerDemoTraffic's check without Jaeger, so
// that CI runs it: the demo's own traffic, exported over OTLP/HTTP to the
// in-process receiver, makes exactly the records' spans (expectedSpans): the
// same count, names, parent links, start times and durations — among them a
// call's span whose parent is another call's (the GET that /report makes
// inside recording.Do's "report Build").
func TestDemoTrafficOTLP(t *testing.T) {
	var rcv otlptest.Receiver
	srv := httptest.NewServer(&rcv)
	defer srv.Close()
	recs := runDemoExporting(t, appstats.Config{
		InMemory: true, OTLPEndpoint: srv.URL, OTLPProtocol: "http/protobuf",
		ServiceName: "appstats-demo-otlp",
	})
	want := map[string]wantSpan{}
	traces := map[recording.TraceID]bool{}
	for _, r := range recs {
		traces[r.TraceID] = true
		for id, w := range expectedSpans([]*recording.Record{r}) {
			want[id] = w
		}
	}
	spans := rcv.Spans()
	if len(spans) != len(want) {
		t.Errorf("the receiver has %d spans, the records make %d", len(spans), len(want))
	}
	isCall := map[string]bool{} // spans of calls: those whose parent is in the same record
	for _, r := range recs {
		for _, c := range r.Calls {
			if !c.Event {
				isCall[c.SpanID.String()] = true
			}
		}
	}
	nested := 0
	for _, s := range spans {
		id, parent := hex.EncodeToString(s.GetSpanId()), hex.EncodeToString(s.GetParentSpanId())
		var tid recording.TraceID
		copy(tid[:], s.GetTraceId())
		if !traces[tid] {
			t.Errorf("span %s %q: trace %x is no record's", id, s.GetName(), s.GetTraceId())
		}
		w, ok := want[id]
		if !ok {
			t.Errorf("span %s %q is not in the records", id, s.GetName())
			continue
		}
		start, dur := int64(s.GetStartTimeUnixNano()), int64(s.GetEndTimeUnixNano()-s.GetStartTimeUnixNano())
		if s.GetName() != w.name || parent != w.parent || start != w.start.UnixNano() || dur != w.dur.Nanoseconds() {
			t.Errorf("span %s: %q parent %q start %d dur %d ns; record says %q parent %q start %d dur %d ns",
				id, s.GetName(), parent, start, dur, w.name, w.parent, w.start.UnixNano(), w.dur.Nanoseconds())
		}
		if isCall[id] && isCall[parent] {
			nested++
		}
	}
	if nested == 0 {
		t.Error("no call's span is a child of another call's: /report's GET inside \"report Build\" should be")
	}
	t.Logf("%d records, %d spans, %d of them nested in a call", len(recs), len(spans), nested)
}
