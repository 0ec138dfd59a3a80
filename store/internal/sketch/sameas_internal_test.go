package sketch

import (
	"bytes"
	"testing"
	"time"
)

// TestSameAsSet: Set makes a copy that SameAs reports the same and that
// encodes the same bytes, whatever counts the copy held before; SameAs
// reports false once either counts one more duration (in a bucket the
// other lacks, or one both have, or below zero), and for sketches that
// encode alike but lay their counts out at other offsets (a reserved
// span), which is allowed; a change to the copy leaves the original as
// it was. Sketches of the same count, minimum and maximum but other
// counts between are not the same.
func TestSameAsSet(t *testing.T) {
	var a Sketch
	for i := range 500 {
		a.Add(time.Duration(1+i*i) * time.Microsecond)
	}
	var b Sketch
	b.Add(time.Hour) // counts b held before
	b.Set(&a)
	if !b.SameAs(&a) || !a.SameAs(&b) {
		t.Fatal("a copy made by Set is not SameAs the original")
	}
	ea, _ := a.AppendBinary(nil)
	eb, _ := b.AppendBinary(nil)
	if !bytes.Equal(ea, eb) {
		t.Fatalf("copy encodes %x, want %x", eb, ea)
	}
	for name, d := range map[string]time.Duration{"new bucket": 3 * time.Hour, "same bucket": time.Microsecond, "zero": 0} {
		var c Sketch
		c.Set(&a)
		c.Add(d)
		if c.SameAs(&a) || a.SameAs(&c) {
			t.Errorf("%s: SameAs after the copy counted one more", name)
		}
		if ea2, _ := a.AppendBinary(nil); !bytes.Equal(ea2, ea) {
			t.Errorf("%s: the original changed with its copy", name)
		}
	}
	var r, u Sketch
	lo, hi, _ := a.Span()
	r.Reserve(lo-10, hi+10)
	r.Merge(&a)
	u.Merge(&a)
	er, _ := r.AppendBinary(nil)
	if !bytes.Equal(er, ea) {
		t.Fatalf("reserved sketch encodes %x, want %x", er, ea)
	}
	if r.SameAs(&u) {
		t.Error("SameAs reports counts at other offsets the same")
	}
	// The same count, minimum and maximum, another duration between.
	var m1, m2 Sketch
	m1.Reserve(0, 1000)
	m2.Reserve(0, 1000)
	for _, d := range []time.Duration{time.Microsecond, 5 * time.Microsecond, 10 * time.Microsecond} {
		m1.Add(d)
	}
	for _, d := range []time.Duration{time.Microsecond, 7 * time.Microsecond, 10 * time.Microsecond} {
		m2.Add(d)
	}
	if m1.SameAs(&m2) {
		t.Error("SameAs reports sketches of other counts the same")
	}
	var e1, e2 Sketch
	if !e1.SameAs(&e2) {
		t.Error("two empty sketches are not SameAs")
	}
}
