package badgerstore

import (
	"fmt"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/storetest"
)

// layoutStart is the start of the first of layoutRecords.
var layoutStart = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

// layoutRecords returns the 48 records of testdata/v1-store, the same on
// every call: full records and 20-call ones, on four routes, some failed,
// one in three with an execution trace, a record every 250 ms.
func layoutRecords() []*recording.Record {
	routes := []string{"GET /users/{id}", "POST /orders", "GET /shop/{id}", ""}
	out := make([]*recording.Record, 48)
	for i := range out {
		st := layoutStart.Add(time.Duration(i) * 250 * time.Millisecond)
		var r *recording.Record
		if i%2 == 0 {
			r = storetest.FullRecord(st, uint32(i))
		} else {
			r = storetest.Record20(st, uint32(i))
		}
		r.Route = routes[i%len(routes)]
		r.Duration = time.Duration(i+1) * 3 * time.Millisecond
		r.Status = []int{200, 200, 404, 500}[i%4]
		if r.Status < 500 {
			r.Error, r.Panic = "", ""
		}
		r.Path = fmt.Sprintf("/p/%d", i)
		r.Instance = fmt.Sprintf("host/%d", i%3)
		if i%3 == 0 {
			data := storetest.TraceData(uint64(i), 512+i)
			r.ExecTrace = &recording.ExecTrace{Data: data, Size: int64(len(data)), Taken: st.Add(r.Duration), Reason: "slow"}
		}
		out[i] = r
	}
	return out
}
