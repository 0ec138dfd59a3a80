package recording

import (
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// liveHeap is the heap's live bytes after a collection.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestSnapshotKeepsNoBuffer: between snapshots a flight keeps no buffer of
// its own: a snapshot's bytes are held by the records it went to, and go
// with them. (The flight kept the buffer it wrote the last snapshot into,
// as large as the snapshot or larger, for as long as the recorder ran.)
func TestSnapshotKeepsNoBuffer(t *testing.T) {
	f, err := startFlight(&FlightRecording{Threshold: time.Nanosecond, PerMinute: 10, MinAge: time.Second, MaxBytes: 8 << 20})
	if err != nil {
		t.Skip(err) // another flight recorder runs
	}
	defer func() { f.stop() }() // f, not a copy of it: the test drops it
	// Scheduling events for the window: pairs of goroutines handing a
	// token back and forth.
	var wg sync.WaitGroup
	for range 4 {
		ping, pong := make(chan struct{}), make(chan struct{})
		wg.Go(func() {
			for range 20000 {
				ping <- struct{}{}
				<-pong
			}
			close(ping)
		})
		wg.Go(func() {
			for range ping {
				pong <- struct{}{}
			}
		})
	}
	wg.Wait()
	rec := &Record{ID: ID{1}, Route: "GET /", Duration: time.Second}
	traced, _, err := f.attach([]*Record{rec}, time.Now())
	if err != nil || traced != 1 {
		t.Fatalf("attach: %d traced, %v", traced, err)
	}
	n := rec.ExecTrace.Size
	if n < 256<<10 {
		t.Skipf("a snapshot of %d bytes: too small to tell a kept buffer from the heap's noise", n)
	}
	f.stop() // the runtime's window goes
	rec = nil
	withFlight := liveHeap()
	runtime.KeepAlive(f)
	f = nil
	without := liveHeap()
	if kept := int64(withFlight) - int64(without); kept > n/4 {
		t.Errorf("the flight keeps %d bytes after a snapshot of %d; want none of it", kept, n)
	}
}
