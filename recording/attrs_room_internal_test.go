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

// TestAttrsAfterFinishKeeping checks that AddAttr, AddAttrs and AttrRoom
// called after Finish, once the record went to a keeping sink and its
// spare was handed back (the record then holds none), neither panic nor
// change the kept record, and that AttrRoom gives nil: with attributes
// set before Finish and without.
func TestAttrsAfterFinishKeeping(t *testing.T) {
	for _, early := range []bool{false, true} {
		t.Run(fmt.Sprint("early=", early), func(t *testing.T) { attrsAfterFinishKeeping(t, early) })
	}
}

func attrsAfterFinishKeeping(t *testing.T, early bool) {
	k := chanKeeper{ch: make(chan *Record, 16)}
	rec := New(WithSinks(k), WithBatch(1, time.Millisecond))
	t.Cleanup(func() { rec.Close(context.Background()) })
	_, ar := rec.StartRecord(context.Background(), RequestInfo{Kind: KindHTTP, Method: "GET", Path: "/"})
	if early {
		ar.AddAttr("early", "handler")
	}
	ar.Finish()
	kept := <-k.ch // delivered: its spare handed back
	want := slices.Clone(kept.Attrs)
	for name, late := range map[string]func(){
		"AddAttr":  func() { ar.AddAttr("late", "goroutine") },
		"AddAttrs": func() { ar.AddAttrs(Attr{Key: "late", Value: "goroutine"}) },
		"AttrRoom": func() {
			if room := ar.AttrRoom(); room != nil {
				t.Errorf("AttrRoom after Finish = %v, want nil", room)
			}
		},
	} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s after Finish (record delivered to a keeping sink) panicked: %v", name, p)
				}
			}()
			late()
		}()
	}
	if !slices.Equal(kept.Attrs, want) {
		t.Errorf("calls after Finish changed the kept record's Attrs to %v, was %v", kept.Attrs, want)
	}
}

// TestAttrsAfterFinishBorrowing checks that AddAttr and AddAttrs called
// after Finish, while a borrowing sink holds the record, change none of
// its attributes (nor its room, which the next request gets).
func TestAttrsAfterFinishBorrowing(t *testing.T) {
	sink := &pinBorrower{pinKeeper{got: make(chan []*Record, 1), release: make(chan struct{})}}
	rec := New(WithSinks(sink), WithBatch(1, time.Hour))
	t.Cleanup(func() { rec.Close(context.Background()) })
	released := false
	t.Cleanup(func() {
		if !released {
			close(sink.release)
		}
	})
	_, ar := rec.StartRecord(context.Background(), RequestInfo{Kind: KindHTTP, Method: "GET", Path: "/"})
	ar.AddAttr("early", "handler")
	ar.Finish()
	recs := <-sink.got
	want := slices.Clone(recs[0].Attrs)
	room := recs[0].spare.attrs
	ar.AddAttr("late", "goroutine")
	ar.AddAttrs(Attr{Key: "late", Value: "goroutine"}, Attr{Key: "later", Value: "goroutine"})
	if got := recs[0].Attrs; !slices.Equal(got, want) {
		t.Errorf("calls after Finish changed the sink's record's Attrs to %v, was %v", got, want)
	}
	if recs[0].spare.attrs != room {
		t.Errorf("calls after Finish wrote into the record's room: %v, was %v", recs[0].spare.attrs, room)
	}
	released = true
	close(sink.release)
}

// TestResetClearsMovedAttrRoom checks that a pooled record whose Attrs
// outgrew its room (five attributes: the first four went into the room,
// then moved to an array of their own) has its room cleared when it is
// reset: the strings the request set there are not kept for the next.
func TestResetClearsMovedAttrRoom(t *testing.T) {
	var got *Record
	rec := New(WithSinks(borrowingSink{write: func(r *Record) { got = r }}), WithBatch(1, time.Hour))
	if rec.pool == nil {
		t.Fatal("a borrowing sink: want a pool of records")
	}
	_, ar := rec.StartRecord(context.Background(), RequestInfo{Kind: KindHTTP, Method: "GET", Path: "/"})
	for i := range 5 {
		ar.AddAttr(fmt.Sprint("key", i), fmt.Sprint("secret", i))
	}
	ar.Finish()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got == nil {
		t.Fatal("the sink got no record")
	}
	if got.spare.attrs != ([4]Attr{}) {
		t.Errorf("after reset the record's room holds %v, want it zero", got.spare.attrs)
	}
}
