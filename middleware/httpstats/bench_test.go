package httpstats_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"golang.org/x/net/trace"

	"github.com/goappstats/appstats/internal/cputime"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
)

// hello writes its body with Write: io.WriteString would assert the
// writer to io.StringWriter, and the runtime fills the cache of that call
// site (io.WriteString's, and the wrapper's own for the writer it wraps) on
// about one miss in 1,024 — until it does, each request pays a
// runtime.getitab, ~250 instructions, in one run of a peer and not in the
// next, which spread instruction counts by up to ~190 a request.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Write(helloBody)
})

var helloBody = []byte("hello")

// discardExporter drops spans, as the discarding sink drops records.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// otelProvider is the comparison DESIGN.md names: the SDK tracer, always
// sampling, a batch span processor, an exporter that discards.
func otelProvider(b *testing.B) *sdktrace.TracerProvider {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithBatcher(discardExporter{}),
	)
	b.Cleanup(func() { tp.Shutdown(context.Background()) })
	return tp
}

// discardSink drops records, keeping none (a recording.Borrower, as the
// stores are: the recorder reuses records' memory).
type discardSink struct{}

func (discardSink) Write(context.Context, []*recording.Record) error { return nil }
func (discardSink) BorrowsRecords() bool                             { return true }

func discardRecorder(b *testing.B, opts ...recording.Option) *recording.Recorder {
	rec := recording.New(append([]recording.Option{recording.WithSinks(discardSink{}), recording.WithQueueSize(1 << 14)}, opts...)...)
	b.Cleanup(func() { rec.Close(context.Background()) })
	return rec
}

func serve(b *testing.B, h http.Handler) { serveN(b, h, false) }

// serveN serves b.N requests through h; with yield, the goroutine yields
// after each (see BenchmarkMiddlewareYield).
func serveN(b *testing.B, h http.Handler, yield bool) {
	serveNCtx(b, h, yield, context.Background())
}

// serveNCtx is serveN with requests whose context is ctx.
func serveNCtx(b *testing.B, h http.Handler, yield bool, ctx context.Context) {
	req := httptest.NewRequestWithContext(ctx, "GET", "/hello?x=1", nil)
	req.Header.Set("User-Agent", "bench")
	req.Header.Set("Accept", "*/*")
	b.ReportAllocs()
	cpu := startCPU(b)
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(httptest.NewRecorder(), req)
		if yield {
			runtime.Gosched()
		}
	}
	cpu()
}

// BenchmarkMiddlewareParallel is BenchmarkMiddleware's bare and appstats
// cases served from every core at once (run it with -cpu 2): what a
// request costs when requests finish on several cores while the
// recorder's writer runs on one of them, as under load, where fields that
// one core writes and another reads move between their caches. cpu-ns/op
// is the process's CPU time per request.
func BenchmarkMiddlewareParallel(b *testing.B) {
	b.Run("bare", func(b *testing.B) { serveParallel(b, hello) })
	b.Run("appstats", func(b *testing.B) { serveParallel(b, httpstats.NewHandler(discardRecorder(b), hello)) })
}

// serveParallel serves b.N requests through h from GOMAXPROCS goroutines.
func serveParallel(b *testing.B, h http.Handler) {
	b.ReportAllocs()
	cpu := startCPU(b)
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/hello?x=1", nil)
		req.Header.Set("User-Agent", "bench")
		req.Header.Set("Accept", "*/*")
		for pb.Next() {
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
	cpu()
}

// startCPU resets the benchmark timer and returns a function that stops it
// and reports the process CPU time per operation as "cpu-ns/op": unlike
// ns/op, it counts work done by background goroutines (the recorder's writer,
// the OTel batch processor) on other cores.
func startCPU(b *testing.B) (stop func()) {
	b.ResetTimer()
	c0, ok := cputime.Process()
	return func() {
		b.StopTimer()
		if c1, _ := cputime.Process(); ok && b.N > 0 {
			b.ReportMetric(float64(c1-c0)/float64(b.N), "cpu-ns/op")
		}
	}
}

// BenchmarkMiddleware compares, in one run, the hello handler bare, wrapped
// by appstats (100% sampled, real pipeline, discarding sink), at 1% sampling,
// unsampled, wrapped by otelhttp, and traced with golang.org/x/net/trace (a
// trace per request put in the request's context, as a user must to attach
// events to it).
func BenchmarkMiddleware(b *testing.B) {
	b.Run("bare", func(b *testing.B) { serve(b, hello) })
	b.Run("appstats", func(b *testing.B) { serve(b, httpstats.NewHandler(discardRecorder(b), hello)) })
	b.Run("appstats-1pct", func(b *testing.B) {
		serve(b, httpstats.NewHandler(discardRecorder(b, recording.WithSampleRate(0.01)), hello))
	})
	b.Run("appstats-unsampled", func(b *testing.B) {
		serve(b, httpstats.NewHandler(discardRecorder(b, recording.WithSampleRate(0)), hello))
	})
	b.Run("otelhttp", func(b *testing.B) {
		serve(b, otelhttp.NewHandler(hello, "hello", otelhttp.WithTracerProvider(otelProvider(b)),
			otelhttp.WithPropagators(propagation.TraceContext{})))
	})
	b.Run("xnettrace", func(b *testing.B) { serve(b, netTrace(hello)) })
}

// netTrace is the x/net/trace peer: a trace per request, in its context.
func netTrace(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr := trace.New("hello", r.URL.Path)
		next.ServeHTTP(w, r.WithContext(trace.NewContext(r.Context(), tr)))
		tr.Finish()
	})
}

// callDepth is how deep below the handler each call of tenCalls is made, so
// that with the frames above the handler the call site is 16 frames deep:
// the stack appstats captures is the full default of 16 frames.
const callDepth = 6

// tenCalls is the hello handler making ten calls, each reported the way the
// tool under test needs: call(ctx) is run ten times, callDepth frames below
// the handler.
func tenCalls(call func(ctx context.Context)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		for range 10 {
			atDepth(callDepth, func() { call(ctx) })
		}
		w.Write(helloBody) // see hello
	})
}

// atDepth calls f with n more frames on the stack.
//
//go:noinline
func atDepth(n int, f func()) {
	if n <= 0 {
		f()
		return
	}
	atDepth(n-1, f)
}

// BenchmarkMiddlewareCalls is BenchmarkMiddleware's peers with a handler
// making ten calls: none reported (bare), ten recorded calls with their
// 16-frame stacks (appstats), ten child spans (otelhttp), ten events of the
// request's trace (x/net/trace, LazyPrintf). Subtracting
// BenchmarkMiddleware's figure of the same peer and dividing by ten gives
// the cost of one call, span or event.
func BenchmarkMiddlewareCalls(b *testing.B) {
	b.Run("bare", func(b *testing.B) { serve(b, tenCalls(func(context.Context) {})) })
	b.Run("appstats", func(b *testing.B) {
		serve(b, httpstats.NewHandler(discardRecorder(b), tenCalls(func(ctx context.Context) {
			recording.StartCall(ctx, "svc", "Method").End(nil)
		})))
	})
	b.Run("otelhttp", func(b *testing.B) {
		tp := otelProvider(b)
		tr := tp.Tracer("bench")
		serve(b, otelhttp.NewHandler(tenCalls(func(ctx context.Context) {
			_, sp := tr.Start(ctx, "svc.Method")
			sp.End()
		}), "hello", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagation.TraceContext{})))
	})
	b.Run("xnettrace", func(b *testing.B) {
		serve(b, netTrace(tenCalls(func(ctx context.Context) {
			if tr, ok := trace.FromContext(ctx); ok {
				tr.LazyPrintf("%s.%s", "svc", "Method")
			}
		})))
	})
}

// BenchmarkMiddlewareYield is BenchmarkMiddleware's and
// BenchmarkMiddlewareCalls' peers (bare, appstats, otelhttp, xnettrace,
// and the same with "calls-" before them), yielding after each request.
// It is for instruction counts with one P (scripts/callgrind-middleware.sh
// runs the others): there a background goroutine — the recorder's writer,
// OTel's batch processor — runs only when the benchmark yields, and
// without yields it falls behind by a number of requests that moves from
// run to run, and with it the count of records allocated afresh (by up to
// ~1,200 instructions a request). Yielding after each request keeps them
// up, every peer paying the same yield, which subtracting bare removes.
func BenchmarkMiddlewareYield(b *testing.B) {
	for _, calls := range []bool{false, true} {
		prefix, handler := "", func(call func(context.Context)) http.Handler { return hello }
		if calls {
			prefix, handler = "calls-", tenCalls
		}
		b.Run(prefix+"bare", func(b *testing.B) { serveN(b, handler(func(context.Context) {}), true) })
		b.Run(prefix+"appstats", func(b *testing.B) {
			serveN(b, httpstats.NewHandler(discardRecorder(b), handler(func(ctx context.Context) {
				recording.StartCall(ctx, "svc", "Method").End(nil)
			})), true)
		})
		b.Run(prefix+"otelhttp", func(b *testing.B) {
			tp := otelProvider(b)
			tr := tp.Tracer("bench")
			serveN(b, otelhttp.NewHandler(handler(func(ctx context.Context) {
				_, sp := tr.Start(ctx, "svc.Method")
				sp.End()
			}), "hello", otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagation.TraceContext{})), true)
		})
		b.Run(prefix+"xnettrace", func(b *testing.B) {
			serveN(b, netTrace(handler(func(ctx context.Context) {
				if tr, ok := trace.FromContext(ctx); ok {
					tr.LazyPrintf("%s.%s", "svc", "Method")
				}
			})), true)
		})
	}
}

// BenchmarkMiddlewareServerContext is BenchmarkMiddlewareYield's bare and
// appstats peers with the request's context of the nodes net/http's HTTP/1
// server gives a request (the request's cancelCtx over the connection's,
// over the local address's value), which the handler tells from a context
// middleware derived over an outer's record (see serverMade), rather than
// httptest.NewRequest's context.Background.
func BenchmarkMiddlewareServerContext(b *testing.B) {
	ctx := context.WithValue(context.Background(), http.LocalAddrContextKey, &net.TCPAddr{})
	ctx, cancelConn := context.WithCancel(ctx)
	defer cancelConn()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b.Run("bare", func(b *testing.B) { serveNCtx(b, hello, true, ctx) })
	b.Run("appstats", func(b *testing.B) { serveNCtx(b, httpstats.NewHandler(discardRecorder(b), hello), true, ctx) })
}

// BenchmarkMiddlewareKept is BenchmarkMiddlewareYield's appstats peer
// recording into memstore, as appstats-bench's hello scenario does: each
// record is prepared and written by memstore's Write, which encodes it
// into the store's own memory, on the recorder's goroutines, which the
// yield after each request lets keep up. memstore is a recording.Borrower
// (since the twenty-second round; it kept the *Records before, and the
// recorder allocated each afresh), so the recorder reuses the records:
// its instructions less appstats' are what memstore's Write adds. The
// store keeps 256 records, so that from a few hundred requests on each
// Write drops as many as it adds, as a full store does.
func BenchmarkMiddlewareKept(b *testing.B) {
	st := memstore.New(256)
	b.Cleanup(func() { st.Close() })
	rec := recording.New(recording.WithSinks(st), recording.WithQueueSize(1<<14))
	b.Cleanup(func() { rec.Close(context.Background()) })
	serveN(b, httpstats.NewHandler(rec, hello), true)
}

// BenchmarkCallVsSpan compares one recorded call (with its stack) to one
// OTel span started and ended under a recorded/traced parent.
func BenchmarkCallVsSpan(b *testing.B) {
	b.Run("appstats-call", func(b *testing.B) {
		rec := discardRecorder(b)
		b.ReportAllocs()
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{})
		for i := 0; i < b.N; i++ {
			if i%500 == 499 {
				b.StopTimer()
				ar.Finish()
				ctx, ar = rec.StartRecord(context.Background(), recording.RequestInfo{})
				b.StartTimer()
			}
			recording.StartCall(ctx, "svc", "Method").End(nil)
		}
		ar.Finish()
	})
	b.Run("otel-span", func(b *testing.B) {
		tr := otelProvider(b).Tracer("bench")
		ctx, parent := tr.Start(context.Background(), "parent")
		defer parent.End()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_, sp := tr.Start(ctx, "svc.Method")
			sp.End()
		}
	})
}

// roundTrip makes b.N GET requests through client to url over loopback,
// reading and closing each body; ctx returns the context for request i.
func roundTrip(b *testing.B, client *http.Client, url string, ctx func(i int) context.Context) {
	b.ReportAllocs()
	cpu := startCPU(b)
	defer cpu()
	for i := 0; i < b.N; i++ {
		req, err := http.NewRequestWithContext(ctx(i), "GET", url, nil)
		if err != nil {
			b.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkTransport compares, in one run, a loopback round trip (GET, a
// 5-byte body read to EOF, keep-alive) through a bare http.Transport, through
// httpstats.NewTransport inside a recorded request (100% sampled, real
// pipeline, discarding sink; the record is finished and a new one started
// every 100 calls), and through otelhttp.NewTransport under a sampled parent
// span (SDK tracer, AlwaysSample, batch processor, discarding exporter).
func BenchmarkTransport(b *testing.B) {
	srv := httptest.NewServer(hello)
	b.Cleanup(srv.Close)
	base := func(b *testing.B) *http.Transport {
		t := &http.Transport{MaxIdleConnsPerHost: 4}
		b.Cleanup(t.CloseIdleConnections)
		return t
	}
	url := srv.URL + "/items/42?q=1"
	b.Run("bare", func(b *testing.B) {
		client := &http.Client{Transport: base(b)}
		roundTrip(b, client, url, func(int) context.Context { return context.Background() })
	})
	b.Run("appstats", func(b *testing.B) {
		rec := discardRecorder(b)
		client := &http.Client{Transport: httpstats.NewTransport(base(b))}
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		roundTrip(b, client, url, func(i int) context.Context {
			if i%100 == 99 {
				ar.Finish()
				ctx, ar = rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
			}
			return ctx
		})
		ar.Finish()
	})
	b.Run("otelhttp", func(b *testing.B) {
		tp := otelProvider(b)
		client := &http.Client{Transport: otelhttp.NewTransport(base(b),
			otelhttp.WithTracerProvider(tp), otelhttp.WithPropagators(propagation.TraceContext{}))}
		ctx, parent := tp.Tracer("bench").Start(context.Background(), "parent")
		defer parent.End()
		roundTrip(b, client, url, func(int) context.Context { return ctx })
	})
}

// BenchmarkTransportKept is BenchmarkTransport's appstats case as
// appstats-bench's fanout scenario records: ten calls a record, into a
// sink that keeps its records (the last 256, as a store of 256 records
// would; the recorder allocates each afresh, with its calls), so that
// B/op and allocs/op are a call's share of everything recording
// allocates for it, its record's included. (It recorded into memstore,
// which kept its records until the twenty-second round and now borrows
// them.) appstats-memstore records into memstore (256 records), as the
// fanout scenario does: memstore borrows records, and the recorder reuses
// them, with their calls' array and rooms.
func BenchmarkTransportKept(b *testing.B) {
	srv := httptest.NewServer(hello)
	b.Cleanup(srv.Close)
	t := &http.Transport{MaxIdleConnsPerHost: 4}
	b.Cleanup(t.CloseIdleConnections)
	url := srv.URL + "/items/42?q=1"
	for _, name := range []string{"bare", "appstats", "appstats-memstore"} {
		transport, sink := http.RoundTripper(t), keepLast(256)
		if name != "bare" {
			transport = httpstats.NewTransport(t)
		}
		if name == "appstats-memstore" {
			st := memstore.New(256)
			b.Cleanup(func() { st.Close() })
			sink = st
		}
		b.Run(name, func(b *testing.B) {
			rec := recording.New(recording.WithSinks(sink), recording.WithQueueSize(1<<14))
			b.Cleanup(func() { rec.Close(context.Background()) })
			client := &http.Client{Transport: transport}
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
			roundTrip(b, client, url, func(i int) context.Context {
				if i%10 == 9 {
					ar.Finish()
					runtime.Gosched() // the writer keeps up
					ctx, ar = rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
				}
				return ctx
			})
			ar.Finish()
		})
	}
}

// keepLast returns a sink that keeps the last n records it is given: not
// a recording.Borrower, so a recorder writing into it allocates each
// record afresh.
func keepLast(n int) recording.Sink {
	kept := make([]*recording.Record, n)
	next := 0
	return recording.SinkFunc(func(_ context.Context, recs []*recording.Record) error {
		for _, r := range recs {
			kept[next] = r
			next = (next + 1) % n
		}
		return nil
	})
}
