//go:build race

package headermap

import (
	"runtime"
	"unsafe"
)

// raceReadMap tells the race detector of a read of the map whose header
// is at p, as the map's own look-ups do (see Small).
func raceReadMap(p unsafe.Pointer) { runtime.RaceRead(p) }
