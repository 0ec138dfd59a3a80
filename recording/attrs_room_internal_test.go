package recording

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// chanKeeper is a sink that keeps every record it is given (it borrows
// none), handing each to ch as Write gets it.
type chanKeeper struct{ ch chan *Record }

func (k chanKeeper) Write(_ context.Context, recs []*Record) error {
	for _, r := range recs {
		k.ch <- r
	}
	return nil
}

// TestKeptMessageRecordKeepsAttrs checks that a message record a keeping
// sink is given keeps its message attributes when its Attrs was set to an
// empty slice of the record's room (AttrRoom's pattern, with nothing to
// append): the attributes finish appends then lie in the room, in the
// spare the next records borrow, and must be copied out of it.
func TestKeptMessageRecordKeepsAttrs(t *testing.T) {
	k := chanKeeper{ch: make(chan *Record, 16)}
	rec := New(WithSinks(k), WithBatch(1, time.Millisecond))
	t.Cleanup(func() { rec.Close(context.Background()) })
	cctx, car := rec.StartRecord(context.Background(), RequestInfo{Kind: KindHTTP, Method: "GET", Path: "/ws"})
	s := StartStream(cctx, StreamInfo{System: "websocket", Route: "GET /ws"})
	_, m := s.StartMessage(cctx, Receive, "chat", 10)
	ma := m.Record()
	ma.Record().Attrs = ma.AttrRoom() // nothing to append this time
	m.End(nil)
	var kept *Record
	for r := range k.ch {
		if r.Kind == KindMessage {
			kept = r
			break
		}
	}
	want := slices.Clone(kept.Attrs)
	if len(want) == 0 || slices.ContainsFunc(want, func(a Attr) bool { return a.Key == "" }) {
		t.Fatalf("the kept message record's attributes are %v, want the message's", want)
	}
	for i := range 20 {
		_, b := rec.StartRecord(context.Background(), RequestInfo{Kind: KindHTTP, Method: "GET", Path: "/b"})
		b.AddAttr("next", fmt.Sprint("request-", i))
		b.Finish()
		<-k.ch
	}
	if !slices.Equal(kept.Attrs, want) {
		t.Errorf("a kept message record's Attrs changed after later requests: %v, was %v", kept.Attrs, want)
	}
	s.Close("done")
	car.Finish()
}
