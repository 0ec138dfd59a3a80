package httpstats

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/goappstats/appstats/recording"
)

type reqCopyKey struct{}

// TestTraceIntoCopiesOnce checks that traceInto's request copy, made by
// one copy and its context set in place (requestCtx, found on this Go
// version), is the request WithContext would make, but for the header's
// copy: every other field the caller's, the context the one given.
func TestTraceIntoCopiesOnce(t *testing.T) {
	if requestCtx < 0 {
		t.Fatal("http.Request has no field ctx of type context.Context: traceInto copies through WithContext")
	}
	req, err := http.NewRequestWithContext(context.Background(), "POST", "http://example.test/a?b=c", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-A", "1")
	req.Host, req.RemoteAddr, req.Close = "other.test", "192.0.2.1:5", true
	ctx := context.WithValue(context.Background(), reqCopyKey{}, 1)
	var o outRequest
	traceInto(&o, req, ctx, recording.TraceContext{}, recording.W3CPropagator{}, nil)
	if o.req.Context() != ctx {
		t.Errorf("the copy's context is %v, want the one given", o.req.Context())
	}
	if req.Context() == ctx {
		t.Error("the caller's request took the context")
	}
	want := *req.WithContext(ctx)
	if reflect.ValueOf(o.req.GetBody).Pointer() != reflect.ValueOf(req.GetBody).Pointer() {
		t.Error("the copy's GetBody is not the caller's")
	}
	// DeepEqual holds no func equal but nil.
	want.Header, o.req.Header, want.GetBody, o.req.GetBody = nil, nil, nil, nil
	if !reflect.DeepEqual(&o.req, &want) {
		t.Errorf("the copy differs from WithContext's:\n%+v\nwant\n%+v", o.req, want)
	}
}
