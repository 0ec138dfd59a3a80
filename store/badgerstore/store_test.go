package badgerstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/storetest"
)

func openTest(t *testing.T, opts badgerstore.Options) *badgerstore.Store {
	t.Helper()
	s, err := badgerstore.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the suite on a store that persists every record,
// and on one with a budget of five records per route and second (the
// suite writes fewer), which must then keep every record too.
func TestConformance(t *testing.T) {
	for _, budget := range []int{-1, 5} {
		t.Run(fmt.Sprintf("budget=%d", budget), func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				return openTest(t, badgerstore.Options{RecordBudget: budget})
			})
		})
	}
}

// TestConformanceFolding folds rollup deltas as often as possible, so the
// suite also reads minute and hour rollups rather than pending deltas.
func TestConformanceFolding(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, badgerstore.Options{FoldInterval: time.Millisecond})
	})
}
