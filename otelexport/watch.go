package otelexport

import (
	"context"
	"net"
	"net/http/httptrace"
	"slices"
	"sync"
)

// watch follows the requests of the OTLP exporter made by [NewOTLPHTTP]
// through the context of its exports (net/http's client trace), without
// changing how it sends: the connections they went over, which Close
// closes (otlptracehttp pools them in a transport it never empties, idle
// ones for 90 s with two goroutines each).
type watch struct {
	trace *httptrace.ClientTrace

	mu    sync.Mutex
	conns []net.Conn // the latest connections used, oldest first
}

// maxWatchedConns bounds the connections a watch keeps. The exporter
// exports one chunk at a time, so its requests share one connection;
// another is made when it fails, or when the last request's was not yet
// back in the pool.
const maxWatchedConns = 16

func newWatch() *watch {
	w := &watch{}
	w.trace = &httptrace.ClientTrace{GotConn: w.gotConn}
	return w
}

// context returns ctx with w's client trace, for an export.
func (w *watch) context(ctx context.Context) context.Context {
	if w == nil {
		return ctx
	}
	return httptrace.WithClientTrace(ctx, w.trace)
}

func (w *watch) gotConn(info httptrace.GotConnInfo) {
	if info.Conn == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if i := slices.Index(w.conns, info.Conn); i >= 0 {
		// Most recently used last: the oldest is the one let go first.
		w.conns = append(slices.Delete(w.conns, i, i+1), info.Conn)
		return
	}
	if len(w.conns) >= maxWatchedConns {
		// Not used since the newer ones were made: most likely closed
		// by now (a failure, or 90 s idle).
		w.conns = slices.Delete(w.conns, 0, 1)
	}
	w.conns = append(w.conns, info.Conn)
}

// closeConns closes the connections w saw, which ends their goroutines:
// the exporter's exports are over.
func (w *watch) closeConns() {
	if w == nil {
		return
	}
	w.mu.Lock()
	conns := w.conns
	w.conns = nil
	w.mu.Unlock()
	for _, c := range conns {
		c.Close() // closed already, when the pool let it go
	}
}
