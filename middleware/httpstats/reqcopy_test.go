package httpstats_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// TestRequestHeadersNotKept checks that the request's header map is not
// kept alive by the request's context once the request is served: code
// may keep the context long after (a goroutine the handler started), and
// a request may carry megabytes of headers. The context holds the
// record's state; so a request copy kept in the state (which would save
// the copy's allocation) would keep the header map, as it did in a trial
// where TestHugeHeadersMemory's peak went from 95 to 158 MiB.
func TestRequestHeadersNotKept(t *testing.T) {
	rec, _ := newRecorder(t)
	var kept context.Context
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept = r.Context()
	}))
	var wp weak.Pointer[[1]string]
	func() {
		vals := &[1]string{strings.Repeat("x", 1<<16)}
		wp = weak.Make(vals)
		req := httptest.NewRequest("GET", "/big", nil)
		req.Header["X-Big"] = vals[:]
		h.ServeHTTP(httptest.NewRecorder(), req)
	}()
	for i := 0; i < 5 && wp.Value() != nil; i++ {
		runtime.GC()
	}
	if wp.Value() != nil {
		t.Error("the request's header values are kept alive after the request was served")
	}
	if recording.FromContext(kept) == nil {
		t.Error("the handler's context does not carry the record")
	}
}

// TestHandlerRequestKept checks that the request the handler is given is
// left whole after the handler returns (the record's state is emptied
// then, but the request is not part of it): code the handler handed it to
// may read it later.
func TestHandlerRequestKept(t *testing.T) {
	rec, _ := newRecorder(t)
	var kept *http.Request
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept = r
	}))
	req := httptest.NewRequest("GET", "/kept?q=1", nil)
	req.Header.Set("User-Agent", "test")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if kept == nil || kept == req {
		t.Fatalf("handler got %p, the request %p: want a copy", kept, req)
	}
	if kept.URL == nil || kept.URL.Path != "/kept" || kept.Method != "GET" || kept.Header.Get("User-Agent") != "test" {
		t.Errorf("after the handler returned, its request is %+v", kept)
	}
	if recording.FromContext(kept.Context()) == nil {
		t.Error("the handler's request does not carry the record")
	}
}

// TestHandlerBodies checks which request bodies the handler counts as the
// handler reads them (wrapped) and which it hands on as they are: NoBody
// and a body of known length are not wrapped, a body of unknown length is,
// and a nil one stays nil; the record's request bytes follow.
func TestHandlerBodies(t *testing.T) {
	rec, sink := newRecorder(t)
	var got io.ReadCloser
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Body
		if r.Body != nil {
			io.Copy(io.Discard, r.Body)
		}
	}))
	unknown := io.NopCloser(strings.NewReader("twelve bytes"))
	known := io.NopCloser(strings.NewReader("five!"))
	cases := []struct {
		name    string
		body    io.ReadCloser
		length  int64
		wrapped bool
		bytes   int64
	}{
		{"NoBody", http.NoBody, 0, false, 0},
		{"NoBody-unknown", http.NoBody, -1, false, 0}, // told apart from a body of unknown length
		{"nil", nil, 0, false, 0},
		{"known", known, 5, false, 5},
		{"unknown", unknown, -1, true, 12},
	}
	for _, c := range cases {
		req := httptest.NewRequest("POST", "/"+c.name, nil)
		req.Body, req.ContentLength = c.body, c.length
		got = nil
		h.ServeHTTP(httptest.NewRecorder(), req)
		if wrapped := got != c.body; wrapped != c.wrapped {
			t.Errorf("%s: the handler's body is %T (wrapped %v), want wrapped %v", c.name, got, wrapped, c.wrapped)
		}
	}
	recs := flush(t, rec, sink)
	for _, c := range cases {
		for _, r := range recs {
			if r.Path == "/"+c.name && r.RequestBytes != c.bytes {
				t.Errorf("%s: RequestBytes %d, want %d", c.name, r.RequestBytes, c.bytes)
			}
		}
	}
	if len(recs) != len(cases) {
		t.Errorf("%d records, want %d", len(recs), len(cases))
	}
}

// TestStateEmptiedAfterServe checks that the record's state, which the
// request's context keeps alive, keeps neither the ResponseWriter nor the
// request's body once a request is served without a panic: the handler's
// deferred function empties it on that path too, where it does not call
// recover.
func TestStateEmptiedAfterServe(t *testing.T) {
	rec, _ := newRecorder(t)
	var kept context.Context
	h := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept = r.Context()
		io.Copy(io.Discard, r.Body)
	}))
	var wp weak.Pointer[httptest.ResponseRecorder]
	var bp weak.Pointer[strings.Reader]
	func() {
		w := httptest.NewRecorder()
		wp = weak.Make(w)
		body := strings.NewReader("twelve bytes")
		bp = weak.Make(body)
		req := httptest.NewRequest("POST", "/served", nil)
		req.Body, req.ContentLength = io.NopCloser(body), -1 // counted: kept in the state while served
		h.ServeHTTP(w, req)
	}()
	for i := 0; i < 5 && (wp.Value() != nil || bp.Value() != nil); i++ {
		runtime.GC()
	}
	if wp.Value() != nil {
		t.Error("the ResponseWriter is kept alive after the request was served")
	}
	if bp.Value() != nil {
		t.Error("the request's body is kept alive after the request was served")
	}
	if recording.FromContext(kept) == nil {
		t.Error("the handler's context does not carry the record")
	}
}
