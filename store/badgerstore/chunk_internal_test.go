package badgerstore

import (
	"runtime"
	"testing"
	"unsafe"
)

// TestChunkKeptAcrossCollections gives a chunk back and takes one again
// after two collections, which empty a sync.Pool: it is the same chunk,
// kept as the spare, emptied; a second chunk given back while the spare
// is held goes to the pool; a buffer larger than a chunk is not kept.
func TestChunkKeptAcrossCollections(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := append(s.chunk(100), "encoded values"...)
	if cap(c) != chunkSize {
		t.Fatalf("chunk of %d bytes, want %d", cap(c), chunkSize)
	}
	p := unsafe.SliceData(c)
	s.putChunk(c)
	runtime.GC()
	runtime.GC()
	got := s.chunk(100)
	if unsafe.SliceData(got) != p || len(got) != 0 || cap(got) != chunkSize {
		t.Fatalf("chunk after two collections: new or not empty (len %d, cap %d); want the one given back", len(got), cap(got))
	}
	// The spare is taken: a chunk given back now is the spare, and one
	// more goes to the pool.
	other := s.chunk(100)
	if unsafe.SliceData(other) == p {
		t.Fatal("the spare chunk handed out twice")
	}
	s.putChunk(got)
	s.putChunk(other)
	if sp := s.spareChunk.Load(); sp == nil || unsafe.SliceData(*sp) != p {
		t.Error("the first chunk given back is not the spare")
	}
	big := s.chunk(chunkSize + 1)
	if cap(big) < chunkSize+1 {
		t.Fatalf("chunk(%d) has room for %d", chunkSize+1, cap(big))
	}
	s.spareChunk.Store(nil)
	s.putChunk(big)
	if s.spareChunk.Load() != nil {
		t.Error("a buffer larger than a chunk kept as the spare")
	}
}
