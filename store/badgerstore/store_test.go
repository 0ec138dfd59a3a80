package badgerstore_test

import (
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

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, badgerstore.Options{}) })
}

// TestConformanceFolding folds rollup deltas as often as possible, so the
// suite also reads minute and hour rollups rather than pending deltas.
func TestConformanceFolding(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openTest(t, badgerstore.Options{FoldInterval: time.Millisecond})
	})
}
