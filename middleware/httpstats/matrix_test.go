//lint:file-ignore SA1019 the matrix checks the deprecated http.CloseNotifier too.

package httpstats_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
)

// fakeWriter has every optional method of a ResponseWriter and notes which
// were reached; combo (generated, combos_test.go) shows it through any
// subset of them.
type fakeWriter struct {
	header  http.Header
	status  int
	body    bytes.Buffer
	calls   []string
	closeCh chan bool
	pushed  string
	conns   []net.Conn
}

func newFakeWriter() *fakeWriter {
	return &fakeWriter{header: make(http.Header), closeCh: make(chan bool, 1)}
}

func (f *fakeWriter) Header() http.Header { return f.header }
func (f *fakeWriter) WriteHeader(code int) {
	f.calls = append(f.calls, "WriteHeader")
	if f.status == 0 {
		f.status = code
	}
}
func (f *fakeWriter) Write(b []byte) (int, error) {
	f.calls = append(f.calls, "Write")
	return f.body.Write(b)
}
func (f *fakeWriter) Flush() { f.calls = append(f.calls, "Flush") }
func (f *fakeWriter) FlushError() error {
	f.calls = append(f.calls, "FlushError")
	return errFlush
}

// errFlush is what the fake's FlushError returns, to see it come through.
var errFlush = errors.New("flush failed: the client went away")

func (f *fakeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	f.calls = append(f.calls, "Hijack")
	c1, c2 := net.Pipe()
	f.conns = append(f.conns, c1, c2)
	return c1, bufio.NewReadWriter(bufio.NewReader(c1), bufio.NewWriter(c1)), nil
}
func (f *fakeWriter) CloseNotify() <-chan bool {
	f.calls = append(f.calls, "CloseNotify")
	return f.closeCh
}
func (f *fakeWriter) ReadFrom(r io.Reader) (int64, error) {
	f.calls = append(f.calls, "ReadFrom")
	return f.body.ReadFrom(r)
}
func (f *fakeWriter) Push(target string, _ *http.PushOptions) error {
	f.calls = append(f.calls, "Push")
	f.pushed = target
	return nil
}
func (f *fakeWriter) WriteString(s string) (int, error) {
	f.calls = append(f.calls, "WriteString")
	return f.body.WriteString(s)
}

func (f *fakeWriter) close() {
	for _, c := range f.conns {
		c.Close()
	}
}

// flushErrorer is the FlushError method http.ResponseController calls, when
// a writer has it, rather than Flush.
type flushErrorer interface{ FlushError() error }

// claims returns the mask of optional interfaces w has, in comboNames order.
func claims(w http.ResponseWriter) uint {
	var m uint
	for i, ok := range []bool{
		is[http.Flusher](w), is[http.Hijacker](w), is[http.CloseNotifier](w),
		is[io.ReaderFrom](w), is[http.Pusher](w), is[io.StringWriter](w),
		is[flushErrorer](w),
	} {
		if ok {
			m |= 1 << i
		}
	}
	return m
}

func is[T any](w http.ResponseWriter) bool { _, ok := w.(T); return ok }

// methodNames lists the exported methods of w's dynamic type.
func methodNames(w any) []string {
	t := reflect.TypeOf(w)
	out := make([]string, t.NumMethod())
	for i := range out {
		out[i] = t.Method(i).Name
	}
	return out
}

// maskNames spells a mask for failure messages.
func maskNames(m uint) string {
	var s []string
	for i, n := range comboNames {
		if m&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	return "{" + strings.Join(s, ", ") + "}"
}

// controllerResult is what http.ResponseController reports for a writer:
// whether Flush and Hijack are supported.
func controllerResult(w http.ResponseWriter, hijack bool) string {
	rc := http.NewResponseController(w)
	res := fmt.Sprint("flush: ", rc.Flush())
	if hijack {
		c, _, err := rc.Hijack()
		if c != nil {
			c.Close()
		}
		res += fmt.Sprintf(" hijack:%v", !errors.Is(err, http.ErrNotSupported))
	}
	return res
}

// TestWriterMatrix wraps a writer of each of the 128 combinations of
// http.Flusher, http.Hijacker, http.CloseNotifier, io.ReaderFrom,
// http.Pusher, io.StringWriter and FlushError, and checks that the writer the handler is given has
// exactly the methods of the one it wraps (plus Unwrap), that
// http.ResponseController finds the same features through it, and that each
// optional method reaches the wrapped writer and is observed in the record.
func TestWriterMatrix(t *testing.T) {
	if len(comboNames) != 7 {
		t.Fatalf("combos_test.go has %d interfaces; run go generate", len(comboNames))
	}
	rec, sink := newRecorder(t, recording.WithQueueSize(1024), recording.WithMaxStack(0))
	const payload = "payload bytes"
	type want struct {
		call     string // the fake's method reached
		status   int
		bytes    int64
		hijacked bool
	}
	// Each method is called by a handler of its own; a handler for a method
	// the combination lacks is not run.
	methods := []struct {
		name string
		bit  int
		call func(w http.ResponseWriter)
		want want
	}{
		{"Flush", 0, func(w http.ResponseWriter) {
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}, want{"Flush", 200, 0, false}},
		{"Hijack", 1, func(w http.ResponseWriter) {
			if h, ok := w.(http.Hijacker); ok {
				h.Hijack()
			}
		}, want{"Hijack", 0, 0, true}},
		{"CloseNotify", 2, func(w http.ResponseWriter) {
			if cn, ok := w.(http.CloseNotifier); ok {
				cn.CloseNotify()
			}
		}, want{"CloseNotify", 200, 0, false}},
		{"ReadFrom", 3, func(w http.ResponseWriter) {
			if rf, ok := w.(io.ReaderFrom); ok {
				rf.ReadFrom(strings.NewReader(payload))
			}
		}, want{"ReadFrom", 200, int64(len(payload)), false}},
		{"Push", 4, func(w http.ResponseWriter) {
			if p, ok := w.(http.Pusher); ok {
				p.Push("/style.css", nil)
			}
		}, want{"Push", 200, 0, false}},
		{"WriteString", 5, func(w http.ResponseWriter) {
			if sw, ok := w.(io.StringWriter); ok {
				sw.WriteString(payload)
			}
		}, want{"WriteString", 200, int64(len(payload)), false}},
		{"FlushError", 6, func(w http.ResponseWriter) {
			if fe, ok := w.(flushErrorer); ok {
				if err := fe.FlushError(); err != errFlush {
					t.Errorf("FlushError returned %v, want the wrapped writer's %v", err, errFlush)
				}
			}
		}, want{"FlushError", 200, 0, false}},
		// io.WriteString takes WriteString where the writer has it, else Write.
		{"io.WriteString", -1, func(w http.ResponseWriter) { io.WriteString(w, payload) }, want{"", 200, int64(len(payload)), false}},
	}
	wants := make(map[string]want)
	var same, sameController int
	for m := uint(0); m < 1<<len(comboNames); m++ {
		// The writer the handler sees claims what the wrapped one claims.
		bare := newFakeWriter()
		inner := combo(m, bare)
		var seen http.ResponseWriter
		httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = w })).
			ServeHTTP(inner, httptest.NewRequest("GET", fmt.Sprintf("/claims/%d", m), nil))
		wants[fmt.Sprintf("/claims/%d", m)] = want{status: 200}
		if got := claims(inner); got != m {
			t.Fatalf("combo(%d) claims %s: the generated test writers are wrong", m, maskNames(got))
		}
		gotMethods, wantMethods := methodNames(seen), append(methodNames(inner), "Unwrap")
		slices.Sort(wantMethods)
		if got := claims(seen); got != m || !slices.Equal(gotMethods, wantMethods) {
			t.Errorf("writer %s: the handler sees %s, methods %v; want methods %v", maskNames(m), maskNames(got), gotMethods, wantMethods)
		} else {
			same++
		}
		// http.ResponseController finds the same features.
		hj := m&2 != 0
		bareRC := controllerResult(combo(m, newFakeWriter()), hj)
		var wrappedRC string
		fw := newFakeWriter()
		httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { wrappedRC = controllerResult(w, hj) })).
			ServeHTTP(combo(m, fw), httptest.NewRequest("GET", fmt.Sprintf("/rc/%d", m), nil))
		fw.close()
		// A flush sends status 200; a hijack without one leaves no status.
		rcWant := want{status: 200, hijacked: hj}
		if hj && m&(1|1<<6) == 0 {
			rcWant.status = 0
		}
		wants[fmt.Sprintf("/rc/%d", m)] = rcWant
		if bareRC != wrappedRC {
			t.Errorf("writer %s: ResponseController bare %s, wrapped %s", maskNames(m), bareRC, wrappedRC)
		} else {
			sameController++
		}

		// Each optional method reaches the wrapped writer and is observed.
		for _, mt := range methods {
			if mt.bit >= 0 && m&(1<<mt.bit) == 0 {
				continue
			}
			f := newFakeWriter()
			path := fmt.Sprintf("/call/%d/%s", m, mt.name)
			httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { mt.call(w) })).
				ServeHTTP(combo(m, f), httptest.NewRequest("GET", path, nil))
			f.close()
			w := mt.want
			if w.call == "" { // io.WriteString
				w.call = "Write"
				if m&(1<<5) != 0 {
					w.call = "WriteString"
				}
			}
			if !slices.Contains(f.calls, w.call) {
				t.Errorf("writer %s, %s: the wrapped writer saw %v, want %s", maskNames(m), mt.name, f.calls, w.call)
			}
			if w.bytes > 0 && f.body.String() != payload {
				t.Errorf("writer %s, %s: the wrapped writer got %q", maskNames(m), mt.name, f.body.String())
			}
			if mt.name == "Push" && f.pushed != "/style.css" {
				t.Errorf("writer %s: pushed %q", maskNames(m), f.pushed)
			}
			wants[path] = w
		}
	}
	t.Logf("%d of %d writers: the handler sees the same interfaces and methods as the wrapped writer has; ResponseController: %d of %d the same",
		same, 1<<len(comboNames), sameController, 1<<len(comboNames))

	recs := flush(t, rec, sink)
	if len(recs) != len(wants) {
		t.Fatalf("%d records, want %d (stats %+v)", len(recs), len(wants), rec.Stats())
	}
	for _, r := range recs {
		w, ok := wants[r.Path]
		if !ok {
			t.Errorf("unexpected record %s", r.Path)
			continue
		}
		hijacked := r.Attr("appstats.http.hijacked") == "true"
		if r.Status != w.status || r.ResponseBytes != w.bytes || hijacked != w.hijacked {
			t.Errorf("%s: recorded status %d, %d bytes, hijacked %v; want %d, %d, %v",
				r.Path, r.Status, r.ResponseBytes, hijacked, w.status, w.bytes, w.hijacked)
		}
	}
}
