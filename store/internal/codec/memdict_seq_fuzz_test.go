package codec

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

// FuzzMemDictSequence writes a run of records against one dictionary,
// each string of each record (the head's, one header's name and two
// values, three attributes) chosen by the fuzzer's ops from: the previous
// record's very string, a string made afresh of its bytes (the match by
// bytes, sameBytes8/sameBytes24), or one of the fuzzer's strings (some
// differing from one of them in its last or middle byte only, or in
// length only), made afresh.
// Every record decodes, and its summary reads, as the same record written
// without a dictionary, with the dictionary's strings as they were when it
// was written and as they are once the run is written: a false match by
// bytes would read another field's string.
func FuzzMemDictSequence(f *testing.F) {
	f.Add([]byte("GET|POST|/a|/b|/users/42|Mozilla/5.0 (X11)|abcdefghijklmnopqrstuvwx|abcdefghijklmnopqrstuvwy"), []byte{0, 1, 2, 3, 1, 1, 0, 2, 4, 5, 1, 0, 7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, uint8(8))
	f.Add([]byte("x|xx|xxx|xxxxxxxxx|xxxxxxxxxxxxxxxxxxxxxxxxx|y"), []byte{1, 4, 1, 7, 1, 10, 1, 13, 16, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, uint8(3))
	// A string in full, its bytes again (into the dictionary), then a
	// string of its length whose middle byte differs.
	f.Add([]byte("abcdefghijklmnopqrstuvwx"), append(append(bytes.Repeat([]byte{2}, 15), bytes.Repeat([]byte{1}, 15)...), bytes.Repeat([]byte{11}, 15)...), uint8(20))
	f.Add([]byte("abcdefghijklmnopq"), append(append(bytes.Repeat([]byte{2}, 15), bytes.Repeat([]byte{1}, 15)...), bytes.Repeat([]byte{11}, 15)...), uint8(20))
	f.Fuzz(func(t *testing.T, words, ops []byte, maxStrings uint8) {
		pool := strings.Split(string(words), "|")
		if len(pool) > 64 || len(ops) > 512 {
			return
		}
		// Besides the fuzzer's own, each string with its last byte
		// changed, one byte longer, and with its middle byte changed: equal
		// lengths, other bytes.
		for _, w := range pool[:len(pool):len(pool)] {
			if w != "" {
				mid := []byte(w)
				mid[len(w)/2] ^= 1
				pool = append(pool, w[:len(w)-1]+string(w[len(w)-1]^1), w+"z", string(mid))
			}
		}
		m := &MemDict{MaxStrings: int(maxStrings%32) + 1}
		var prev [15]string
		pick := func(k int) string {
			if len(ops) == 0 {
				return prev[k]
			}
			op := int(ops[0])
			ops = ops[1:]
			switch op % 3 {
			case 0: // the previous record's very string
				return prev[k]
			case 1: // its bytes, afresh
				return strings.Clone(prev[k])
			}
			return strings.Clone(pool[op/3%len(pool)])
		}
		type written struct {
			b    []byte
			r    *recording.Record
			strs []string
		}
		var all []written
		for i := 0; i < 40 && len(ops) > 0; i++ {
			var s [15]string
			for k := range s {
				s[k] = pick(k)
			}
			prev = s
			r := storetest.FullRecord(time.Unix(1700000000, int64(i)), uint32(i))
			r.Method, r.Path, r.Route, r.Query, r.User = s[0], s[1], s[2], s[3], s[4]
			r.Remote, r.Instance, r.Error, r.Panic = s[5], s[6], s[7], s[8]
			r.Headers = map[string][]string{s[9]: {s[10], s[11]}}
			r.Attrs = []recording.Attr{{Key: s[12], Value: s[13]}, {Key: "k", Value: s[14]}}
			b := AppendRecordWithoutStacksDict(nil, r, m)
			checkDict(t, fmt.Sprintf("record %d", i), b, m.Strings(), r)
			all = append(all, written{b, r, m.Strings()})
		}
		for i, w := range all {
			checkDict(t, fmt.Sprintf("record %d later", i), w.b, m.Strings(), w.r)
			checkDict(t, fmt.Sprintf("record %d as written", i), w.b, w.strs, w.r)
		}
	})
}
