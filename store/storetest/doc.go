// Package storetest is the conformance suite every [store.Store] passes.
//
// An implementation's test calls [Run] with a function that opens a fresh,
// empty store:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := mystore.Open(t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// The suite checks round trips of full records, the sentinel errors, List's
// order, filters and paging, Stats and Series against an exact computation
// (percentiles within 1%, the relative error of the sketches the module's
// stores use), Clear, Close, records written again with their IDs, at
// their start, at another in their hour and in another hour (listed once,
// with the summary written last), and
// concurrent writers and readers (run it with -race).
package storetest
