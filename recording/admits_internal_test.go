package recording

import "testing"

// TestAdmitsAll checks the fast way StartRecordWith takes past sample: a
// recorder admits every request without asking sample only when no
// option could leave one out and it is open and not paused; and a
// request it would leave out is left out and counted.
func TestAdmitsAll(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []Option
		want bool
	}{
		{"defaults", nil, true},
		{"include", []Option{WithInclude(Filter{PathPrefix: "/a"})}, false},
		{"exclude", []Option{WithExclude(Filter{PathPrefix: "/a"})}, false},
		{"sample rate", []Option{WithSampleRate(0.5)}, false},
		{"no sampling", []Option{WithSampleRate(0)}, false},
		{"skip unsampled", []Option{WithCallerSampling(SkipUnsampled)}, false},
		{"override caller", []Option{WithCallerSampling(OverrideCaller)}, true},
	} {
		r := New(c.opts...)
		if got := r.admitsAll(); got != c.want {
			t.Errorf("%s: admitsAll %v, want %v", c.name, got, c.want)
		}
		_, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/b", Unsampled: true})
		if c.want && ar == nil {
			t.Errorf("%s: request not recorded", c.name)
		}
		ar.Finish()
		r.SetPaused(true)
		if r.admitsAll() {
			t.Errorf("%s: admitsAll while paused", c.name)
		}
		if _, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/b"}); ar != nil {
			t.Errorf("%s: recorded while paused", c.name)
		}
		r.SetPaused(false)
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if r.admitsAll() {
			t.Errorf("%s: admitsAll once closed", c.name)
		}
		if _, ar := r.StartRecord(t.Context(), RequestInfo{Method: "GET", Path: "/b"}); ar != nil {
			t.Errorf("%s: recorded once closed", c.name)
		}
		if s := r.Stats(); s.PausedOut != 1 {
			t.Errorf("%s: %d paused out, want 1", c.name, s.PausedOut)
		}
	}
	var r *Recorder
	if r.admitsAll() {
		t.Error("a nil recorder admits all")
	}
	if _, ar := r.StartRecord(t.Context(), RequestInfo{}); ar != nil {
		t.Error("a nil recorder recorded")
	}
}
