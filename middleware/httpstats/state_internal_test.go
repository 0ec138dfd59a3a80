package httpstats

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// A recorded call's state is carved from its record's chunks, fresh memory
// every call: 632 bytes until the thirty-seventh round, when the copy of
// the outgoing request (304 bytes) moved to the header's entry, which an
// *http.Transport base reuses. The state must stay within 328 bytes (on
// 64-bit platforms), and must not hold the request's copy again: what it
// holds (the call's context, trace, hooks, phases and body) may be reached
// after the call ended, so it is never reused.
func TestCallStateSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(callState{}); n > 328 {
		t.Errorf("callState is %d bytes, over 328", n)
	}
}

// TestPhasesDialRoom checks that a call's phases make room for a dial's
// events only when one comes (most calls dial nothing, and the call's
// state has no room for them), that the dial's phases are made from the
// times noted there, each event's own, and that a dial's event that comes
// after the phases were handed over is not noted, and allocates nothing.
func TestPhasesDialRoom(t *testing.T) {
	var st callState // phases are used only as a call's state's
	p := &st.pt
	for _, e := range []event{gotConn, wrote, firstByte} {
		p.setLocked(e, time.Duration(e)*time.Millisecond)
	}
	if p.rare.Load() != nil {
		t.Fatal("a call's own events made room for a dial's")
	}
	for e := range gotConn {
		p.setLocked(e, time.Duration(e)*time.Millisecond)
		p.setLocked(e, time.Hour) // the first time counts
	}
	if p.rare.Load() == nil {
		t.Fatal("a dial's events made no room")
	}
	for e := range numEvents {
		if got, want := p.when(e), time.Duration(e)*time.Millisecond; got != want {
			t.Errorf("event %d came at %v, want %v", e, got, want)
		}
	}
	var room endRoom
	u := p.end(&room, 10*time.Millisecond)
	want := []recording.Phase{
		{Name: "dns", Start: 0, Duration: time.Millisecond},
		{Name: "connect", Start: 2 * time.Millisecond, Duration: time.Millisecond},
		{Name: "tls", Start: 4 * time.Millisecond, Duration: time.Millisecond},
		{Name: "send", Start: 6 * time.Millisecond, Duration: time.Millisecond},
		{Name: "wait", Start: 7 * time.Millisecond, Duration: time.Millisecond},
		{Name: "receive", Start: 8 * time.Millisecond, Duration: 2 * time.Millisecond},
	}
	if !slices.Equal(u.Phases, want) {
		t.Errorf("phases %v, want %v", u.Phases, want)
	}

	var lateSt callState
	late := &lateSt.pt
	late.setLocked(wrote, time.Millisecond)
	late.end(&room, 2*time.Millisecond)
	if n := testing.AllocsPerRun(10, func() {
		late.set(dnsStart)
		late.set(firstByte)
	}); n != 0 {
		t.Errorf("late events allocated %v times", n)
	}
	if late.rare.Load() != nil || late.seen&(1<<dnsStart) != 0 {
		t.Errorf("a late dial's event noted: room %v, events %b", late.rare.Load() != nil, late.seen)
	}
}

// TestRequestStateSizeClass checks that a recorded request's one object of
// its own (StartRecordFrom's: the ActiveRecord and requestState together)
// stays within the 384-byte size class on 64-bit platforms: every byte of
// it is allocated every recorded request, which the garbage collector
// paces on. It took 512 until the record's room for its first four
// attributes (128 bytes) moved to the record's spare (thirty-second
// round); the next class is 416.
func TestRequestStateSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	type activeWith struct { // recording's activeWith[requestState]
		a recording.ActiveRecord
		x requestState
	}
	var w activeWith
	if n := unsafe.Sizeof(w); n > 384 {
		t.Errorf("a request's state is %d bytes (ActiveRecord %d, requestState %d), over 384: it takes the 416-byte class or more",
			n, unsafe.Sizeof(w.a), unsafe.Sizeof(w.x))
	}
}

// TestRareRoomOnlyWhenNeeded checks that a call's room for what few calls
// have (rareRoom: a dial's events and the net package's hooks, a request
// body counted as it is sent) is made only for a call that has one of
// them: the first call dials, and gets its connect phase from the net
// package's hooks there; the next, on the connection left open, makes no
// room; a body of unknown length is counted there, and recorded as sent.
func TestRareRoomOnlyWhenNeeded(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	base := &http.Transport{}
	defer base.CloseIdleConnections()
	client := &http.Client{Transport: NewTransport(base)}
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	rooms := make([]bool, 0, 3)
	for i, body := range []io.Reader{nil, nil, io.MultiReader(strings.NewReader("seven b"))} {
		method := "GET"
		if body != nil {
			method = "POST"
		}
		req, err := http.NewRequestWithContext(ctx, method, srv.URL+"/"+strconv.Itoa(i), body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		st, ok := resp.Body.(*callState)
		if !ok {
			t.Fatalf("call %d: the body is a %T, not the call's state", i, resp.Body)
		}
		rooms = append(rooms, st.pt.rare.Load() != nil)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	ar.Finish()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := []bool{true, false, true}; !slices.Equal(rooms, want) {
		t.Errorf("rooms made %v, want %v (a dial, a call on the open connection, a counted body)", rooms, want)
	}
	rs := sink.Records()
	if len(rs) != 1 || len(rs[0].Calls) != 3 {
		t.Fatalf("%d records, want 1 of 3 calls", len(rs))
	}
	calls := rs[0].Calls
	var phases []string
	for _, p := range calls[0].Phases {
		phases = append(phases, p.Name)
	}
	if !slices.Contains(phases, "connect") {
		t.Errorf("the first call's phases %v have no connect phase: its dial's hooks were not heard", phases)
	}
	for _, p := range calls[1].Phases {
		if p.Name == "connect" || p.Name == "dns" {
			t.Errorf("the call on the open connection has a %s phase", p.Name)
		}
	}
	if calls[2].RequestSize != 7 {
		t.Errorf("the counted body's size is %d, want 7", calls[2].RequestSize)
	}
}
