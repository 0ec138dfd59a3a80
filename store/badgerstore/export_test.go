package badgerstore

import (
	"encoding/hex"
	"math/rand/v2"

	"github.com/goappstats/appstats/recording"
)

// Noisy adds to r an attribute of n random hex digits, the same for the
// same seed, and returns r. Blocks of records compress (see block.go), so
// tests of disk space write records with noise, whose stored size is about
// their encoded size.
func Noisy(r *recording.Record, seed uint64, n int) *recording.Record {
	b := make([]byte, (n+1)/2)
	rng := rand.New(rand.NewPCG(seed, 13))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	r.Attrs = append(r.Attrs, recording.Attr{Key: "noise", Value: hex.EncodeToString(b)[:n]})
	return r
}
