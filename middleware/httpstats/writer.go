package httpstats

import (
	"bufio"
	"io"
	"net"
	"net/http"
)

// respWriter observes status and bytes; it never changes what the handler
// writes. The wrappers below add exactly the optional interfaces the
// underlying writer has, so type assertions in handlers and
// [http.ResponseController] (through Unwrap) behave as without us.
type respWriter struct {
	w        http.ResponseWriter
	status   int
	written  int64
	wrote    bool // header sent (final status, not 1xx)
	hijacked bool
}

func (rw *respWriter) Header() http.Header { return rw.w.Header() }

func (rw *respWriter) WriteHeader(code int) {
	if !rw.wrote && !rw.hijacked {
		if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
			// Informational: more headers follow.
			rw.w.WriteHeader(code)
			return
		}
		rw.status = code
		rw.wrote = true
	}
	rw.w.WriteHeader(code)
}

func (rw *respWriter) Write(b []byte) (int, error) {
	if !rw.wrote && !rw.hijacked {
		rw.status = http.StatusOK
		rw.wrote = true
	}
	n, err := rw.w.Write(b)
	rw.written += int64(n)
	return n, err
}

// WriteString keeps io.WriteString from allocating a []byte copy.
func (rw *respWriter) WriteString(s string) (int, error) {
	if !rw.wrote && !rw.hijacked {
		rw.status = http.StatusOK
		rw.wrote = true
	}
	n, err := io.WriteString(rw.w, s)
	rw.written += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer, through a
// shim that observes flushes and hijacks made that way.
func (rw *respWriter) Unwrap() http.ResponseWriter { return rcShim{rw} }

type rcShim struct{ *respWriter }

func (s rcShim) Unwrap() http.ResponseWriter { return s.w }
func (s rcShim) FlushError() error {
	err := http.NewResponseController(s.w).Flush()
	if err == nil && !s.wrote && !s.hijacked {
		s.status, s.wrote = http.StatusOK, true
	}
	return err
}
func (s rcShim) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(s.w).Hijack()
	if err == nil {
		s.hijacked = true
	}
	return c, brw, err
}

func (rw *respWriter) flush() {
	if !rw.wrote && !rw.hijacked {
		rw.status = http.StatusOK
		rw.wrote = true
	}
	rw.w.(http.Flusher).Flush()
}

func (rw *respWriter) hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := rw.w.(http.Hijacker).Hijack()
	if err == nil {
		rw.hijacked = true
	}
	return c, brw, err
}

func (rw *respWriter) readFrom(r io.Reader) (int64, error) {
	if !rw.wrote && !rw.hijacked {
		rw.status = http.StatusOK
		rw.wrote = true
	}
	n, err := rw.w.(io.ReaderFrom).ReadFrom(r)
	rw.written += n
	return n, err
}

func (rw *respWriter) push(target string, opts *http.PushOptions) error {
	return rw.w.(http.Pusher).Push(target, opts)
}

// The combinations net/http's own writers have: HTTP/1 (Flusher, Hijacker,
// ReaderFrom), HTTP/2 (Flusher, Pusher), and httptest (Flusher).
type (
	rwPlain struct{ *respWriter }
	rwFlush struct{ *respWriter }
	rwH1    struct{ *respWriter }
	rwH2    struct{ *respWriter }
)

func (w rwFlush) Flush() { w.flush() }

func (w rwH1) Flush()                                       { w.flush() }
func (w rwH1) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.hijack() }
func (w rwH1) ReadFrom(r io.Reader) (int64, error)          { return w.readFrom(r) }

func (w rwH2) Flush()                                           { w.flush() }
func (w rwH2) Push(target string, opts *http.PushOptions) error { return w.push(target, opts) }

// wrap returns rw dressed with the optional interfaces of rw.w. Writers with
// another combination get the plain wrapper; http.ResponseController still
// reaches every feature through Unwrap.
func wrap(rw *respWriter) http.ResponseWriter {
	_, fl := rw.w.(http.Flusher)
	_, hj := rw.w.(http.Hijacker)
	_, rf := rw.w.(io.ReaderFrom)
	_, pu := rw.w.(http.Pusher)
	switch {
	case fl && hj && rf && !pu:
		return rwH1{rw}
	case fl && pu && !hj && !rf:
		return rwH2{rw}
	case fl && !hj && !rf && !pu:
		return rwFlush{rw}
	}
	return rwPlain{rw}
}
