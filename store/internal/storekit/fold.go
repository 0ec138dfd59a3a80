package storekit

import (
	"cmp"
	"slices"
	"time"
)

// Fold bounds an aggregate's map as [store.DefaultMaxKeys] documents: it
// keeps the n entries of m that come first in the order of rank and merges
// every other entry into m[other] (made with mk if missing), which is
// neither counted in n nor folded itself. m then holds at most n+1
// entries. n <= 0 means no limit.
func Fold[K comparable, V any](m map[K]*V, n int, other K, rank func(ka K, a *V, kb K, b *V) int, mk func() *V, merge func(dst, src *V)) {
	extra := len(m) - n
	if _, ok := m[other]; ok {
		extra--
	}
	if n <= 0 || extra <= 0 {
		return
	}
	keys := make([]K, 0, len(m))
	for k := range m {
		if k != other {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b K) int { return rank(a, m[a], b, m[b]) })
	dst := m[other]
	if dst == nil {
		dst = mk()
		m[other] = dst
	}
	for _, k := range keys[n:] {
		merge(dst, m[k])
		delete(m, k)
	}
}

// Rank orders aggregate entries for [Fold]: more requests or calls first,
// then more total time; 0 for a tie, which the caller breaks by key so
// that the same entries are kept whatever the map's order.
func Rank(countA int64, totalA time.Duration, countB int64, totalB time.Duration) int {
	if c := cmp.Compare(countB, countA); c != 0 {
		return c
	}
	return cmp.Compare(totalB, totalA)
}

// CompareKeys compares keys of several strings, field by field.
func CompareKeys[K [2]string | [3]string](a, b K) int {
	for i := range len(a) {
		if c := cmp.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}
