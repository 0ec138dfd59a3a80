package recording

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestRecorderFieldGroupsApart checks that the Recorder's fields that
// every request reads, those that every recorded request writes, those
// written now and then, and the writer goroutine's own state lie at least
// a cache line (64 bytes) apart, wherever the Recorder starts: a write to
// one group must not take the others' lines from the cores that read
// them.
func TestRecorderFieldGroupsApart(t *testing.T) {
	groups := [][]string{
		{"cfg", "ids", "sym", "q", "sinks", "stop", "done", "stacks", "kick", "kickAt", "sinkCtx", "sinkCancel",
			"inflight", "flush", "closed", "drained", "paused", "idle", "flight", "pool", "spares", "keptPub", "log"},
		{"callHint", "allocHint", "frameHint", "roomHint", "finishCost"},
		{"sampledOut", "pausedOut", "filtered", "dropped", "written", "droppedCalls", "lateCalls", "traced", "traceLimited", "ticks", "kicks", "closeOnce"},
		{"secretNames", "secretRecent", "writerScrub", "analysis", "keptHdr", "poolHdr", "lastAttrs"},
	}
	typ := reflect.TypeFor[Recorder]()
	named := make(map[string]bool)
	span := make([][2]uintptr, len(groups)) // first byte, byte past the last
	for i, g := range groups {
		for j, name := range g {
			f, ok := typ.FieldByName(name)
			if !ok {
				t.Fatalf("Recorder has no field %s", name)
			}
			named[name] = true
			lo, hi := f.Offset, f.Offset+f.Type.Size()
			if j == 0 || lo < span[i][0] {
				span[i][0] = lo
			}
			span[i][1] = max(span[i][1], hi)
		}
	}
	// A new field must be placed in a group (and named here).
	for i := range typ.NumField() {
		if f := typ.Field(i); f.Name != "_" && !named[f.Name] {
			t.Errorf("Recorder.%s is in no group of this test", f.Name)
		}
	}
	for i := range groups {
		for j := i + 1; j < len(groups); j++ {
			a, b := span[i], span[j]
			if b[0] < a[1]+64 && a[0] < b[1]+64 {
				t.Errorf("groups %d (bytes %d-%d) and %d (bytes %d-%d) are less than 64 bytes apart", i, a[0], a[1], j, b[0], b[1])
			}
		}
	}
}

// TestRecordSizeClass checks that a Record takes at most 512 bytes, the
// largest size class whose objects with pointers carry no 8-byte malloc
// header (a Record takes the 448-byte class). Records a keeping sink
// (otelexport) is given are allocated one a recorded request, and kept. Until
// the twentieth round a Record took 576 bytes, the 640-byte class with its
// header: its spare was 136 bytes of its own, where a pointer does.
func TestRecordSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	if n := reflect.TypeFor[Record]().Size(); n > 512 {
		t.Errorf("a Record takes %d bytes, over 512: with its malloc header, it takes the 576-byte size class or more", n)
	}
}

// TestQueueCountersShareTailLine checks that the queue's counters every
// recorded request writes (tail, bytes) lie in 16 bytes at an offset that is
// a multiple of 16 (the allocator places an object of the queue's size, a
// multiple of 16, at such an address), so on one cache line, and that the
// head, which the preparer writes, is a line apart from them.
func TestQueueCountersShareTailLine(t *testing.T) {
	typ := reflect.TypeFor[recordQueue]()
	off := func(name string) uintptr {
		f, ok := typ.FieldByName(name)
		if !ok {
			t.Fatalf("recordQueue has no field %s", name)
		}
		return f.Offset
	}
	tail, bytes, head := off("tail"), off("bytes"), off("head")
	if bytes != tail+8 || tail%16 != 0 {
		t.Errorf("tail at %d, bytes at %d: want tail at a multiple of 16, bytes right after it", tail, bytes)
	}
	if size := typ.Size(); size%16 != 0 {
		t.Errorf("recordQueue takes %d bytes, not a multiple of 16", size)
	}
	if head < tail+64 {
		t.Errorf("head at %d, less than a line past tail (%d)", head, tail)
	}
}

// TestPooledRecordSizeClass checks that a pooled record and its spare, one
// object (newPooledRecord), stay within the 768-byte size class with the
// 8-byte malloc header an object with pointers over 512 bytes carries: the
// spare's reserved count, which the pool's get and putAll read and write
// instead of a slice of their own, took 8 of the 16 bytes the 640-byte
// class left; the room for the first four attributes (128 bytes, moved
// from the ActiveRecord, which a request allocates) took it to 768.
func TestPooledRecordSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	n := unsafe.Sizeof(struct {
		rec Record
		sp  spare
	}{})
	if n+8 > 768 {
		t.Errorf("a pooled record and its spare take %d bytes and an 8-byte header, over the 768-byte size class", n)
	}
}
