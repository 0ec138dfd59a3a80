package recording_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// capped reports whether s was cut to n bytes with the truncation note.
func capped(s string, n int) bool {
	kept, _, ok := strings.Cut(s, recording.TruncatedMarker)
	return ok && len(kept) <= n && len(kept) >= n-3 && strings.HasSuffix(s, " bytes]")
}

// A capCheck names a recorded string and the cap it should have been cut to.
type capCheck struct {
	name string
	s    string
	n    int
}

func checkCapped(t *testing.T, what string, checks []capCheck) {
	t.Helper()
	for _, c := range checks {
		if !capped(c.s, c.n) {
			t.Errorf("%s %s: %d bytes %.40q…, want %d and the note", what, c.name, len(c.s), c.s, c.n)
		}
	}
}

// TestByteCaps records a request whose every string is huge and checks that
// each one was cut to its cap, with the note, rather than kept or dropped.
func TestByteCaps(t *testing.T) {
	const big = 10 << 20 // 10 MB
	huge := strings.Repeat("x", big)
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: huge, Path: "/" + huge})
	for range 10 { // the reported case: 10 calls of 10 MB strings
		c := recording.StartCall(ctx, huge, huge)
		c.SetRequest(huge)
		c.SetResponse(huge)
		c.SetAttr(huge, huge)
		for i := range 100 {
			c.SetAttr(fmt.Sprint("k", i), "v")
		}
		c.SetAttrs(recording.Attr{Key: "more", Value: huge})
		c.AddPhase(huge, c.StartTime(), c.StartTime().Add(time.Millisecond))
		for range 100 {
			c.AddPhase("again", c.StartTime(), c.StartTime())
		}
		c.End(errors.New(huge))
	}
	recording.Event(ctx, huge, huge)
	c := recording.StartCall(ctx, "svc", "m")
	c.SetService(huge)
	c.SetMethod(huge)
	c.SetError(huge)
	c.End(nil)
	h := map[string][]string{"X-Huge": {huge}, huge: {"v"}}
	for i := range 2000 {
		h[fmt.Sprint("X-Many-", i)] = []string{""}
	}
	ar.SetHeaders(h)
	r := ar.Record()
	r.Route, r.Query, r.User, r.Remote, r.Error, r.Panic = huge, huge, huge, huge, huge, huge
	for i := range 100 {
		r.Attrs = append(r.Attrs, recording.Attr{Key: fmt.Sprint("k", i), Value: huge})
	}
	ar.Finish()
	closeRec(t, rec)

	got := sink.Records()[0]
	checkCapped(t, "record", []capCheck{
		{"method", got.Method, recording.DefaultMaxName},
		{"path", got.Path, recording.DefaultMaxText},
		{"route", got.Route, recording.DefaultMaxName},
		{"query", got.Query, recording.DefaultMaxText},
		{"user", got.User, recording.DefaultMaxName},
		{"remote", got.Remote, recording.DefaultMaxName},
		{"error", got.Error, recording.DefaultMaxText},
		{"panic", got.Panic, recording.DefaultMaxText},
	})
	if n := len(got.Attrs); n != recording.DefaultMaxAttrs+1 || got.Attr("appstats.dropped_attributes") != "68" {
		t.Errorf("record attributes: %d, dropped %q; want %d and 68 counted", n, got.Attr("appstats.dropped_attributes"), recording.DefaultMaxAttrs+1)
	}
	if !capped(got.Attrs[0].Value, recording.DefaultMaxAttrValue) {
		t.Errorf("record attribute value: %d bytes", len(got.Attrs[0].Value))
	}
	if len(got.Calls) != 12 {
		t.Fatalf("%d calls, want 12", len(got.Calls))
	}
	for i, c := range got.Calls[:10] {
		checkCapped(t, fmt.Sprint("call ", i), []capCheck{
			{"service", c.Service, recording.DefaultMaxName},
			{"method", c.Method, recording.DefaultMaxName},
			{"request", c.Request, recording.DefaultMaxSummary},
			{"response", c.Response, recording.DefaultMaxSummary},
			{"error", c.Error, recording.DefaultMaxText},
			{"attribute key", c.Attrs[0].Key, recording.DefaultMaxName},
			{"attribute value", c.Attrs[0].Value, recording.DefaultMaxAttrValue},
			{"phase", c.Phases[0].Name, recording.DefaultMaxName},
		})
		// 1 + 100 + 1 attributes set: the cap's worth kept, the rest counted.
		if n := len(c.Attrs); n != recording.DefaultMaxAttrs+1 || c.Attr("appstats.dropped_attributes") != "70" {
			t.Errorf("call %d: %d attributes, dropped %q", i, n, c.Attr("appstats.dropped_attributes"))
		}
		if len(c.Phases) != 32 {
			t.Errorf("call %d: %d phases, want 32", i, len(c.Phases))
		}
	}
	if ev := got.Calls[10]; !capped(ev.Method, recording.DefaultMaxName) || !capped(ev.Request, recording.DefaultMaxSummary) {
		t.Errorf("event: label %d bytes, detail %d bytes", len(ev.Method), len(ev.Request))
	}
	if late := got.Calls[11]; !capped(late.Service, recording.DefaultMaxName) || !capped(late.Method, recording.DefaultMaxName) ||
		!capped(late.Error, recording.DefaultMaxText) {
		t.Errorf("names and error set late: %d, %d, %d bytes", len(late.Service), len(late.Method), len(late.Error))
	}

	// Headers: the huge value cut, the huge name cut, the total bounded,
	// and what was left out noted.
	total := 0
	for k, vs := range got.Headers {
		if len(k) > recording.DefaultMaxName+40 {
			t.Errorf("header name of %d bytes kept", len(k))
		}
		for _, v := range vs {
			total += len(k) + len(v) + 32
			if len(v) > recording.DefaultMaxHeaderValue+40 {
				t.Errorf("header %.20q: value of %d bytes kept", k, len(v))
			}
		}
	}
	if total > recording.DefaultMaxHeaderBytes+200 {
		t.Errorf("headers hold %d bytes, over the %d cap", total, recording.DefaultMaxHeaderBytes)
	}
	note := got.Headers[recording.HeaderTruncated]
	if len(note) != 1 || !strings.Contains(note[0], "values") || !strings.Contains(note[0], "bytes not kept") {
		t.Errorf("no note of the headers left out: %q", note)
	}
	if got.Headers["X-Huge"] != nil && !capped(got.Headers["X-Huge"][0], recording.DefaultMaxHeaderValue) {
		t.Errorf("X-Huge kept as %d bytes", len(got.Headers["X-Huge"][0]))
	}

	if st := rec.Stats(); st.Written != 1 || st.Dropped != 0 {
		t.Errorf("stats %+v: the capped record should be written", st)
	}
}

// TestByteCapOptions: each cap is an option; small values cut small.
func TestByteCapOptions(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink),
		recording.WithMaxName(4), recording.WithMaxText(5), recording.WithMaxSummary(6),
		recording.WithMaxHeaders(7, 200), recording.WithMaxAttrs(2, 8))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/abcdefgh"})
	c := recording.StartCall(ctx, "service", "method")
	c.SetRequest("request text")
	c.SetAttrs(recording.Attr{Key: "a", Value: "0123456789"}, recording.Attr{Key: "b", Value: "v"}, recording.Attr{Key: "c", Value: "v"})
	c.End(errors.New("an error"))
	ar.SetHeaders(map[string][]string{"X-Value": {"0123456789"}})
	ar.Finish()
	closeRec(t, rec)
	r := sink.Records()[0]
	call := r.Calls[0]
	for _, f := range []struct{ got, want string }{
		{r.Method, "GET"},
		{r.Path, "/abcd…[truncated 4 bytes]"},
		{call.Service, "serv…[truncated 3 bytes]"},
		{call.Method, "meth…[truncated 2 bytes]"},
		{call.Request, "reques…[truncated 6 bytes]"},
		{call.Error, "an er…[truncated 3 bytes]"},
		{call.Attr("a"), "01234567…[truncated 2 bytes]"},
		{call.Attr("appstats.dropped_attributes"), "1"},
		{r.Headers["X-Va…[truncated 3 bytes]"][0], "0123456…[truncated 3 bytes]"},
	} {
		if f.got != f.want {
			t.Errorf("got %q, want %q", f.got, f.want)
		}
	}
}

// TestQueueBytes: the queue is bounded in bytes as well as in records; a
// record that does not fit is dropped and counted, never blocks, and a
// record that fits after all is written.
func TestQueueBytes(t *testing.T) {
	release := make(chan struct{})
	blocking := recording.SinkFunc(func(ctx context.Context, recs []*recording.Record) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	const limit = 256 << 10
	rec := recording.New(recording.WithSinks(blocking), recording.WithQueueBytes(limit),
		recording.WithBatch(1, time.Millisecond))
	big := strings.Repeat("x", recording.DefaultMaxHeaderValue)
	hdr := map[string][]string{}
	for i := range 14 {
		hdr[fmt.Sprint("X-", i)] = []string{big}
	}
	maxBytes := int64(0)
	for range 2000 {
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		ar.SetHeaders(hdr)
		ar.Finish()
		st := rec.Stats()
		maxBytes = max(maxBytes, st.QueueBytes, st.Sinks[0].QueueBytes)
	}
	st := rec.Stats()
	if maxBytes > limit {
		t.Errorf("queue held %d bytes, over the %d bound", maxBytes, limit)
	}
	// Each record holds ~15 KB of headers: far fewer than the 1024 the
	// queue's record bound admits fit in 256 KiB.
	if st.Dropped+st.Sinks[0].Dropped < 1500 {
		t.Errorf("stats %+v: records past the byte bound were not dropped", st)
	}
	close(release)
	closeRec(t, rec)
	st = rec.Stats()
	if s := st.Sinks[0]; s.Written == 0 || s.Written+s.Dropped+st.Dropped != st.Recorded+st.Dropped || st.Written != s.Written {
		t.Errorf("stats %+v: written and dropped do not add up", st)
	}
}

// TestSequence: a sequence writes its sinks in turn, the later one seeing a
// batch only after the earlier one returned, even when that one fails.
func TestSequence(t *testing.T) {
	var order []string
	first := recording.SinkFunc(func(_ context.Context, recs []*recording.Record) error {
		order = append(order, fmt.Sprint("first ", len(recs)))
		return errors.New("disk full")
	})
	second := recordingtest.NewSink()
	then := recording.SinkFunc(func(_ context.Context, recs []*recording.Record) error {
		order = append(order, fmt.Sprint("then ", second.Len()))
		return nil
	})
	rec := recording.New(recording.WithSinks(recording.Sequence(first, nil, second, then)), recording.WithBatch(10, time.Hour))
	for range 3 {
		oneRequest(rec, "/", 0)
	}
	closeRec(t, rec)
	if got := strings.Join(order, ", "); got != "first 3, then 3" {
		t.Errorf("order: %s", got)
	}
	st := rec.Stats()
	if len(st.Sinks) != 1 || st.Sinks[0].Name != "recording.SinkFunc+*recordingtest.Sink+recording.SinkFunc" ||
		st.Sinks[0].Errors != 1 || st.Sinks[0].Dropped != 3 {
		t.Errorf("sink stats %+v", st.Sinks)
	}
}
