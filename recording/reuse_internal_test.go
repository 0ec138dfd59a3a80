package recording

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// fillCall sets every field of c (a field added later too): strings on
// the heap, slices and pointers to memory of their own, numbers and flags
// not zero.
func fillCall(t *testing.T, c *Call, i int) {
	t.Helper()
	typ := reflect.TypeFor[Call]()
	v := reflect.ValueOf(c).Elem()
	for j := range typ.NumField() {
		f := reflect.NewAt(v.Field(j).Type(), unsafe.Pointer(v.Field(j).UnsafeAddr())).Elem()
		switch f.Kind() {
		case reflect.String:
			f.SetString(strings.Repeat("x", i+1) + typ.Field(j).Name) // on the heap
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			f.SetUint(uint64(i + 1))
		case reflect.Float32, reflect.Float64:
			f.SetFloat(float64(i + 1))
		case reflect.Array:
			for k := range f.Len() {
				f.Index(k).SetUint(uint64(i + 1))
			}
		default:
			t.Fatalf("Call.%s is a %s, which fillCall does not know", typ.Field(j).Name, f.Kind())
		}
		if f.IsZero() {
			t.Fatalf("call %d: %s was not set", i, typ.Field(j).Name)
		}
	}
}

// TestResetZeroesCalls checks that a record emptied for reuse leaves its
// calls' array zero wherever its last request used it — every word, not
// only pointers: the next request's calls are made in it as zero memory
// (see callLocked) — the calls its spare counts, and those its Calls had
// past them in the same array (a stream's close event appended in place);
// and that the array is kept, empty.
func TestResetZeroesCalls(t *testing.T) {
	rec := &Record{spare: new(spare)}
	calls := make([]Call, 8, 9)
	for i := range calls {
		fillCall(t, &calls[i], i)
	}
	rec.Calls = calls
	rec.spare.calls = calls[:7]
	rec.reset()
	if len(rec.Calls) != 0 || len(rec.spare.calls) != 0 || cap(rec.spare.calls) != 9 {
		t.Fatalf("after reset: %d calls, %d spare of %d, want 0, 0 of 9", len(rec.Calls), len(rec.spare.calls), cap(rec.spare.calls))
	}
	for i := range rec.spare.calls[:cap(rec.spare.calls)] {
		if !reflect.ValueOf(rec.spare.calls[:cap(rec.spare.calls)][i]).IsZero() {
			t.Errorf("call %d not zero after reset: %+v", i, rec.spare.calls[:cap(rec.spare.calls)][i])
		}
	}
}

// TestReusedRecordsHoldNoCalls checks the same through a recorder whose
// sink borrows records: once the writer is done with them, the records
// it keeps for the next requests hold zero memory for their calls,
// though their requests made calls with texts, errors, attributes,
// phases and stacks.
func TestReusedRecordsHoldNoCalls(t *testing.T) {
	written := 0
	r := New(WithSinks(borrowingSink{func(rec *Record) {
		written++
		if len(rec.Calls) != 4 || len(rec.Calls[1].Stack) == 0 || rec.Calls[2].Error == "" {
			t.Errorf("record %s: calls %+v", rec.Path, rec.Calls)
		}
	}}))
	for i := range 20 {
		ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: fmt.Sprintf("/r%d", i)})
		for j := range 4 {
			c := StartCall(ctx, "svc", fmt.Sprintf("Get%d", j))
			c.SetRequest(fmt.Sprintf("request %d.%d", i, j))
			c.SetResponse(fmt.Sprintf("response %d.%d", i, j))
			c.SetAttr("j", fmt.Sprint(j))
			now := time.Now()
			c.AddPhase("wait", now, now)
			if j == 2 {
				c.End(errors.New("failed"))
				continue
			}
			c.End(nil)
		}
		ar.Finish()
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if written != 20 {
		t.Fatalf("%d records written, want 20", written)
	}
	p := r.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.reserve) == 0 {
		t.Fatal("no record kept for reuse")
	}
	slots := 0
	for _, rec := range p.reserve {
		for i, c := range rec.spare.calls[:cap(rec.spare.calls)] {
			slots++
			if !reflect.ValueOf(c).IsZero() {
				t.Errorf("a kept record's call %d is not zero: %+v", i, c)
			}
		}
	}
	if slots == 0 {
		t.Fatal("the kept records have no memory for calls")
	}
}

// TestRecordHead checks that recordHead is Record's fields before hdrFlat:
// the same names, types and offsets, in the same order, and no more, so
// that reset's assignment of a zero recordHead zeroes exactly those
// fields, with their pointer words told apart as Record's are.
func TestRecordHead(t *testing.T) {
	rt, ht := reflect.TypeFor[Record](), reflect.TypeFor[recordHead]()
	flat, ok := rt.FieldByName("hdrFlat")
	if !ok {
		t.Fatal("Record has no hdrFlat")
	}
	n := flat.Index[0]
	if ht.NumField() != n {
		t.Fatalf("recordHead has %d fields, Record %d before hdrFlat", ht.NumField(), n)
	}
	for i := range n {
		r, h := rt.Field(i), ht.Field(i)
		if r.Name != h.Name || r.Type != h.Type || r.Offset != h.Offset {
			t.Errorf("field %d: Record's %s %v at %d, recordHead's %s %v at %d", i, r.Name, r.Type, r.Offset, h.Name, h.Type, h.Offset)
		}
	}
	if ht.Size() > flat.Offset {
		t.Errorf("recordHead is %d bytes, past hdrFlat's offset %d", ht.Size(), flat.Offset)
	}
}

// TestResetZeroes checks that reset leaves every field of a record zero
// but the memory it keeps (spare's, hdrFlat's array, hdrOrderUA, hdrShared): each
// field set, a field added later too, through reflect.
func TestResetZeroes(t *testing.T) {
	rec := &Record{spare: new(spare)}
	v := reflect.ValueOf(rec).Elem()
	typ := v.Type()
	kept := map[string]bool{"spare": true, "hdrFlat": true, "hdrOrderUA": true, "hdrShared": true}
	for i := range typ.NumField() {
		f := v.Field(i)
		f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem() // settable, unexported too
		if kept[typ.Field(i).Name] {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("x" + typ.Field(i).Name)
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
		case reflect.Map:
			f.Set(reflect.MakeMap(f.Type()))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			f.SetInt(3)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(3)
		case reflect.Array:
			for j := range f.Len() {
				f.Index(j).SetUint(uint64(j + 1))
			}
		case reflect.Struct: // time.Time
			f.Set(reflect.ValueOf(time.Now()))
		default:
			t.Fatalf("Record.%s is a %s, which this test does not set", typ.Field(i).Name, f.Kind())
		}
		if f.IsZero() {
			t.Fatalf("Record.%s was not set", typ.Field(i).Name)
		}
	}
	rec.hdrFlat = make([]string, 2, 4)
	rec.hdrFlat[0], rec.hdrFlat[1] = "User-Agent", "x"
	rec.hdrOrderUA, rec.hdrShared = 1, true
	rec.spare.hdrVals = []string{"x"}
	rec.reset()
	for i := range typ.NumField() {
		name := typ.Field(i).Name
		if !kept[name] && !v.Field(i).IsZero() {
			t.Errorf("after reset, Record.%s is %v", name, v.Field(i))
		}
	}
	if len(rec.hdrFlat) != 0 || cap(rec.hdrFlat) != 4 || rec.hdrOrderUA != 1 || !rec.hdrShared || len(rec.spare.hdrVals) != 1 {
		t.Errorf("after reset: hdrFlat %d of %d (want 0 of 4), hdrOrderUA %d (want 1), hdrShared %v (want true), spare's values %d (want 1)",
			len(rec.hdrFlat), cap(rec.hdrFlat), rec.hdrOrderUA, rec.hdrShared, len(rec.spare.hdrVals))
	}
}

// TestDropStringRefs checks that dropStringRefs zeroes the data pointer
// of every string of slices of 0–7 strings, even and odd lengths, and
// leaves their lengths.
func TestDropStringRefs(t *testing.T) {
	for n := range 8 {
		s := make([]string, n, n+1)
		for i := range s {
			s[i] = strings.Repeat("v", i+1)
		}
		s = append(s[:n:n+1], "past") // not to be touched: past len
		dropStringRefs(s[:n])
		for i := range n {
			if p := *(*unsafe.Pointer)(unsafe.Pointer(&s[i])); p != nil || len(s[i]) != i+1 {
				t.Errorf("%d strings: string %d has data %p, length %d; want nil, %d", n, i, p, len(s[i]), i+1)
			}
		}
		if s[n] != "past" {
			t.Errorf("%d strings: the string past them changed: %q", n, s[n])
		}
	}
}

// TestKeptRecordsLendSpares checks the spares of records that a sink may
// keep (a SinkFunc): a kept record holds no spare once its sink has it,
// the writer hands the spares back to the recorder's list, later records
// borrow them, and what the kept records hold — calls with their texts
// and stacks, header maps — stays as it was when the sink got them while
// later requests fill the spares again.
func TestKeptRecordsLendSpares(t *testing.T) {
	type seen struct {
		rec     *Record
		methods []string
		stacks  [][]Frame
		ua      string
	}
	var kept []seen
	got := make(chan int, 40)
	r := New(WithBatch(4, time.Millisecond), WithSinks(SinkFunc(func(_ context.Context, recs []*Record) error {
		for _, rec := range recs {
			if rec.spare != nil {
				t.Errorf("record %s reached its sink holding a spare", rec.Path)
			}
			s := seen{rec: rec, ua: fmt.Sprint(rec.Headers["User-Agent"])}
			for _, c := range rec.Calls {
				s.methods = append(s.methods, c.Method)
				s.stacks = append(s.stacks, slices.Clone(c.Stack))
			}
			kept = append(kept, s)
		}
		got <- len(recs)
		return nil
	})))
	if r.pool != nil || r.spares == nil {
		t.Fatal("a recorder whose sink keeps records has a pool of records, or no list of spares")
	}
	borrowed := make(map[*spare]bool)
	for i := range 40 {
		ctx, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: fmt.Sprintf("/r%d", i)})
		borrowed[ar.r.spare] = true
		ar.SetHeaders(map[string][]string{"User-Agent": {fmt.Sprintf("agent %d", i)}, "Accept": {"*/*"}})
		for j := range 3 {
			StartCall(ctx, "svc", fmt.Sprintf("Get%d.%d", i, j)).End(nil)
		}
		ar.Finish()
		if i%4 == 3 {
			// The sink has the records once the writer has taken
			// their spares back: the next ones borrow those.
			for n := 0; n < 4; n += <-got {
			}
		}
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(kept) != 40 {
		t.Fatalf("%d records kept, want 40", len(kept))
	}
	if len(borrowed) >= 40 {
		t.Errorf("40 records borrowed %d spares: none was lent twice", len(borrowed))
	}
	for i, s := range kept {
		rec := s.rec
		if rec.spare != nil {
			t.Errorf("kept record %d holds a spare", i)
		}
		if got := fmt.Sprint(rec.Headers["User-Agent"]); got != s.ua || !strings.Contains(got, "agent") {
			t.Errorf("kept record %d: User-Agent %s, was %s", i, got, s.ua)
		}
		if len(rec.Calls) != len(s.methods) || len(rec.Calls) != 3 {
			t.Fatalf("kept record %d: %d calls, was %d", i, len(rec.Calls), len(s.methods))
		}
		for j, c := range rec.Calls {
			if c.Method != s.methods[j] || !strings.HasPrefix(c.Method, "Get"+strings.TrimPrefix(rec.Path, "/r")+".") {
				t.Errorf("kept record %d (%s): call %d is %s, was %s", i, rec.Path, j, c.Method, s.methods[j])
			}
			if len(c.Stack) == 0 || !slices.Equal(c.Stack, s.stacks[j]) {
				t.Errorf("kept record %d: call %d's stack changed", i, j)
			}
		}
	}
}
