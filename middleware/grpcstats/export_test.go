package grpcstats

// MaxAbandonedWaits is maxAbandonedWaits, for the tests.
const MaxAbandonedWaits = maxAbandonedWaits

// OpenPeers counts the connections whose peer address h, a client
// handler, holds.
func OpenPeers(h any) int {
	n := 0
	h.(*clientHandler).peers.Range(func(any, any) bool { n++; return true })
	return n
}
