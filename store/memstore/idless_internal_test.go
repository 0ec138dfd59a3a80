package memstore

import (
	"bytes"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// TestIDLessOrdersAsBytesCompare checks that idLess, Write's check of
// whether a record is older than the newest stored, orders IDs as
// bytes.Compare does: by either half, the high bit of a byte, the last
// byte, equal IDs.
func TestIDLessOrdersAsBytesCompare(t *testing.T) {
	var ids []recording.ID
	for _, at := range []int{0, 7, 8, 15} {
		for _, v := range []byte{0, 1, 0x7f, 0x80, 0xff} {
			var id recording.ID
			id[at] = v
			ids = append(ids, id)
			id[15-at] ^= 0x5a
			ids = append(ids, id)
		}
	}
	ids = append(ids, recording.ID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	for i := range ids {
		for j := range ids {
			a, b := ids[i], ids[j]
			if got, want := idLess(&a, &b), bytes.Compare(a[:], b[:]) < 0; got != want {
				t.Errorf("idLess(%x, %x) = %v, bytes.Compare says %v", a, b, got, want)
			}
		}
	}
}
