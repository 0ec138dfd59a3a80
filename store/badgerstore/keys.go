package badgerstore

import (
	"encoding/binary"
	"time"

	"github.com/goappstats/appstats/recording"
)

// Key prefixes (see the package documentation for the layout).
const (
	pSummary  = 's' // s | start(8) | id(16) -> summary, or where it is in a summary block
	pRecord   = 'f' // f | id(16) -> full record, or where it is in a block
	pBlock    = 'b' // b | last start(8) | seq(8) -> block of full records
	pSumBlock = 'c' // c | last start(8) | seq(8) -> block of summaries
	pDelta    = 'd' // d | minute(8) | seq(8) -> rollup of one write's records of that minute
	pMinute   = 'm' // m | minute(8) -> rollup
	pHour     = 'h' // h | hour(8) -> rollup
	pMarker   = 'z' // z -> scratch key used to force a memtable flush
	pMeta     = 'x' // x -> record count and size, written by a clean Close
	pTrace    = 't' // t | snapshot id(16) -> an execution trace's data
	pTraceRef = 'u' // u | id(16) -> snapshot id: the record's trace; u | snapshot id | id -> (empty): its referrer
)

// nsMinute is a minute in nanoseconds: minute m of a d or m key spans
// [m·nsMinute, (m+1)·nsMinute) in Unix nanoseconds, and hour h of an h key
// minutes [60h, 60h+60).
const nsMinute = int64(time.Minute)

// timeKey encodes a signed time so that byte order is numeric order.
func timeKey(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(v)^(1<<63))
}

// keyTime decodes what timeKey encoded.
func keyTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

// floorDiv divides rounding down, also for times before 1970.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// summaryKey is s | start | id: summaries sort by start time.
func summaryKey(start int64, id recording.ID) []byte {
	k := timeKey(make([]byte, 1, 25), start)
	k[0] = pSummary
	return append(k, id[:]...)
}

// idTime is the time an ID holds (see recording.ID): the start of the
// record, for IDs made by a recorder.
func idTime(id recording.ID) int64 { return int64(binary.BigEndian.Uint64(id[:8])) }

// recordKey is f | id.
func recordKey(id recording.ID) []byte {
	return append([]byte{pRecord}, id[:]...)
}

// traceKey is t | id.
func traceKey(id recording.ID) []byte {
	return append([]byte{pTrace}, id[:]...)
}

// traceRefKey is u | id: the snapshot the record id refers to.
func traceRefKey(id recording.ID) []byte {
	return append([]byte{pTraceRef}, id[:]...)
}

// referrerKey is u | snapshot | id: the record id refers to the snapshot.
func referrerKey(snapshot, id recording.ID) []byte {
	return append(append(append(make([]byte, 0, 33), pTraceRef), snapshot[:]...), id[:]...)
}

// bucketKey is p | n, for the minute (d, m) and hour (h) prefixes.
func bucketKey(p byte, n int64) []byte { return timeKey([]byte{p}, n) }
