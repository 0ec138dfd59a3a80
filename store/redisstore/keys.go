package redisstore

import (
	"encoding/binary"
	"strconv"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/internal/storekit"
)

// keys names the store's keys (see the package documentation for the
// layout). Every key of one hour shares the hash tag {prefix:hour}, so that
// the commands and transactions on an hour stay in one Redis Cluster slot.
type keys struct{ prefix string }

// hourKeys are the keys of one hour.
type hourKeys struct {
	recs    string // hash: ID (16 bytes) → full record
	sums    string // sorted set, scores 0: start(8) | ID(16) | summary, in byte order
	deltas  string // list: minute (varint) | rollup of one write's records of that minute
	rollups string // hash: "h" → hour rollup, "0".."59" → minute rollups; "o…" → their overall parts
	bytes   string // integer: the hour's size, as MaxBytes counts it
	lease   string // string: the process folding the hour's deltas
}

func (k keys) hour(h int64) hourKeys {
	tag := "{" + k.prefix + ":" + strconv.FormatInt(h, 10) + "}:"
	return hourKeys{
		recs:    tag + "r",
		sums:    tag + "s",
		deltas:  tag + "d",
		rollups: tag + "u",
		bytes:   tag + "b",
		lease:   tag + "f",
	}
}

func (hk hourKeys) all() []string {
	return []string{hk.recs, hk.sums, hk.deltas, hk.rollups, hk.bytes, hk.lease}
}

// hours is a sorted set of the hours that hold data (score and member: the
// hour number).
func (k keys) hours() string { return k.prefix + ":hours" }

// ids is a hash from ID to hour for the records whose ID's time falls in
// another hour than their start (records not made by a recorder).
func (k keys) ids() string { return k.prefix + ":ids" }

// moveLock is the lock of a record's ID while a write settles it in its
// new hour (see settleMoved).
func (k keys) moveLock(id string) string { return k.prefix + ":mv:" + id }

// retain is the lease of the process enforcing retention.
func (k keys) retain() string { return k.prefix + ":retain" }

// events is the channel that announces writes and clears.
func (k keys) events() string { return k.prefix + ":events" }

// hourRollup is the field of the hour rollup in an hour's rollups hash.
const hourRollup = "h"

// overall names the field that holds the overall part of field f's rollup
// (codec.AppendOverall): what Series reads.
func overall(f string) string { return "o" + f }

// minuteField is the field of minute m's rollup in its hour's hash.
func minuteField(m int64) string { return strconv.FormatInt(m-60*storekit.FloorDiv(m, 60), 10) }

// hourOf returns the hour of a time in Unix nanoseconds.
func hourOf(ns int64) int64 { return storekit.FloorDiv(ns, storekit.NsHour) }

// minuteOf returns the minute of a time in Unix nanoseconds.
func minuteOf(ns int64) int64 { return storekit.FloorDiv(ns, storekit.NsMinute) }

// timeKey encodes a signed time so that byte order is numeric order.
func timeKey(b []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(v)^(1<<63))
}

// keyTime decodes what timeKey encoded.
func keyTime(b []byte) int64 { return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)) }

// sumKeyLen is the length of a summary member's key part: start and ID.
const sumKeyLen = 24

// sumKey returns start | id, the part of a summary member that orders it
// (and a List cursor).
func sumKey(start int64, id recording.ID) []byte {
	return append(timeKey(make([]byte, 0, sumKeyLen), start), id[:]...)
}
