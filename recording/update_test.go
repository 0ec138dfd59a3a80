package recording

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Update and EndWith record what the setters they stand for record, one
// by one: each case's call is made twice in one record, once each way,
// and the two calls compared.
func TestUpdateAsSetters(t *testing.T) {
	attrs := func(prefix string, n int) []Attr {
		out := make([]Attr, n)
		for i := range out {
			out[i] = Attr{Key: prefix + strconv.Itoa(i), Value: "v" + strconv.Itoa(i)}
		}
		return out
	}
	phases := func(n int) []Phase {
		out := make([]Phase, n)
		for i := range out {
			out[i] = Phase{Name: "p" + strconv.Itoa(i), Start: time.Duration(i) * time.Millisecond, Duration: time.Duration(i+1) * time.Microsecond}
		}
		return out
	}
	long := strings.Repeat("x", 300)
	type end struct {
		d   time.Duration
		err error
	}
	cases := []struct {
		name    string
		updates []CallUpdate
		end     *end // EndWith with the last update, when not nil
	}{
		{"http", []CallUpdate{
			{Reserve: true, Attrs: attrs("a", 4), RequestSize: 0, HasRequestSize: true},
			{Attrs: []Attr{{Key: "status", Value: "200"}}},
			{Attrs: []Attr{{Key: "reused", Value: "true"}}, Phases: phases(6), RequestSize: 12, HasRequestSize: true, ResponseSize: 345, HasResponseSize: true},
		}, &end{d: 7 * time.Millisecond}},
		{"without room", []CallUpdate{{Attrs: attrs("a", 3)}, {Phases: phases(2), ResponseSize: 9, HasResponseSize: true}}, &end{d: time.Millisecond}},
		{"failed", []CallUpdate{{Reserve: true, Phases: phases(1)}}, &end{d: 3 * time.Millisecond, err: errors.New("refused")}},
		{"failed, no update", nil, &end{d: time.Millisecond, err: errors.New("refused")}},
		{"replaced attributes", []CallUpdate{{Attrs: attrs("a", 3)}, {Attrs: attrs("a", 2)}}, nil},
		{"over the caps", []CallUpdate{{Reserve: true, Attrs: attrs("a", 12)}, {Phases: phases(40)}}, nil},
		{"long names", []CallUpdate{{Attrs: []Attr{{Key: long, Value: long}}, Phases: []Phase{{Name: long, Duration: 1}}}}, nil},
		{"negative phase", []CallUpdate{{Phases: []Phase{{Name: "back", Start: 5, Duration: -1}, {Name: "zero", Start: -3}}}}, nil},
		{"no sizes", []CallUpdate{{RequestSize: 5, ResponseSize: 6}}, nil},
		{"zero update", []CallUpdate{{}}, nil},
		{"running", []CallUpdate{{Reserve: true, Attrs: attrs("a", 2), Phases: phases(2)}}, nil},
	}
	setters := func(c *ActiveCall, u *CallUpdate) {
		if u.Reserve {
			c.Reserve()
		}
		c.SetAttrs(u.Attrs...)
		start := c.StartTime()
		for _, p := range u.Phases {
			c.AddPhase(p.Name, start.Add(p.Start), start.Add(p.Start+p.Duration))
		}
		if u.HasRequestSize {
			c.SetRequestSize(u.RequestSize)
		}
		if u.HasResponseSize {
			c.SetResponseSize(u.ResponseSize)
		}
	}
	var running, ended [2]*ActiveCall
	r := recordOne(t, func(ctx context.Context, _ *ActiveRecord) {
		for _, tc := range cases {
			for way := range 2 {
				c := StartCall(ctx, "svc", tc.name)
				for i := range tc.updates {
					u := &tc.updates[i]
					last := i == len(tc.updates)-1
					switch {
					case way == 0 && last && tc.end != nil:
						setters(c, u)
						c.EndAt(c.StartTime().Add(tc.end.d), tc.end.err)
					case way == 0:
						setters(c, u)
					case last && tc.end != nil:
						c.EndWith(u, tc.end.d, tc.end.err)
					default:
						c.Update(u)
					}
				}
				if tc.end != nil && len(tc.updates) == 0 {
					if way == 0 {
						c.EndAt(c.StartTime().Add(tc.end.d), tc.end.err)
					} else {
						c.EndWith(nil, tc.end.d, tc.end.err)
					}
				}
				if tc.name == "http" {
					ended[way] = c
				}
				if tc.name == "running" {
					running[way] = c
				} else if tc.end == nil {
					c.End(nil)
				}
			}
		}
	}, WithMaxAttrs(8, 64), WithMaxName(40))
	// After the record ended, a call that had ended is frozen: its
	// record's copy stays as it was (its slices are the record's).
	before := r.Calls[1]
	before.Attrs, before.Phases = slices.Clone(before.Attrs), slices.Clone(before.Phases)
	late := CallUpdate{Reserve: true, Attrs: attrs("late", 2), Phases: phases(2), RequestSize: 1, HasRequestSize: true}
	inCall := ended[1].c
	ended[1].Update(&late)
	ended[1].EndWith(&late, time.Hour, errors.New("late"))
	if !reflect.DeepEqual(r.Calls[1], before) {
		t.Errorf("an ended call, updated after its record ended:\n %+v\nwas %+v", r.Calls[1], before)
	}
	if !reflect.DeepEqual(ended[1].c, inCall) {
		t.Errorf("an ended call, updated after its record ended, changed:\n %+v\nwas %+v", ended[1].c, inCall)
	}
	// A call running when its record ended goes on, for FinalCall: both
	// ways update and end it alike.
	setters(running[0], &late)
	running[0].EndAt(running[0].StartTime().Add(time.Second), errors.New("late"))
	running[1].EndWith(&late, time.Second, errors.New("late"))
	var finals [2]Call
	for way := range 2 {
		i := slices.IndexFunc(r.Calls, func(c Call) bool { return c.Running }) + way
		c, final := r.FinalCall(i)
		if !final {
			t.Fatalf("call %d (%s) not final after its end", i, c.Method)
		}
		for j := range c.Phases {
			c.Phases[j].Start -= c.Start
		}
		c.Start, c.SpanID, c.Stack, c.pcs = 0, SpanID{}, nil, nil
		finals[way] = c
	}
	if !reflect.DeepEqual(finals[0], finals[1]) || finals[1].Duration != time.Second || finals[1].Error != "late" {
		t.Errorf("running call ended late:\n Update: %+v\nsetters: %+v", finals[1], finals[0])
	}

	if len(r.Calls) != 2*len(cases) {
		t.Fatalf("%d calls, want %d", len(r.Calls), 2*len(cases))
	}
	for i := 0; i < len(r.Calls); i += 2 {
		want, got := r.Calls[i], r.Calls[i+1]
		for _, c := range []*Call{&want, &got} {
			for j := range c.Phases {
				c.Phases[j].Start -= c.Start // the phases' offsets from their call's
			}
			c.Start, c.SpanID, c.Stack, c.pcs = 0, SpanID{}, nil, nil
			if c.Running || cases[i/2].end == nil {
				c.Duration = 0 // ended by End, at another time
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n Update: %+v\nsetters: %+v", want.Method, got, want)
		}
	}
	var none *ActiveCall
	none.Update(&CallUpdate{Reserve: true}) // no call: no effect, no panic
	none.EndWith(nil, 0, nil)
	if len(r.Calls[0].Attrs) == 0 || len(r.Calls[0].Phases) != 6 || r.Calls[0].ResponseSize != 345 || r.Calls[0].Duration != 7*time.Millisecond {
		t.Errorf("http call %+v", r.Calls[0])
	}
}

// TestSetAttrsAsSetAttr checks that SetAttrs (and so Update) sets a batch
// of attributes as SetAttr sets them one by one: a key given twice in the
// batch, keys cut to the same name, a key set before, keys past the cap
// (dropped and counted, but one set before replaced), with room reserved
// and without.
func TestSetAttrsAsSetAttr(t *testing.T) {
	long := strings.Repeat("k", 50)
	batches := [][][]Attr{
		{{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "a", Value: "3"}}},
		{{{Key: long + "x", Value: "1"}, {Key: long + "y", Value: "2"}, {Key: "v", Value: strings.Repeat("v", 100)}}},
		{{{Key: "a", Value: "1"}, {Key: "bb", Value: "2"}}, {{Key: "bb", Value: "3"}, {Key: "c", Value: "4"}, {Key: "a", Value: "5"}}},
		{{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}, {Key: "d", Value: "4"}, {Key: "e", Value: "5"}},
			{{Key: "f", Value: "6"}, {Key: "b", Value: "7"}, {Key: "g", Value: "8"}, {Key: "a", Value: "9"}}},
		{{{Key: "", Value: "empty key"}, {Key: "x", Value: ""}, {Key: "", Value: "again"}}},
		// Keys of different lengths, some given again, past the cap.
		{{{Key: "a", Value: "1"}, {Key: "bb", Value: "2"}, {Key: "ccc", Value: "3"}, {Key: "dddd", Value: "4"}},
			{{Key: "eeeee", Value: "5"}, {Key: "bb", Value: "6"}, {Key: "ffffff", Value: "7"}, {Key: "ggggggg", Value: "8"}, {Key: "ccc", Value: "9"}, {Key: "ggggggg", Value: "10"}}},
	}
	r := recordOne(t, func(ctx context.Context, _ *ActiveRecord) {
		for i, batch := range batches {
			for _, reserve := range []bool{false, true} {
				for way := range 2 {
					c := StartCall(ctx, "svc", strconv.Itoa(i))
					if reserve {
						c.Reserve()
					}
					for _, attrs := range batch {
						if way == 0 {
							for _, a := range attrs {
								c.SetAttr(a.Key, a.Value)
							}
						} else {
							c.SetAttrs(attrs...)
						}
					}
					c.End(nil)
				}
			}
		}
	}, WithMaxAttrs(6, 64), WithMaxName(40))
	if len(r.Calls) != 4*len(batches) {
		t.Fatalf("%d calls, want %d", len(r.Calls), 4*len(batches))
	}
	for i := 0; i < len(r.Calls); i += 2 {
		one, batch := r.Calls[i], r.Calls[i+1]
		if !reflect.DeepEqual(one.Attrs, batch.Attrs) {
			t.Errorf("batch %s: SetAttr one by one gave\n %q\nSetAttrs gave\n %q", one.Method, one.Attrs, batch.Attrs)
		}
	}
}
