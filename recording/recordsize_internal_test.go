package recording

import (
	"testing"
	"unsafe"
)

// TestRecordSizeParts checks recordSizeWith's one test for a record with
// none of the parts recordSizeRest counts: for each part alone (a call, a
// warning, a header map with and without hdrBytes, hdrBytes alone, an
// execution trace) and none, the estimate is the record's own strings,
// the attributes and the header pairs, plus what recordSizeRest counts.
// It fails when the test takes a record with one of them for one without.
func TestRecordSizeParts(t *testing.T) {
	parts := map[string]func(r *Record){
		"none":         func(*Record) {},
		"call":         func(r *Record) { r.Calls = []Call{{Service: "svc", Method: "M"}} },
		"warning":      func(r *Record) { r.Warnings = []Warning{{Service: "svc", Message: "slow"}} },
		"headers":      func(r *Record) { r.Headers = map[string][]string{"Accept": {"*/*"}} },
		"hdrBytes":     func(r *Record) { r.hdrBytes = 77 },
		"both headers": func(r *Record) { r.Headers, r.hdrBytes = map[string][]string{"Accept": {"*/*"}}, 77 },
		"exec trace":   func(r *Record) { r.ExecTrace = &ExecTrace{Data: make([]byte, 100), Reason: "slow"} },
	}
	for name, set := range parts {
		r := &Record{Method: "GET", Path: "/p", Route: "GET /p", Query: "q=1", User: "u", Remote: "r", Error: "e", Panic: "p", hdrFlatBytes: 40}
		set(r)
		base := sizeRecord + int64(len("GET"+"/p"+"GET /p"+"q=1"+"u"+"r"+"e"+"p")) + 13 + 40
		if got, want := recordSizeWith(r, 13), base+recordSizeRest(r); got != want {
			t.Errorf("%s: recordSizeWith %d, want %d", name, got, want)
		}
		if name != "none" && recordSizeRest(r) == 0 {
			t.Errorf("%s: recordSizeRest counts nothing", name)
		}
	}
}

// TestRecordSizeCountsTheRecord: a queued record, and a pooled one kept
// for reuse, holds at least its Record struct (the ActiveRecord that made
// it is let go of when the request ends): recordSize and spareBytes count
// it. They counted an ActiveRecord's size instead, 304 bytes against a
// Record's 440 on 64-bit platforms, so WithQueueBytes let through up to 45%
// more small records than its bound, and Stats.QueueBytes read low.
func TestRecordSizeCountsTheRecord(t *testing.T) {
	want := int64(unsafe.Sizeof(Record{}))
	if got := recordSize(&Record{}); got < want {
		t.Errorf("recordSize of an empty record %d, want at least a Record's %d", got, want)
	}
	if got := spareBytes(&Record{}); got < want {
		t.Errorf("spareBytes of an empty record %d, want at least a Record's %d", got, want)
	}
}
