package recording

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestEdgeRedaction(t *testing.T) {
	r := DefaultRedaction()
	for _, q := range []string{
		"a=1;token=SECRET",
		"token=SECRET",
		"x=1&Api_Key=SECRET",
		"%74oken=SECRET",
	} {
		got := r.Query(q)
		if strings.Contains(got, "SECRET") {
			t.Errorf("Query(%q) = %q leaks", q, got)
		}
	}
	h := r.Header(map[string][]string{
		"Referer":              {"https://app.example/reset?token=SECRET"},
		"X-Access-Token":       {"SECRET"},
		"Private-Token":        {"SECRET"},
		"X-Amz-Security-Token": {"SECRET"},
	})
	for k, v := range h {
		if strings.Contains(v[0], "SECRET") {
			t.Errorf("header %s kept %q", k, v[0])
		}
	}
}

// A filtered or late call: StartCallAt with a start before the record start gives a negative offset.
func TestEdgeNegativeOffset(t *testing.T) {
	rec := New()
	defer rec.Close(context.Background())
	_, a := rec.StartRecord(context.Background(), RequestInfo{Method: "GET", Path: "/"})
	c := a.StartCallAt("x", "y", a.Start().Add(-time.Second), SpanID{})
	t.Logf("offset=%v", c.c.Start)
}
