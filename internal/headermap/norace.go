//go:build !race

package headermap

import "unsafe"

// raceReadMap does nothing without the race detector (see the race
// version).
func raceReadMap(unsafe.Pointer) {}
