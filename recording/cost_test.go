package recording_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// llmPrice prices a language model's calls by their tokens, and every
// other call by the kilobyte sent.
func llmPrice(c *recording.Call) float64 {
	if c.Service == "llm" {
		in, _ := strconv.Atoi(c.Attr("gen_ai.usage.input_tokens"))
		out, _ := strconv.Atoi(c.Attr("gen_ai.usage.output_tokens"))
		return float64(in)*3e-6 + float64(out)*15e-6
	}
	if c.Method == "NaN" {
		return math.NaN()
	}
	return float64(max(c.RequestSize, 0)) / 1024 * 0.01
}

func TestCostModel(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(1, 10*time.Millisecond),
		recording.WithCostModel(recording.CostModel{Unit: "USD", Price: llmPrice}))
	defer rec.Close(context.Background())
	if rec.CostUnit() != "USD" {
		t.Errorf("CostUnit = %q", rec.CostUnit())
	}
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/ask"})
	for range 2 {
		c := recording.StartCall(ctx, "llm", "chat claude")
		c.SetAttr("gen_ai.usage.input_tokens", "1000")
		c.SetAttr("gen_ai.usage.output_tokens", "200")
		c.End(nil)
	}
	c := recording.StartCall(ctx, "http", "POST api.example.com/v1/upload")
	c.SetRequestSize(4096)
	c.End(nil)
	recording.StartCall(ctx, "http", "NaN").End(nil)
	recording.Event(ctx, "cache", "miss")
	ar.Finish()
	r := waitRecords(t, sink, 1)[0]

	want := []float64{0.006, 0.006, 0.04, 0, 0}
	if len(r.Calls) != len(want) {
		t.Fatalf("%d calls, want %d", len(r.Calls), len(want))
	}
	for i, c := range r.Calls {
		if math.Abs(c.Cost-want[i]) > 1e-12 {
			t.Errorf("call %d (%s %s) costs %v, want %v", i, c.Service, c.Method, c.Cost, want[i])
		}
	}
	if got := r.Cost(); math.Abs(got-0.052) > 1e-12 {
		t.Errorf("record cost %v, want 0.052", got)
	}
	s := r.Summary()
	if got := s.Cost(); math.Abs(got-0.052) > 1e-12 {
		t.Errorf("summary cost %v, want 0.052", got)
	}
	if s.RPCs[0].Service != "llm" || math.Abs(s.RPCs[0].Cost-0.012) > 1e-12 {
		t.Errorf("RPC stats %+v: want llm first, costing 0.012", s.RPCs[0])
	}
	// Token counts are counts, not secrets, though "tokens" is a secret
	// word: redaction leaves their numbers alone.
	if in := r.Calls[0].Attr("gen_ai.usage.input_tokens"); in != "1000" {
		t.Errorf("input tokens recorded as %q", in)
	}
}

// TestTokenCountsReadable: a number under a name that counts secret
// things — the plural of a secret word ("api.tokens", "max_tokens",
// gen_ai.usage.*_tokens), or "count" after one ("token_count") — is a
// count, and stays readable: it tells how many tokens a call used, and no
// token is a number of at most nine digits without a leading zero. Other
// values under those names (a token, a card number, a code with a leading
// zero) and numbers under singular names ("token", "pin") are hidden.
func TestTokenCountsReadable(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(1, 10*time.Millisecond))
	defer rec.Close(context.Background())
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/"})
	ar.AddAttr("api.tokens", "12")
	c := recording.StartCall(ctx, "llm", "chat")
	want := map[string]string{
		"gen_ai.usage.input_tokens":  recording.Redacted,
		"gen_ai.usage.output_tokens": "42",
		"api.tokens":                 "12",
		"max_tokens":                 "128000",
		"llm.token_count":            "7",
		"cache.sessions":             "3",
		"batch.tokens":               recording.Redacted,
		"cards":                      recording.Redacted,
		"otps":                       recording.Redacted,
		"token":                      recording.Redacted,
		"pin":                        recording.Redacted,
	}
	c.SetAttr("gen_ai.usage.input_tokens", "sk-live-1234")
	c.SetAttr("gen_ai.usage.output_tokens", "42")
	c.SetAttr("api.tokens", "12")
	c.SetAttr("max_tokens", "128000")
	c.SetAttr("llm.token_count", "7")
	c.SetAttr("cache.sessions", "3")
	c.SetAttr("batch.tokens", "4111111111111111") // over nine digits: a card number
	c.SetAttr("cards", "4111111111111111")
	c.SetAttr("otps", "012345") // a leading zero: a code
	c.SetAttr("token", "123456")
	c.SetAttr("pin", "1234")
	c.End(nil)
	ar.Finish()
	r := waitRecords(t, sink, 1)[0]
	for key, want := range want {
		if got := r.Calls[0].Attr(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if got := r.Attr("api.tokens"); got != "12" {
		t.Errorf("the record's api.tokens = %q, want 12", got)
	}
}

// TestCostModelPanics: a model that panics leaves the record's calls
// unpriced and is logged; recording goes on.
func TestCostModelPanics(t *testing.T) {
	var logs bytes.Buffer
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(1, 10*time.Millisecond),
		recording.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		recording.WithCostModel(recording.CostModel{Unit: "tokens", Price: func(c *recording.Call) float64 {
			if c.Method == "boom" {
				panic("no price for boom")
			}
			return 7
		}}))
	for _, methods := range [][]string{{"fine", "boom"}, {"fine"}} {
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/"})
		for _, m := range methods {
			recording.StartCall(ctx, "svc", m).End(nil)
		}
		ar.Finish()
	}
	recs := waitRecords(t, sink, 2)
	rec.Close(context.Background())
	if c := recs[0].Cost(); c != 0 {
		t.Errorf("the record whose pricing panicked costs %v, want 0", c)
	}
	if c := recs[1].Cost(); c != 7 {
		t.Errorf("the next record costs %v, want 7", c)
	}
	if !strings.Contains(logs.String(), "cost model panicked") || !strings.Contains(logs.String(), "no price for boom") {
		t.Errorf("log: %s", logs.String())
	}
}

// TestNoCostModel: without a model, nothing is priced, and a model with
// no Price function is no model.
func TestNoCostModel(t *testing.T) {
	for _, opts := range [][]recording.Option{nil, {recording.WithCostModel(recording.CostModel{Unit: "USD"})}} {
		sink := recordingtest.NewSink()
		rec := recording.New(append(opts, recording.WithSinks(sink), recording.WithBatch(1, 10*time.Millisecond))...)
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/"})
		c := recording.StartCall(ctx, "http", "GET x")
		c.SetRequestSize(1 << 20)
		c.End(nil)
		ar.Finish()
		r := waitRecords(t, sink, 1)[0]
		rec.Close(context.Background())
		if rec.CostUnit() != "" || r.Cost() != 0 || r.Calls[0].Cost != 0 {
			t.Errorf("unit %q, cost %v", rec.CostUnit(), r.Cost())
		}
	}
}

// TestCostModelPanicRedacted: the model sees calls before redaction, so a
// panic value made of a call's texts is redacted, as the record's own
// texts are, before it is logged.
func TestCostModelPanicRedacted(t *testing.T) {
	var logs bytes.Buffer
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(1, 10*time.Millisecond),
		recording.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))),
		recording.WithCostModel(recording.CostModel{Unit: "USD", Price: func(c *recording.Call) float64 {
			panic("no price for " + c.Method + ": " + c.Error)
		}}))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/"})
	recording.StartCall(ctx, "http", "GET api").End(errors.New("dial http://svc:hunter2pw@api.internal/ failed, token=tok3n5ecret"))
	ar.Finish()
	waitRecords(t, sink, 1)
	rec.Close(context.Background())
	if !strings.Contains(logs.String(), "no price for GET api") {
		t.Fatalf("log: %s", logs.String())
	}
	for _, s := range []string{"hunter2pw", "tok3n5ecret"} {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log holds %q: %s", s, logs.String())
		}
	}
}
