package codec

import "testing"

// TestReserveSpan: the span to reserve covers the last one's, with a
// quarter of its width (at least 8) on either side where that stays
// within what Reserve reserves, and less margin where it would not; a
// span Reserve refuses gives none.
func TestReserveSpan(t *testing.T) {
	for lo := 0; lo <= 40; lo += 20 {
		for w := 0; w < 600; w++ {
			hi := lo + w
			rlo, rhi, ok := ReserveSpan(lo, hi)
			if w >= maxReservedSpan {
				if ok {
					t.Errorf("%d..%d: %d..%d, want none", lo, hi, rlo, rhi)
				}
				continue
			}
			if !ok || rlo > lo || rhi < hi || rhi-rlo >= maxReservedSpan || rlo < 0 {
				t.Fatalf("%d..%d: %d..%d (%v), want a span covering it, from 0 on, under %d buckets", lo, hi, rlo, rhi, ok, maxReservedSpan)
			}
			if m := max(8, w/4); w+2*m < maxReservedSpan && (rhi != hi+m || rlo != max(0, lo-m)) {
				t.Errorf("%d..%d: %d..%d, want a margin of %d on either side", lo, hi, rlo, rhi, m)
			}
			ru := NewRollup()
			ru.Reserve(rlo, rhi)
			if !ru.hasSpan {
				t.Errorf("%d..%d: Reserve(%d, %d) reserved nothing", lo, hi, rlo, rhi)
			}
		}
	}
	if _, _, ok := ReserveSpan(5, 4); ok {
		t.Error("an empty span gave one")
	}
}
