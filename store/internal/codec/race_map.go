//go:build race

package codec

import (
	"runtime"
	"unsafe"
)

// raceReadMap tells the race detector of a read of the map whose header
// is at p, as the map's own reads do (see appendHeaders).
func raceReadMap(p unsafe.Pointer) { runtime.RaceRead(p) }
