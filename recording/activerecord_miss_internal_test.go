package recording

import (
	"context"
	"encoding/binary"
	"testing"
	"time"
)

// TestActiveRecordLocksOnlyItsSlots: ActiveRecord(id) walked the whole
// in-flight table and took the lock of every record in the making in turn,
// so that a lookup of an unknown ID (any details page of a finished record
// asks) waited on each request that held its record's lock. A record is
// listed only in the slots its ID's counter picks (inflightProbe of them),
// so the lookup now reads only those: a miss whose slots are free locks no
// record, and a hit locks no record but those sharing its slots.
func TestActiveRecordLocksOnlyItsSlots(t *testing.T) {
	r := New()
	defer r.Close(context.Background())
	ctx := context.Background()
	var ars []*ActiveRecord
	for range 40 {
		_, ar := r.StartRecord(ctx, RequestInfo{Method: "GET", Path: "/"})
		ars = append(ars, ar)
	}
	defer func() {
		for _, ar := range ars {
			ar.Finish()
		}
	}()
	slotsOf := func(id ID) []int {
		h := binary.BigEndian.Uint64(id[8:])
		base := h*8 + h/(inflightSlots/8)
		var s []int
		for i := range uint64(inflightProbe) {
			s = append(s, int((base+i)&(inflightSlots-1)))
		}
		return s
	}
	// An unknown ID whose slots no record holds.
	unknown := ars[0].r.ID
	for n := uint64(1 << 20); ; n++ {
		binary.BigEndian.PutUint64(unknown[8:], n)
		free := true
		for _, j := range slotsOf(unknown) {
			free = free && r.inflight.slots[j].Load() == nil
		}
		if free {
			break
		}
	}
	target := ars[len(ars)/2]
	sharing := map[*ActiveRecord]bool{}
	for _, j := range slotsOf(target.r.ID) {
		sharing[r.inflight.slots[j].Load()] = true
	}
	// Every other record's lock is held, as by requests adding calls.
	for _, ar := range ars {
		if !sharing[ar] {
			ar.mu.Lock()
		}
	}
	lookup := func(id ID) (bool, bool) {
		done := make(chan bool, 1)
		go func() {
			_, ok := r.ActiveRecord(id)
			done <- ok
		}()
		select {
		case ok := <-done:
			return ok, true
		case <-time.After(time.Minute): // blocked: the locks are held till after both lookups
			return false, false
		}
	}
	missOK, missDone := lookup(unknown)
	hitOK, hitDone := lookup(target.r.ID)
	for _, ar := range ars {
		if !sharing[ar] {
			ar.mu.Unlock()
		}
	}
	if !missDone {
		t.Error("ActiveRecord(unknown ID) waited on the locks of records in other slots")
	} else if missOK {
		t.Error("ActiveRecord(unknown ID) found a record")
	}
	if !hitDone {
		t.Error("ActiveRecord(id) waited on the locks of records in other slots")
	} else if !hitOK {
		t.Error("ActiveRecord(id) did not find the record in the making")
	}
	// Every record in the making is found where add listed it.
	for _, ar := range ars {
		if _, ok := r.ActiveRecord(ar.r.ID); !ok {
			t.Errorf("ActiveRecord(%s): not found", ar.r.ID)
		}
	}
}
