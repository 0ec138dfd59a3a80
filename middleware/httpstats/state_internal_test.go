package httpstats

import (
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/goappstats/appstats/recording"
)

// A recorded call allocates its state in the 768-byte size class: an
// object with pointers over 512 bytes carries an 8-byte header, so the
// state must stay within 760 bytes (on 64-bit platforms), or it takes
// the 896-byte class, 128 bytes more a call.
func TestCallStateSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if n := unsafe.Sizeof(callState{}); n > 768-8 {
		t.Errorf("callState is %d bytes, over 760: it takes the 896-byte class", n)
	}
}

// TestPhasesDialRoom checks that a call's phases make room for a dial's
// events only when one comes (most calls dial nothing, and the call's
// state has no room for them), that the dial's phases are made from the
// times noted there, each event's own, and that a dial's event that comes
// after the phases were handed over is not noted, and allocates nothing.
func TestPhasesDialRoom(t *testing.T) {
	var p phases
	for _, e := range []event{gotConn, wrote, firstByte} {
		p.setLocked(e, time.Duration(e)*time.Millisecond)
	}
	if p.dial != nil {
		t.Fatal("a call's own events made room for a dial's")
	}
	for e := range gotConn {
		p.setLocked(e, time.Duration(e)*time.Millisecond)
		p.setLocked(e, time.Hour) // the first time counts
	}
	if p.dial == nil {
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

	var late phases
	late.setLocked(wrote, time.Millisecond)
	late.end(&room, 2*time.Millisecond)
	if n := testing.AllocsPerRun(10, func() {
		late.set(dnsStart)
		late.set(firstByte)
	}); n != 0 {
		t.Errorf("late events allocated %v times", n)
	}
	if late.dial != nil || late.seen&(1<<dnsStart) != 0 {
		t.Errorf("a late dial's event noted: room %v, events %b", late.dial != nil, late.seen)
	}
}

// TestRequestStateSizeClass checks that a recorded request's one object of
// its own (StartRecordFrom's: the ActiveRecord and requestState together)
// stays within 512 bytes on 64-bit platforms. An object with pointers over
// 512 bytes carries an 8-byte malloc header, and the next size class is
// 576 bytes: 64 bytes more allocated every recorded request, which the
// garbage collector paces on.
func TestRequestStateSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	type activeWith struct { // recording's activeWith[requestState]
		a recording.ActiveRecord
		x requestState
	}
	var w activeWith
	if n := unsafe.Sizeof(w); n > 512 {
		t.Errorf("a request's state is %d bytes (ActiveRecord %d, requestState %d), over 512: it takes the 576-byte class",
			n, unsafe.Sizeof(w.a), unsafe.Sizeof(w.x))
	}
}
