package grpcstats

// MaxAbandonedWaits is maxAbandonedWaits, for the tests.
const MaxAbandonedWaits = maxAbandonedWaits
