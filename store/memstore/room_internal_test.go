package memstore

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestRoomFullBufferOnce checks that a store filled a record at a time,
// then written on past its capacity, allocates a buffer longer than its
// capacity once, the full store's, and never grows it again, and that the
// buffers before it take less than the full one: at most a quarter of the
// capacity each.
func TestRoomFullBufferOnce(t *testing.T) {
	for _, capacity := range []int{1, 7, 100, 5000} {
		st := New(capacity)
		var sizes []int // the lengths of the buffers room made, in order
		for i := range 4*capacity + 10 {
			r := &recording.Record{Start: time.Unix(0, int64(i+1)), Route: "/"}
			binary.BigEndian.PutUint64(r.ID[:8], uint64(i+1))
			if err := st.Write(context.Background(), []*recording.Record{r}); err != nil {
				t.Fatal(err)
			}
			if n := len(st.buf); len(sizes) == 0 || sizes[len(sizes)-1] != n {
				sizes = append(sizes, n)
			}
		}
		over := 0
		for _, n := range sizes {
			if n > capacity+1 {
				over++
			} else if n > max(capacity/4, 16) {
				t.Errorf("capacity %d: a buffer of %d before the full one", capacity, n)
			}
		}
		if over != 1 || sizes[len(sizes)-1] < 2*(capacity+1) {
			t.Errorf("capacity %d: buffers of %v, want one over the capacity, the last, of at least %d", capacity, sizes, 2*(capacity+1))
		}
		if st.Len() != capacity {
			t.Errorf("capacity %d: Len %d", capacity, st.Len())
		}
		st.Close()
	}
}
