package httpstats

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// fakeBase answers every request with a short body, and keeps the span ID
// of the last request's traceparent.
type fakeBase struct{ span recording.SpanID }

func (f *fakeBase) RoundTrip(req *http.Request) (*http.Response, error) {
	tp := req.Header.Get("Traceparent") // 00-trace-span-flags
	if len(tp) != recording.TraceparentLen {
		return nil, io.ErrUnexpectedEOF
	}
	if _, err := hex.Decode(f.span[:], []byte(tp[36:52])); err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: 200, Status: "200 OK", Body: io.NopCloser(strings.NewReader("hello")), ContentLength: 5, Request: req}, nil
}

// TestTransportSetupCostSampled checks that a recorded call's setup is
// measured on the calls whose span ID's last byte is a multiple of
// measureEvery, which store the measurement, and that every other call is
// charged the last measurement to its record's overhead.
func TestTransportSetupCostSampled(t *testing.T) {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink), recording.WithBatch(64, 5*time.Millisecond))
	base := &fakeBase{}
	tr := NewTransport(base).(*transport)
	client := &http.Client{Transport: tr}
	const charged = time.Hour           // far above any measurement
	want := map[recording.SpanID]bool{} // by the call's span: charged
	for range 200 {
		tr.setupCost.Store(int64(charged))
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://backend.test/items", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		ar.Finish()
		wasCharged := time.Duration(tr.setupCost.Load()) == charged
		if measured := base.span[len(base.span)-1]%measureEvery == 0; measured == wasCharged {
			t.Fatalf("span %x: measured %v, but the transport's last measurement was kept: %v", base.span, measured, wasCharged)
		}
		want[base.span] = wasCharged
	}
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var measured, chargedN int
	for _, r := range sink.Records() {
		if len(r.Calls) != 1 {
			t.Fatalf("%d calls, want 1", len(r.Calls))
		}
		c, ok := want[r.Calls[0].SpanID]
		if !ok {
			t.Fatalf("a record of an unknown call %x", r.Calls[0].SpanID)
		}
		if c != (r.Overhead >= charged) {
			t.Errorf("call %x: charged %v, overhead %v", r.Calls[0].SpanID, c, r.Overhead)
		}
		if c {
			chargedN++
		} else {
			measured++
		}
	}
	if measured == 0 || chargedN == 0 || measured+chargedN != len(want) {
		t.Errorf("%d calls measured, %d charged, of %d", measured, chargedN, len(want))
	}
}

// TestCloseAfterEOFTakesNoLock checks that a Close after the Read that
// reached EOF (which ended the call) returns without the phases' lock,
// and that a Close before the end still waits for it.
func TestCloseAfterEOFTakesNoLock(t *testing.T) {
	rec := recording.New(recording.WithSinks(recordingtest.NewSink()))
	defer rec.Close(context.Background())
	client := &http.Client{Transport: NewTransport(&fakeBase{})}
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	defer ar.Finish()
	get := func() *callState {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://backend.test/items", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		st, ok := resp.Body.(*callState)
		if !ok {
			t.Fatalf("the body is a %T", resp.Body)
		}
		return st
	}
	// closed reports whether Close returns while the lock is held, waiting
	// up to wait for it: a Close that takes the lock never returns then.
	closed := func(st *callState, wait time.Duration) bool {
		st.pt.mu.Lock()
		done := make(chan struct{})
		go func() { st.Close(); close(done) }()
		defer func() { st.pt.mu.Unlock(); <-done }()
		select {
		case <-done:
			return true
		case <-time.After(wait):
			return false
		}
	}

	st := get()
	io.Copy(io.Discard, st)
	if !st.pt.finished.Load() {
		t.Fatal("the call did not end at EOF")
	}
	// Close is given time to run (a loaded machine may not run its
	// goroutine for a while): returning at all shows it took no lock.
	if !closed(st, 10*time.Second) {
		t.Error("a Close after EOF waited for the phases' lock")
	}
	st = get()
	if closed(st, 100*time.Millisecond) {
		t.Error("a Close before the call's end did not wait for the phases' lock")
	}
	if !st.pt.finished.Load() {
		t.Error("Close did not end the call")
	}
}
