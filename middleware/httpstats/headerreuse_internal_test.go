package httpstats

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"golang.org/x/net/http2"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// inRecord returns the context of a record started by a recorder of its
// own; the test's cleanup finishes the record, then closes the recorder.
func inRecord(t *testing.T) context.Context {
	t.Helper()
	rec := recording.New(recording.WithSinks(recordingtest.NewSink()))
	t.Cleanup(func() { rec.Close(context.Background()) })
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	t.Cleanup(ar.Finish)
	return ctx
}

// echoServer starts an echoTraceparent server over HTTP/1 and returns it
// with a transport of its own; the test's cleanup closes both.
func echoServer(t *testing.T) (*httptest.Server, *http.Transport) {
	t.Helper()
	srv := httptest.NewServer(echoTraceparent)
	t.Cleanup(srv.Close)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	return srv, base
}

// callEach makes a call of each method to url with ctx, one after
// another, through do (a client's Do, or a transport's RoundTrip). It
// hands each request and its response to each (nil: nothing to check),
// before the body is read, then reads the body to its end, closes it and
// keeps it. It returns the bodies, or the first call's error.
func callEach(ctx context.Context, do func(*http.Request) (*http.Response, error), url string, methods []string, each func(*http.Request, *http.Response) error) ([]string, error) {
	bodies := make([]string, 0, len(methods))
	for _, method := range methods {
		req, err := http.NewRequestWithContext(ctx, method, url, nil)
		if err != nil {
			return bodies, err
		}
		resp, err := do(req)
		if err != nil {
			return bodies, err
		}
		if each != nil {
			if err := each(req, resp); err != nil {
				resp.Body.Close()
				return bodies, err
			}
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return bodies, err
		}
		bodies = append(bodies, string(b))
	}
	return bodies, nil
}

// gets is n GETs, for callEach.
func gets(n int) []string { return slices.Repeat([]string{"GET"}, n) }

// headerMaps makes n GET calls, one after another, through rt (a
// recording transport) inside one record, reading each body to its end, and returns
// the header map each call sent (from its state, before the body was
// read) and the traceparent the server got.
func headerMaps(t *testing.T, srv *httptest.Server, rt http.RoundTripper, n int) (maps []unsafe.Pointer, got []string) {
	t.Helper()
	client := &http.Client{Transport: rt}
	got, err := callEach(inRecord(t), client.Do, srv.URL+"/x", gets(n), func(_ *http.Request, resp *http.Response) error {
		st, ok := resp.Body.(*callState)
		if !ok {
			return fmt.Errorf("the body is a %T, not the call's state", resp.Body)
		}
		maps = append(maps, reflect.ValueOf(st.out.req.Header).UnsafePointer())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return maps, got
}

// echoTraceparent answers with the traceparent the request came with.
// A request to /late is answered without its body read, and its
// connection closed (the server does not wait for the rest of the body).
var echoTraceparent = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/late" {
		w.Header().Set("Connection", "close")
	}
	io.WriteString(w, r.Header.Get("Traceparent"))
})

// TestHeaderMapReused checks that calls made one after another through an
// *http.Transport over HTTP/1 reuse the header map of a call that ended
// (a sync.Pool may drop one, under -race a quarter of them: most, not
// all), and that each request still carries its own traceparent.
func TestHeaderMapReused(t *testing.T) {
	srv, base := echoServer(t)
	const n = 20
	maps, got := headerMaps(t, srv, NewTransport(base), n)
	reused := 0
	for i := 1; i < n; i++ {
		if maps[i] == maps[i-1] {
			reused++
		}
	}
	if reused < n/4 {
		t.Errorf("%d of %d calls reused the map of the call before, want most", reused, n-1)
	}
	seen := map[string]bool{}
	for i, tp := range got {
		if len(tp) != recording.TraceparentLen || seen[tp] {
			t.Errorf("call %d sent traceparent %q (seen before: %v)", i, tp, seen[tp])
		}
		seen[tp] = true
	}
}

// TestHeaderMapNotReused checks the calls whose header map is not reused:
// over HTTP/2, whose writes the call's hooks do not count; through a base
// that is not an *http.Transport, which may keep the request (a
// RoundTripper of the caller's, x/net's HTTP/2 Transport); and through
// an *http.Transport with a Proxy function of the caller's, which may. And
// that each server got every call's own traceparent, each once.
func TestHeaderMapNotReused(t *testing.T) {
	h2 := httptest.NewUnstartedServer(echoTraceparent)
	h2.EnableHTTP2 = true
	h2.StartTLS()
	defer h2.Close()
	h1 := httptest.NewServer(echoTraceparent)
	defer h1.Close()
	h2base := h2.Client().Transport.(*http.Transport)
	proxied := &http.Transport{Proxy: func(*http.Request) (*neturl.URL, error) { return nil, nil }}
	defer proxied.CloseIdleConnections()
	plain := &http.Transport{}
	defer plain.CloseIdleConnections()
	for _, tc := range []struct {
		name string
		srv  *httptest.Server
		base http.RoundTripper
	}{
		{"http2", h2, h2base},
		//lint:ignore SA1019 users still wrap x/net's HTTP/2 Transport, which must not get a reused map
		{"x/net http2", h2, &http2.Transport{TLSClientConfig: h2base.TLSClientConfig}},
		{"wrapped", h1, roundTripFunc(plain.RoundTrip)},
		{"proxy", h1, proxied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			maps, got := headerMaps(t, tc.srv, NewTransport(tc.base), 10)
			seen := map[unsafe.Pointer]bool{}
			for i, m := range maps {
				if seen[m] {
					t.Fatalf("call %d reused a header map", i)
				}
				seen[m] = true
			}
			sent := map[string]bool{}
			for i, tp := range got {
				if len(tp) != recording.TraceparentLen || sent[tp] {
					t.Errorf("call %d: the server got traceparent %q (got before: %v)", i, tp, sent[tp])
				}
				sent[tp] = true
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestHeaderMapWrittenLate checks that a call whose response came, and
// was read to its end, before its request was written (the server
// answered without reading the body, which the client still sends) keeps
// its header map: net/http's write loop may still be reading it. The
// calls after it must not get it.
func TestHeaderMapWrittenLate(t *testing.T) {
	srv, base := echoServer(t)
	rt := NewTransport(base)
	client := &http.Client{Transport: rt}
	ctx := inRecord(t)
	pr, pw := io.Pipe()
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/late", io.MultiReader(strings.NewReader("part"), pr))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	late := reflect.ValueOf(resp.Body.(*callState).out.req.Header).UnsafePointer()
	io.ReadAll(resp.Body)
	resp.Body.Close() // the call ends; the request's body is not all sent
	pw.Close()
	maps, _ := headerMaps(t, srv, rt, 10)
	for i, m := range maps {
		if m == late {
			t.Fatalf("call %d after got the header map of a request not yet written", i)
		}
	}
}

// TestHeaderMapReuseConcurrent makes calls from several goroutines at
// once, which reuse one another's header maps: under -race, no race, and
// every request the server got carried the traceparent of a call of its
// own (the call's span ID, which the record has), each once.
func TestHeaderMapReuseConcurrent(t *testing.T) {
	var mu sync.Mutex
	sent := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sent[r.Header.Get("Traceparent")]++
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	base := &http.Transport{MaxIdleConnsPerHost: 8}
	defer base.CloseIdleConnections()
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	client := &http.Client{Transport: NewTransport(base)}
	const goroutines, calls = 8, 25
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
			defer ar.Finish()
			if _, err := callEach(ctx, client.Do, srv.URL+"/x", gets(calls), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A traceparent is 00-<trace ID>-<the call's span ID>-<flags>.
	bySpan := map[string]int{}
	for tp, k := range sent {
		if len(tp) != recording.TraceparentLen {
			t.Fatalf("the server got traceparent %q", tp)
		}
		bySpan[tp[36:52]] += k
	}
	n := 0
	for _, r := range sink.Records() {
		for _, c := range r.Calls {
			n++
			if k := bySpan[c.SpanID.String()]; k != 1 {
				t.Errorf("call %s: the server got its traceparent %d times, want 1", c.SpanID, k)
			}
		}
	}
	if n != goroutines*calls || len(sent) != n {
		t.Errorf("%d calls recorded, %d traceparents sent; want %d each", n, len(sent), goroutines*calls)
	}
}

// TestResponseRequestIsCallers checks that the response to a recorded
// call has the caller's request as its Request, not the copy sent (whose
// header map a later call may reuse).
func TestResponseRequestIsCallers(t *testing.T) {
	srv, base := echoServer(t)
	rt := NewTransport(base)
	_, err := callEach(inRecord(t), rt.RoundTrip, srv.URL+"/x", []string{"GET", "HEAD"}, func(req *http.Request, resp *http.Response) error {
		if resp.Request != req {
			t.Errorf("%s: the response's Request is not the caller's (header %v)", req.Method, resp.Request.Header)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
