package recording

import (
	"context"
	"testing"
)

func TestActiveCallDiscard(t *testing.T) {
	var got []*Record
	rec := New(WithSinks(SinkFunc(func(_ context.Context, rs []*Record) error {
		got = append(got, rs...)
		return nil
	})))
	ctx, ar := rec.StartRecord(context.Background(), RequestInfo{Kind: KindBackground, Path: "/d"})
	StartCall(ctx, "svc", "kept-1").End(nil)
	d := StartCall(ctx, "svc", "discarded")
	StartCall(ctx, "svc", "kept-2").End(nil)
	d.Discard()
	d.Discard() // again: no effect
	d.End(nil)  // after Discard: no effect
	ended := StartCall(ctx, "svc", "ended")
	ended.End(nil)
	ended.Discard() // an ended call stays
	var nilCall *ActiveCall
	nilCall.Discard()
	ar.Finish()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d records", len(got))
	}
	var methods []string
	for _, c := range got[0].Calls {
		methods = append(methods, c.Method)
	}
	if want := []string{"kept-1", "kept-2", "ended"}; len(methods) != len(want) || methods[0] != want[0] || methods[1] != want[1] || methods[2] != want[2] {
		t.Errorf("calls = %q, want %q", methods, want)
	}
}

func TestActiveCallSetAttrs(t *testing.T) {
	var got []*Record
	rec := New(WithSinks(SinkFunc(func(_ context.Context, rs []*Record) error {
		got = append(got, rs...)
		return nil
	})))
	ctx, ar := rec.StartRecord(context.Background(), RequestInfo{Kind: KindBackground})
	c := StartCall(ctx, "svc", "m")
	c.SetAttr("a", "1")
	c.SetAttrs(Attr{"b", "2"}, Attr{"a", "3"}, Attr{"c", "4"}, Attr{"c", "5"})
	c.SetAttrs()
	c.End(nil)
	var nilCall *ActiveCall
	nilCall.SetAttrs(Attr{"x", "y"})
	ar.Finish()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	attrs := got[0].Calls[0].Attrs
	want := []Attr{{"a", "3"}, {"b", "2"}, {"c", "5"}}
	if len(attrs) != len(want) {
		t.Fatalf("attrs = %v, want %v", attrs, want)
	}
	for i := range want {
		if attrs[i] != want[i] {
			t.Errorf("attrs = %v, want %v", attrs, want)
		}
	}
}
