package badgerstore

import (
	"encoding/hex"
	"math/rand/v2"

	"github.com/dgraph-io/badger/v4"

	"github.com/goappstats/appstats/recording"
)

// LocksDir says that the store locks its directory itself on this
// platform, and so reports a directory in use with ErrLocked.
const LocksDir = locksDir

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

// recordRef returns the ref of the record with ID id into its block, as
// the tests that look at blocks need it.
func recordRef(txn *badger.Txn, id recording.ID) (ref, error) {
	s := &Store{}
	loc, err := s.locate(txn, id, nil)
	if err != nil {
		return ref{}, err
	}
	if loc.blk != nil {
		return loc.blk.ents[loc.i].rec, nil
	}
	var rf ref
	err = loc.item.Value(func(v []byte) error {
		if isPair(v) {
			_, rf, err = decodePair(v)
		} else {
			rf, err = decodeRef(v)
		}
		return err
	})
	return rf, err
}
