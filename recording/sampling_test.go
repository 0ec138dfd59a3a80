package recording_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestCallerSampling starts a request whose caller sampled its trace and one
// whose caller did not, under each CallerSampling: the record's Unsampled
// flag and the flag its calls send downstream follow the option.
func TestCallerSampling(t *testing.T) {
	tests := []struct {
		mode          recording.CallerSampling
		recorded      bool // the unsampled request is recorded
		sampledOnward bool // …and its calls send flags 01
	}{
		{recording.FollowCaller, true, false},
		{recording.SkipUnsampled, false, false},
		{recording.OverrideCaller, true, true},
	}
	for _, tt := range tests {
		sink := recordingtest.NewSink()
		rec := recording.New(recording.WithSinks(sink), recording.WithCallerSampling(tt.mode))
		caller := recording.TraceContext{TraceID: recording.NewTraceID(), SpanID: recording.NewSpanID()}
		for _, unsampled := range []bool{false, true} {
			ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{
				Kind: recording.KindHTTP, Method: "GET", Path: "/", TraceID: caller.TraceID, ParentSpanID: caller.SpanID,
				Unsampled: unsampled,
			})
			if unsampled && !tt.recorded {
				if ar != nil {
					t.Errorf("mode %d: an unsampled request was recorded", tt.mode)
				}
				continue
			}
			c := recording.StartCall(ctx, "svc", "m")
			wantSampled := !unsampled || tt.sampledOnward
			if tc := c.TraceContext(); tc.Sampled != wantSampled || tc.TraceID != caller.TraceID {
				t.Errorf("mode %d, unsampled %v: call's trace context %+v, want sampled %v", tt.mode, unsampled, tc, wantSampled)
			}
			if tc := ar.TraceContext(); tc.Sampled != wantSampled {
				t.Errorf("mode %d, unsampled %v: request's trace context %+v, want sampled %v", tt.mode, unsampled, tc, wantSampled)
			}
			c.End(nil)
			ar.Finish()
		}
		closeRec(t, rec)
		var unsampled int
		for _, r := range sink.Records() {
			if r.Unsampled {
				unsampled++
			}
		}
		want := 0
		if tt.recorded && !tt.sampledOnward {
			want = 1
		}
		if unsampled != want {
			t.Errorf("mode %d: %d unsampled records of %d, want %d", tt.mode, unsampled, len(sink.Records()), want)
		}
		if tt.mode == recording.SkipUnsampled && rec.Stats().SampledOut != 1 {
			t.Errorf("SkipUnsampled: stats %+v, want 1 sampled out", rec.Stats())
		}
	}
}

// TestPassthrough checks what the context of a request that is not
// recorded carries for its calls: the trace context, and the propagator.
func TestPassthrough(t *testing.T) {
	if _, _, ok := recording.Passthrough(t.Context()); ok {
		t.Fatal("a bare context carries a trace")
	}
	tc := recording.TraceContext{TraceID: recording.NewTraceID(), SpanID: recording.NewSpanID()}
	got, p, ok := recording.Passthrough(recording.ContextWithTrace(t.Context(), tc))
	if _, w3c := p.(recording.W3CPropagator); !ok || got != tc || !w3c {
		t.Errorf("ContextWithTrace: %+v, %T, %v", got, p, ok)
	}
	prop := recording.W3CPropagator{}
	rec := recording.New(recording.WithPropagator(&ownPropagator{W3CPropagator: prop}))
	defer rec.Close(t.Context())
	ctx := rec.ContextWithTrace(t.Context(), recording.TraceContext{}) // baggage alone, say
	got, p, ok = recording.Passthrough(ctx)
	if _, own := p.(*ownPropagator); !ok || got.IsValid() || !own {
		t.Errorf("Recorder.ContextWithTrace: %+v, %T, %v; want the recorder's propagator", got, p, ok)
	}
	if _, ok := recording.TraceFromContext(ctx); ok {
		t.Error("TraceFromContext reports an invalid trace context")
	}
	h := recording.HeaderCarrier{}
	p.Inject(ctx, tc, h)
	if h.Get("traceparent") != recording.FormatTraceparent(tc) || !strings.HasSuffix(h.Get("traceparent"), "-00") {
		t.Errorf("injected %v: the unsampled flag must pass unchanged", h)
	}
}

type ownPropagator struct{ recording.W3CPropagator }

// TestFinalCall: a call still running when its request ended is in the
// record with the request's end; FinalCall gives its true end, its final
// attributes, redacted as the record is, once it has ended.
func TestFinalCall(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(1, time.Millisecond))
	ctx, ar := rec.StartRecord(t.Context(), recording.RequestInfo{Method: "GET", Path: "/"})
	slow := recording.StartCall(ctx, "svc", "slow")
	never := recording.StartCall(ctx, "svc", "never")
	recording.StartCall(ctx, "svc", "fast").End(nil)
	ar.Finish()
	recs := sink.Wait(t.Context(), 1)
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	if c, ended := r.FinalCall(0); ended || c.End() != r.Duration || !c.Running {
		t.Errorf("before its end: %+v, ended %v; want the record's copy", c, ended)
	}
	time.Sleep(20 * time.Millisecond) // so the true end is clearly after the request's
	slow.SetAttr("password", "hunter2")
	slow.SetResponse("token=hunter2")
	slow.End(errors.New("failed"))
	c, ended := r.FinalCall(0)
	if !ended || !c.Running || c.End() <= r.Duration+20*time.Millisecond-time.Millisecond || c.Error != "failed" ||
		c.Attr("error.type") != "*errors.errorString" || c.SpanID != r.Calls[0].SpanID || c.Start != r.Calls[0].Start {
		t.Errorf("after its end: %+v, ended %v; want its true end, error and attributes", c, ended)
	}
	if c.Attr("password") != recording.Redacted || strings.Contains(c.Response, "hunter2") {
		t.Errorf("after its end, not redacted: %q, %q", c.Attr("password"), c.Response)
	}
	if r.Calls[0].Error != "" || r.Calls[0].End() != r.Duration {
		t.Errorf("the record's copy changed: %+v", r.Calls[0])
	}
	if _, ended := r.FinalCall(1); ended {
		t.Error("a call that has not ended is reported ended")
	}
	if c, ended := r.FinalCall(2); !ended || c.Running {
		t.Errorf("a call that ended in time: %+v, %v", c, ended)
	}
	never.End(nil)
	closeRec(t, rec)
	// A record built by hand knows of no later end: what it has is final.
	manual := &recording.Record{Calls: []recording.Call{{Running: true, Duration: time.Second}}}
	if c, final := manual.FinalCall(0); !final || c.Duration != time.Second {
		t.Errorf("a record built by hand: %+v, final %v", c, final)
	}
}

// TestAddAttrs: attributes added to a record are kept in order, past the
// room the record has for the first ones too.
func TestAddAttrs(t *testing.T) {
	r := recordOne(t, "/attrs", func(ar *recording.ActiveRecord) {
		for i := range 6 {
			ar.AddAttrs(recording.Attr{Key: "k" + strconv.Itoa(i), Value: strconv.Itoa(i)})
		}
		ar.AddAttrs()
	})
	if len(r.Attrs) != 6 || r.Attr("k0") != "0" || r.Attr("k5") != "5" {
		t.Errorf("attrs %v", r.Attrs)
	}
	var none *recording.ActiveRecord
	none.AddAttrs(recording.Attr{Key: "k"}) // a nil record ignores it

	// Added in groups: the first into the record's room for four (as
	// many as fit copied one by one), the rest appended, in order; the
	// caller's slice is copied, not kept.
	for _, groups := range [][]int{{3, 2}, {4}, {4, 1}, {5}, {1, 3, 2}, {2, 2, 2}} {
		var want []string
		r := recordOne(t, "/attrs", func(ar *recording.ActiveRecord) {
			n := 0
			for _, g := range groups {
				buf := make([]recording.Attr, g)
				for j := range buf {
					buf[j] = recording.Attr{Key: "k" + strconv.Itoa(n), Value: strconv.Itoa(n)}
					want = append(want, "k"+strconv.Itoa(n)+"="+strconv.Itoa(n))
					n++
				}
				ar.AddAttrs(buf...)
				clear(buf)
			}
		})
		var got []string
		for _, a := range r.Attrs {
			got = append(got, a.Key+"="+a.Value)
		}
		if !slices.Equal(got, want) {
			t.Errorf("groups %v: attrs %q, want %q", groups, got, want)
		}
	}
}
