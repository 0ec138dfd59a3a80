package recording_test

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// streamRecords collects n finished records of rec's sink, keyed by route.
func streamRecords(t *testing.T, rec *recording.Recorder, sink *recordingtest.Sink, n int) map[string][]*recording.Record {
	t.Helper()
	closeRec(t, rec)
	recs := sink.Records()
	if len(recs) != n {
		for _, r := range recs {
			t.Logf("record %s %s %q", r.Kind, r.Method, r.Route)
		}
		t.Fatalf("%d records written, want %d", len(recs), n)
	}
	return sink.ByRoute()
}

func startConn(rec *recording.Recorder) (context.Context, *recording.ActiveRecord) {
	return rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/ws", Instance: "hub"})
}

func TestStreamMessagesAreRecordsOfTheirOwn(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	ctx, conn := startConn(rec)
	s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket", Route: "GET /ws", Detail: "subprotocol chat"})
	if s == nil || s.Record() != conn {
		t.Fatal("StartStream of a recorded request returned no stream")
	}
	if again := recording.StartStream(ctx, recording.StreamInfo{}); again != nil {
		t.Error("a second StartStream on one record returned a stream")
	}

	// While open, the connection is active, with its route and counts.
	mctx, m := s.StartMessage(ctx, recording.Receive, "typing", 17)
	if recording.FromContext(mctx) == conn || m.Record() == nil || recording.FromContext(mctx) != m.Record() {
		t.Fatal("the message's context does not carry the message's record")
	}
	recording.StartCall(mctx, "sql", "SELECT rooms").End(nil)
	recording.StartCall(mctx, "websocket", "send typing").End(nil)
	snap, ok := rec.ActiveRecord(conn.Record().ID)
	if !ok || snap.Route != "GET /ws" || snap.Attr(convention.KeyStreamMessagesReceived) != "0" {
		t.Errorf("open connection's snapshot: ok=%v route=%q attrs=%v", ok, snap.Route, snap.Attrs)
	}
	msnap, ok := rec.ActiveRecord(m.Record().Record().ID)
	if !ok || msnap.Kind != recording.KindMessage || msnap.Route != "GET /ws typing" || len(msnap.Calls) != 2 {
		t.Errorf("message's snapshot: ok=%v %+v", ok, msnap)
	}
	m.End(errors.New("room closed"))
	m.End(nil) // no effect

	_, m2 := s.StartMessage(ctx, recording.Receive, "typing", -1)
	m2.SetSize(5)
	m2.End(nil)
	if snap, _ := rec.ActiveRecord(conn.Record().ID); snap.Attr(convention.KeyStreamMessagesReceived) != "2" || snap.Attr(convention.KeyStreamBytesReceived) != "22" || snap.RequestBytes != 0 {
		t.Errorf("after two messages the open connection shows %v, %d bytes", snap.Attrs, snap.RequestBytes)
	}
	recording.StartCall(ctx, "auth", "Check").End(nil) // the connection's own call
	s.Close("1000 normal closure")
	s.Close("again") // no effect
	conn.Record().Route = "GET /ws"
	conn.Record().RequestBytes = 0
	conn.Finish()

	byRoute := streamRecords(t, rec, sink, 3)
	c := byRoute["GET /ws"][0]
	if c.Instance != "hub" || len(c.Calls) != 3 {
		t.Fatalf("connection record: instance %q, %d calls %+v", c.Instance, len(c.Calls), c.Calls)
	}
	if ev := c.Calls[0]; !ev.Event || ev.Method != "connect" || ev.Request != "subprotocol chat" {
		t.Errorf("first call %+v, want the connect event", ev)
	}
	if c.Calls[1].Service != "auth" {
		t.Errorf("second call %+v, want the connection's own call", c.Calls[1])
	}
	if ev := c.Calls[2]; !ev.Event || ev.Method != "close" || ev.Request != "1000 normal closure" {
		t.Errorf("last call %+v, want the close event", ev)
	}
	for _, d := range recordingtest.AttrDiff(c, map[string]string{
		convention.KeyMessagingSystem:        "websocket",
		convention.KeyStreamMessagesReceived: "2",
		convention.KeyStreamMessagesSent:     "0",
		convention.KeyStreamBytesReceived:    "22",
		convention.KeyStreamBytesSent:        "0",
	}) {
		t.Error(d)
	}
	// The stream's bytes are counted apart from the HTTP message's body
	// (none here): a server wrapper counts the body, and a server-sent
	// event stream's events would otherwise be counted twice.
	if c.RequestBytes != 0 {
		t.Errorf("connection RequestBytes = %d, want 0", c.RequestBytes)
	}

	msgs := byRoute["GET /ws typing"]
	if len(msgs) != 2 {
		t.Fatalf("%d message records, want 2", len(msgs))
	}
	first := msgs[0]
	if first.Kind != recording.KindMessage || first.Method != "RECEIVE" || first.Path != "/ws" || first.Instance != "hub" {
		t.Errorf("message record %s %s %s %s", first.Kind, first.Method, first.Path, first.Instance)
	}
	if first.TraceID != c.TraceID || first.ParentSpanID != c.SpanID || first.SpanID == c.SpanID {
		t.Error("the message is not a child of the connection's span in its trace")
	}
	if first.Attr(convention.KeyStreamRecordID) != c.ID.String() || first.Attr(convention.KeyMessagingOperationType) != "process" {
		t.Errorf("message attrs %v", first.Attrs)
	}
	if len(first.Calls) != 2 || first.Calls[0].Method != "SELECT rooms" {
		t.Errorf("message calls %+v", first.Calls)
	}
	if first.Error != "room closed" || first.RequestBytes != 17 {
		t.Errorf("message error %q, bytes %d", first.Error, first.RequestBytes)
	}
	if msgs[1].RequestBytes != 5 || msgs[1].Error != "" {
		t.Errorf("second message: %d bytes, error %q", msgs[1].RequestBytes, msgs[1].Error)
	}
}

func TestStreamSends(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	ctx, conn := startConn(rec)
	s := recording.StartStream(ctx, recording.StreamInfo{System: "sse", Route: "GET /events"})

	// From the connection's own goroutine: a message record.
	s.StartSend(ctx, "tick", 10).End(nil)

	// Producing an event under a Send message: the write is its call, and
	// the message alone is counted, with the write's size.
	pctx, p := s.StartMessage(ctx, recording.Send, "price", -1)
	recording.StartCall(pctx, "http", "GET quotes/price").End(nil)
	w := s.StartSend(pctx, "price", 30)
	w.End(nil)
	p.End(nil)

	// From another request, broadcasting: a call of that request.
	bctx, other := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "POST", Path: "/notify"})
	b := s.StartSend(bctx, "UPDATED", 7)
	b.End(errors.New("write: broken pipe"))
	other.Record().Route = "POST /notify"
	other.Finish()

	// With no record at all: counted only.
	s.StartSend(context.Background(), "UPDATED", 7).End(nil)

	// Not closed: the close event comes with the end of the request.
	conn.Record().Route = "GET /events"
	conn.Finish()

	byRoute := streamRecords(t, rec, sink, 4)
	c := byRoute["GET /events"][0]
	if got := c.Attr(convention.KeyStreamMessagesSent); got != "4" {
		t.Errorf("messages sent = %s, want 4", got)
	}
	if got := c.Attr(convention.KeyStreamBytesSent); got != "54" {
		t.Errorf("bytes sent = %s, want 54", got)
	}
	if c.ResponseBytes != 0 {
		t.Errorf("ResponseBytes = %d, want 0: the stream's bytes are counted apart", c.ResponseBytes)
	}
	if last := c.Calls[len(c.Calls)-1]; !last.Event || last.Method != "close" || last.Request != "the handler returned" {
		t.Errorf("last call %+v, want a close event", last)
	}
	if tick := byRoute["GET /events tick"]; len(tick) != 1 || tick[0].Method != "SEND" || tick[0].ResponseBytes != 10 || len(tick[0].Calls) != 0 {
		t.Errorf("tick records %+v", tick)
	}
	price := byRoute["GET /events price"]
	if len(price) != 1 || price[0].ResponseBytes != 30 || len(price[0].Calls) != 2 {
		t.Fatalf("price records %+v", price)
	}
	if wc := price[0].Calls[1]; wc.Service != "sse" || wc.Method != "send price" || wc.RequestSize != 30 {
		t.Errorf("the write inside the price message: %+v", wc)
	}
	if price[0].Attr(convention.KeyMessagingOperationType) != "send" {
		t.Errorf("price attrs %v", price[0].Attrs)
	}
	n := byRoute["POST /notify"][0]
	if len(n.Calls) != 1 || n.Calls[0].Method != "send UPDATED" || n.Calls[0].Error != "write: broken pipe" || n.Calls[0].RequestSize != 7 {
		t.Errorf("broadcast calls %+v", n.Calls)
	}
}

func TestStreamMessagesNotRecorded(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	ctx, conn := startConn(rec)
	s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket"})

	rec.SetPaused(true)
	mctx, m := s.StartMessage(ctx, recording.Receive, "text", 3)
	if m == nil || m.Record() != nil || recording.FromContext(mctx) != nil {
		t.Fatal("a message while paused has a record, or its context carries one")
	}
	if tc, ok := recording.TraceFromContext(mctx); !ok || tc.TraceID != conn.Record().TraceID {
		t.Error("a message not recorded does not pass the connection's trace on")
	}
	recording.StartCall(mctx, "sql", "SELECT").End(nil) // must not grow the connection's record
	m.End(nil)
	rec.SetPaused(false)

	conn.Record().Route = "GET /ws"
	conn.Finish()
	_, late := s.StartMessage(ctx, recording.Receive, "text", 4)
	if late.Record() != nil {
		t.Error("a message after its connection ended has a record")
	}
	late.End(nil)

	byRoute := streamRecords(t, rec, sink, 1)
	c := byRoute["GET /ws"][0]
	if c.Attr(convention.KeyStreamMessagesReceived) != "1" {
		t.Errorf("messages received = %s, want 1 (the one while paused)", c.Attr(convention.KeyStreamMessagesReceived))
	}
	for _, call := range c.Calls {
		if !call.Event {
			t.Errorf("the connection's record got the message's call %+v", call)
		}
	}
	if st := rec.Stats(); st.PausedOut != 1 || st.SampledOut != 0 {
		t.Errorf("PausedOut = %d, SampledOut = %d; want 1, 0 (the message while paused)", st.PausedOut, st.SampledOut)
	}
}

func TestStreamNil(t *testing.T) {
	ctx := context.Background()
	s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket"})
	if s != nil {
		t.Fatal("StartStream without a record returned a stream")
	}
	mctx, m := s.StartMessage(ctx, recording.Receive, "x", 1)
	if mctx != ctx || m != nil {
		t.Error("a nil stream's StartMessage changed the context or returned a message")
	}
	m.SetSize(3)
	m.End(nil)
	s.StartSend(ctx, "x", 1).End(nil)
	s.Count(recording.Send, 1)
	s.Close("")
	if s.Record() != nil || m.Record() != nil {
		t.Error("nil stream or message has a record")
	}

	// A message record is no connection.
	rec := recording.New()
	defer closeRec(t, rec)
	cctx, conn := startConn(rec)
	cs := recording.StartStream(cctx, recording.StreamInfo{})
	mctx, msg := cs.StartMessage(cctx, recording.Receive, "", 0)
	if recording.StartStream(mctx, recording.StreamInfo{}) != nil {
		t.Error("StartStream on a message's record returned a stream")
	}
	if got := msg.Record().Record().Route; got != "/ws message" {
		t.Errorf("route of an untyped message on a stream without a route = %q, want %q", got, "/ws message")
	}
	msg.End(nil)
	conn.Finish()
	if recording.StartStream(cctx, recording.StreamInfo{}) != nil {
		t.Error("StartStream on a finished record returned a stream")
	}
}

// A message record follows its connection's trace, and so its caller's
// sampling decision: the messages of a connection whose caller did not
// sample the trace are unsampled too.
func TestStreamMessageFollowsCallerSampling(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	ctx, conn := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/ws", Unsampled: true})
	s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket", Route: "GET /ws"})
	_, m := s.StartMessage(ctx, recording.Receive, "typing", 3)
	m.End(nil)
	conn.Finish()
	for _, r := range streamRecords(t, rec, sink, 2) {
		if !r[0].Unsampled {
			t.Errorf("%s record %q is sampled, want unsampled as its caller decided", r[0].Kind, r[0].Route)
		}
	}
}

// TestStreamCloseRacingFinish checks that a stream closed from another
// goroutine as its connection's record finishes (a context's end, as
// wsstats' CloseRead watches) always has one close event: the Close's, or
// the record's own when the record ended first. Before, a Close that had
// marked the stream closed but not yet recorded its event lost it to the
// record's end, leaving none.
func TestStreamCloseRacingFinish(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithQueueSize(1<<14))
	const n = 2000
	for range n {
		ctx, conn := startConn(rec)
		s := recording.StartStream(ctx, recording.StreamInfo{System: "websocket", Route: "GET /ws"})
		done := make(chan struct{})
		go func() {
			defer close(done)
			s.Close("closed by the client")
		}()
		runtime.Gosched()
		conn.Finish()
		<-done
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := sink.Records()
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	bad := 0
	for _, r := range recs {
		closes := 0
		for _, c := range r.Calls {
			if c.Method == "close" {
				closes++
			}
		}
		if closes != 1 {
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d connections' records have no single close event", bad, n)
	}
}
