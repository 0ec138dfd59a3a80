package otelexport_test

import (
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestOwnCountsAreTyped: appstats' own attributes that count — a long-lived
// connection's messages and bytes (appstats.stream.*), the attributes the
// recorder's cap left out (appstats.dropped_attributes) — are exported as
// integers, as its other counts (appstats.rpc.messages_*,
// appstats.db.affected_rows, appstats.dropped_calls) are, and the phases a
// call could not time (appstats.phases.unknown, recorded comma-separated)
// as a list of strings, as dns.answers is: a backend sums, compares and
// filters them. On main all six were exported as strings.
func TestOwnCountsAreTyped(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithMaxAttrs(8, 0))
	ctx, conn := rec.StartRecord(t.Context(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/ws"})
	s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket", Route: "GET /ws"})
	_, m := s.StartMessage(ctx, recording.Receive, "typing", 30)
	m.End(nil)
	s.StartSend(ctx, "UPDATED", 7).End(nil)
	c := recording.StartCall(ctx, "http", "GET example.com/")
	c.SetAttrs(recording.Attr{Key: "appstats.phases.unknown", Value: "send,wait"})
	for i := range 10 {
		c.SetAttr("x."+string(rune('a'+i)), "v")
	}
	c.End(nil)
	conn.Finish()
	if err := rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := map[attribute.Key]attribute.Value{
		"appstats.stream.messages_received": attribute.Int64Value(1),
		"appstats.stream.messages_sent":     attribute.Int64Value(1),
		"appstats.stream.bytes_received":    attribute.Int64Value(30),
		"appstats.stream.bytes_sent":        attribute.Int64Value(7),
		"appstats.phases.unknown":           attribute.StringSliceValue([]string{"send", "wait"}),
	}
	var dropped bool
	for _, sp := range exportSpans(t, sink.Records()) {
		for _, kv := range sp.Attributes {
			if kv.Key == "appstats.dropped_attributes" {
				dropped = true
				if kv.Value.Type() != attribute.INT64 || kv.Value.AsInt64() <= 0 {
					t.Errorf("span %q: %s = %s %v, want a positive int", sp.Name, kv.Key, kv.Value.Type(), kv.Value.String())
				}
			}
			if w, ok := want[kv.Key]; ok {
				if kv.Value.Type() != w.Type() || kv.Value.String() != w.String() {
					t.Errorf("span %q: %s = %s %v, want %s %v", sp.Name, kv.Key, kv.Value.Type(), kv.Value.String(), w.Type(), w.String())
				}
				delete(want, kv.Key)
			}
		}
	}
	for k := range want {
		t.Errorf("%s not exported", k)
	}
	if !dropped {
		t.Errorf("appstats.dropped_attributes not exported")
	}
}
