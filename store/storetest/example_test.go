package storetest_test

import (
	"testing"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/store/storetest"
)

// An implementation runs the suite from a test, opening a fresh store for
// each part.
func ExampleRun() {
	_ = func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New(0) })
	}
}
