package otelexport

import (
	"context"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/goappstats/appstats/internal/convention"
)

// watch follows the requests of the OTLP exporters made by [NewOTLPHTTP]
// and [NewOTLPGRPC] through the context of their exports (net/http's
// client trace) and a gRPC interceptor, without changing how they send:
//   - the connections of OTLP/HTTP's requests, which Close closes
//     (otlptracehttp pools them in a transport it never empties, idle
//     ones for 90 s with two goroutines each);
//   - the values of the headers they send (the OTLP headers, of the
//     environment or of code), which the exporter hides from the errors
//     it logs and returns: a collector may echo them in its answer.
type watch struct {
	trace *httptrace.ClientTrace
	// own is set once a request went through the transport otlptracehttp
	// made for this exporter alone (see proxy): its connections are the
	// exporter's, and Close closes them.
	own atomic.Bool

	mu      sync.Mutex
	conns   []net.Conn // the latest connections used, oldest first
	values  []string   // the header values sent, the least recently sent first
	secrets []string   // what hide hides, longest first; replaced, never changed in place
	answer  time.Time  // when the collector last answered
}

// maxSecrets bounds the header values a watch hides: the most recently
// sent (a value sent with every request stays among them, a token a client
// rotates is hidden from its first use on).
const maxSecrets = 64

// maxHidden bounds the strings a watch hides, values and their words.
const maxHidden = 4 * maxSecrets

// minSecret is the length of the shortest header value, or word of one,
// that the exporter hides: a shorter one is no secret, and hiding it
// everywhere in an error would garble it.
const minSecret = 4

// ownHeaders are the headers the OTLP exporters' transports set
// themselves: not OTLP headers, their values are not hidden.
var ownHeaders = []string{"accept-encoding", "content-encoding", "content-length", "content-type",
	"user-agent", "host", "connection", "transfer-encoding", "te"}

// maxWatchedConns bounds the connections a watch keeps. The exporter
// exports one chunk at a time, so its requests share one connection;
// another is made when it fails, or when the last request's was not yet
// back in the pool.
const maxWatchedConns = 16

// newWatch returns a watch that hides the OTLP headers of the
// environment from the start.
func newWatch() *watch {
	w := &watch{}
	w.trace = &httptrace.ClientTrace{GotConn: w.gotConn, WroteHeaderField: w.wroteHeader,
		GotFirstResponseByte: w.gotAnswer}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"} {
		for entry := range strings.SplitSeq(os.Getenv(name), ",") {
			_, v, ok := strings.Cut(entry, "=")
			if !ok {
				continue
			}
			if dec, err := url.PathUnescape(v); err == nil {
				v = dec
			}
			w.addSecret(strings.TrimSpace(v))
		}
	}
	return w
}

// addSecret has hide hide v, and each word of v (a token after its
// scheme: "Bearer tok") as long as minSecret or longer. The values sent
// least recently are let go past maxSecrets.
func (w *watch) addSecret(v string) {
	if len(v) < minSecret {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if i := slices.Index(w.values, v); i >= 0 {
		// Known: it becomes the most recently sent; what hide hides
		// stays the same.
		if i < len(w.values)-1 {
			w.values = append(slices.Delete(w.values, i, i+1), v)
		}
		return
	}
	if len(w.values) >= maxSecrets {
		w.values = slices.Delete(w.values, 0, 1)
	}
	w.values = append(w.values, v)
	// The newest values' first, up to maxHidden.
	var s []string
	for i := len(w.values) - 1; i >= 0 && len(s) < maxHidden; i-- {
		for _, f := range append(strings.Fields(w.values[i]), w.values[i]) {
			if len(f) >= minSecret && len(s) < maxHidden && !slices.Contains(s, f) {
				s = append(s, f)
			}
		}
	}
	// Longest first: a value is hidden whole before its words are.
	slices.SortStableFunc(s, func(a, b string) int { return len(b) - len(a) })
	w.secrets = s
}

// wroteHeader notes the value of a header of an OTLP/HTTP request.
func (w *watch) wroteHeader(key string, values []string) {
	if strings.HasPrefix(key, ":") || slices.Contains(ownHeaders, strings.ToLower(key)) {
		return
	}
	for _, v := range values {
		w.addSecret(v)
	}
}

// unary is a gRPC interceptor that notes the values of the OTLP/gRPC
// exporter's headers (the request's outgoing metadata).
func (w *watch) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if md, ok := metadata.FromOutgoingContext(ctx); ok {
		for k, vs := range md {
			if !slices.Contains(ownHeaders, k) {
				for _, v := range vs {
					w.addSecret(v)
				}
			}
		}
	}
	err := invoker(ctx, method, req, reply, cc, opts...)
	w.gotAnswer()
	return err
}

// gotAnswer notes that the collector answered, now.
func (w *watch) gotAnswer() {
	now := time.Now()
	w.mu.Lock()
	w.answer = now
	w.mu.Unlock()
}

// answered returns when the collector last answered, the time its
// Retry-After counts from (the OTLP exporter went on waiting after it,
// until its export timed out), or now if w has not seen it answer since.
func (w *watch) answered(now time.Time) time.Time {
	if w == nil {
		return now
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.answer.IsZero() || w.answer.After(now) {
		return now
	}
	return w.answer
}

// hide returns s with the header values w has seen replaced by
// convention.Redacted.
func (w *watch) hide(s string) string {
	if w == nil {
		return s
	}
	w.mu.Lock()
	secrets := w.secrets
	w.mu.Unlock()
	for _, v := range secrets {
		s = strings.ReplaceAll(s, v, convention.Redacted)
	}
	return s
}

// hideTruncate returns convention.Truncate(w.hide(s), n), at a cost
// bounded by n rather than by len(s) (an OTLP/HTTP error holds up to 4 MiB
// of the collector's answer; hiding 64 values in all of it took 0.3 s):
// only the n bytes shown, and the longest value past them, are searched.
// A value begun in the bytes shown is hidden whole; the text shown is
// then cut at n bytes again.
func (w *watch) hideTruncate(s string, n int) string {
	if w == nil {
		return convention.Truncate(s, n)
	}
	w.mu.Lock()
	secrets := w.secrets
	w.mu.Unlock()
	if len(secrets) == 0 || len(s) <= n+len(secrets[0]) {
		return convention.Truncate(w.hide(s), n)
	}
	cut := n
	for i := 0; i < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(s[cut]); i++ {
		cut--
	}
	if !utf8.RuneStart(s[cut]) {
		cut = n
	}
	// Mark the bytes of every value found in the window (a value begun
	// before cut ends within it), then write what is shown, each run of
	// marked bytes as one marker.
	window := s[:cut+len(secrets[0])]
	marked := make([]bool, len(window))
	for _, v := range secrets {
		for i := 0; ; {
			j := strings.Index(window[i:], v)
			if j < 0 {
				break
			}
			for k := i + j; k < i+j+len(v); k++ {
				marked[k] = true
			}
			i += j + 1
		}
	}
	var b strings.Builder
	for i := 0; i < cut; {
		if !marked[i] {
			j := i
			for j < cut && !marked[j] {
				j++
			}
			b.WriteString(s[i:j])
			i = j
			continue
		}
		b.WriteString(convention.Redacted)
		for i < len(window) && marked[i] {
			i++
		}
	}
	shown := b.String()
	// The markers may have made it longer than n: cut again (a marker
	// cut holds no secret). The count is of the bytes not shown.
	if len(shown) > n {
		k := n
		for i := 0; i < utf8.UTFMax-1 && k > 0 && !utf8.RuneStart(shown[k]); i++ {
			k--
		}
		shown = shown[:k]
	}
	// As convention.Truncate ends it.
	return shown + convention.TruncatedMarker + strconv.Itoa(len(s)-cut) + " bytes]"
}

// hideErr returns err with the header values w has seen hidden from its
// text; it still wraps err.
func (w *watch) hideErr(err error) error {
	if w == nil || err == nil {
		return err
	}
	if text := w.hide(err.Error()); text != err.Error() {
		return hiddenError{text: text, err: err}
	}
	return err
}

// hideCut returns err with the header values w has seen hidden from its
// text, and the text cut to n bytes (see hideTruncate). It still wraps
// err, unless the text was cut: an error kept until ForceFlush or Close
// returns it, an OTLP/HTTP export's, may hold megabytes of the
// collector's answer, which only the bytes shown are kept of.
func (w *watch) hideCut(err error, n int) error {
	text := err.Error()
	if len(text) > n {
		return hiddenError{text: w.hideTruncate(text, n)}
	}
	if shown := w.hide(text); shown != text {
		return hiddenError{text: shown, err: err}
	}
	return err
}

// hiddenError is an error whose text hides secrets its cause shows.
type hiddenError struct {
	text string
	err  error
}

func (e hiddenError) Error() string { return e.text }
func (e hiddenError) Unwrap() error { return e.err }

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

// proxy is the proxy function NewOTLPHTTP gives otlptracehttp, which then
// clones its process-wide transport for the exporter: it notes that the
// exporter's requests go through that transport of its own. It chooses
// the proxy as that process-wide transport does.
//
// The connections of another transport (a client given with
// otlptracehttp.WithHTTPClient, a transport given with WithProxy) may
// carry other requests once an export's is over: Close leaves them.
func (w *watch) proxy(r *http.Request) (*url.URL, error) {
	if !w.own.Load() {
		w.own.Store(true)
	}
	return http.ProxyFromEnvironment(r)
}

// closeConns closes the connections w saw, which ends their goroutines:
// the exporter's exports are over. It closes none of a transport that is
// not the exporter's own (see proxy).
func (w *watch) closeConns() {
	if w == nil || !w.own.Load() {
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
