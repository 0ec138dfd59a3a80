// Command demo is a small web shop with appstats mounted: its pages call a
// loopback "backend" over HTTP with varied latency, run calls in parallel,
// fall into N+1 loops (HTTP and SQL) beside their fixed twins, hit errors,
// call a gRPC service, look up a name, talk over a raw socket, and wrap calls
// by hand. It generates its own traffic, so the dashboard has data at once.
//
//	go run ./examples/demo            # then open http://127.0.0.1:8080/stats/
//
// It serves HTTP/1.1 and, to a client that opens with it, HTTP/2 without
// TLS (curl --http2-prior-knowledge; an Upgrade from HTTP/1.1, as curl
// --http2 asks, is answered in HTTP/1.1).
//
// Flags: -addr (default 127.0.0.1:8080), -data (default ./appstats-data),
// -traffic (default true: request its own pages a few times a second),
// -store (a redis:// or rediss:// URL: keep records in a Redis shared by
// several demos instead of Badger under -data), -instance (this process's
// name in the records, default host/pid), -source (the directory whose Go
// files the dashboard's stack frames link to; default this module's, ""
// for none), -slowtraces (default false: attach a Go execution trace to
// the records of slow requests). Its calls are priced as a cloud provider
// would bill them (cost.go), so the dashboard shows what each route costs.
//
// A fleet of three on one Redis, each dashboard showing all three:
//
//	go run ./examples/demo -addr 127.0.0.1:8081 -store redis://127.0.0.1:6379 -instance web-1
//	go run ./examples/demo -addr 127.0.0.1:8082 -store redis://127.0.0.1:6379 -instance web-2
//	go run ./examples/demo -addr 127.0.0.1:8083 -store redis://127.0.0.1:6379 -instance web-3
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/redisstore"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve the demo on")
	data := flag.String("data", "appstats-data", "directory for recorded data")
	traffic := flag.Bool("traffic", true, "generate traffic against the demo's own pages")
	storeURL := flag.String("store", "", "redis:// or rediss:// URL of a Redis shared by a fleet (instead of -data)")
	instance := flag.String("instance", "", "this process's name in the records (default host/pid)")
	source := flag.String("source", moduleDir(), "directory whose .go files the dashboard shows at stack frames (\"\": none)")
	slowTraces := flag.Bool("slowtraces", false, "attach a Go execution trace to the records of slow requests (the runtime's flight recorder)")
	flag.Parse()
	if err := run(options{addr: *addr, data: *data, traffic: *traffic, storeURL: *storeURL, instance: *instance,
		source: *source, slowTraces: *slowTraces}); err != nil {
		log.Fatal(err)
	}
}

// options are the demo's flags.
type options struct {
	addr, data         string
	traffic            bool
	storeURL, instance string
	source             string // see -source
	slowTraces         bool
}

// run serves the demo until SIGINT or SIGTERM, then shuts down in the order
// that loses nothing: the server first (requests in flight finish, the
// dashboards' live streams end), then what the app started, then appstats,
// which writes the last records and closes the store.
func run(o options) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// Records are exported as OpenTelemetry traces when
	// OTEL_EXPORTER_OTLP_ENDPOINT is set (protocol from
	// OTEL_EXPORTER_OTLP_PROTOCOL, service name from OTEL_SERVICE_NAME).
	cfg := appstats.Config{Dir: o.data, Logger: logger,
		// Every call priced as a cloud API would bill it (cost.go).
		Cost: demoCost,
	}
	if o.storeURL != "" {
		cfg.Dir, cfg.StoreURL = "", o.storeURL
		// go-redis's own messages (failed dials while Redis is away) into
		// this log, at debug level.
		redis.SetLogger(redisstore.GoRedisLogger(logger, slog.LevelDebug))
	}
	if o.instance != "" {
		cfg.RecorderOptions = append(cfg.RecorderOptions, recording.WithInstance(o.instance))
	}
	if o.slowTraces {
		// An execution trace of requests slower than 150 ms, or than
		// their route's p99 once it has 30 requests; two a minute at most.
		cfg.SlowTraces = recording.FlightRecording{Threshold: 150 * time.Millisecond, RouteP99: true, MinRequests: 30}
	}
	if o.source != "" {
		cfg.SourceRoots = []string{o.source}
	}
	if os.Getenv("OTEL_SERVICE_NAME") == "" {
		cfg.ServiceName = "appstats-demo"
	}
	as, err := appstats.Open(cfg)
	if errors.Is(err, badgerstore.ErrLocked) {
		return fmt.Errorf("%w: is a demo running already? Stop it, or give this one -data and -addr of its own", err)
	}
	if err != nil && o.storeURL == "" {
		// A directory it cannot make or write (read-only, under a file):
		// Badger's words do not say which flag to change.
		return fmt.Errorf("%w (-data names the directory the records are kept in: give one the demo can create and write)", err)
	}
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, as.Close()) }() // runs last

	handler, closeApp, err := newApp(as)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeApp()) }()

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("%w (-addr serves the demo on another address)", err)
	}
	srv := newServer(handler, idleTimeout)
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()
	logger.Info("demo listening", "app", base+"/", "dashboard", base+"/stats/")

	var wg sync.WaitGroup
	if o.traffic {
		wg.Add(1)
		go func() { defer wg.Done(); generate(ctx, base) }()
	}
	<-ctx.Done()
	logger.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	wg.Wait()
	return err
}

// idleTimeout is how long the demo's server keeps a connection that has
// no request in progress: ReadHeaderTimeout does not bound an HTTP/2
// connection, nor an HTTP/1.1 one after its first request.
const idleTimeout = 2 * time.Minute

// newServer returns the demo's server of h, which closes a connection idle
// for idle. It speaks HTTP/1.1 and, to a client that knows it does (curl
// --http2-prior-knowledge, a Go client with Protocols.SetUnencryptedHTTP2),
// HTTP/2 without TLS, as a service behind a TLS-terminating proxy or in a
// mesh often does: the records and the dashboard are the same over both.
func newServer(h http.Handler, idle time.Duration) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: idle, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	return srv
}

// moduleDir returns the directory of this module's sources as the build
// recorded it, or "" when it recorded none (-trimpath).
func moduleDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) {
		return ""
	}
	return filepath.Dir(filepath.Dir(filepath.Dir(file))) // examples/demo/main.go → the module
}

// newApp starts the shop's backend and services and returns its handler,
// recorded by as, with the dashboard at /stats/, and a function that stops
// what it started.
func newApp(as *appstats.Appstats) (http.Handler, func() error, error) {
	backend, err := startBackend()
	if err != nil {
		return nil, nil, err
	}
	svc, err := startServices(as.Recorder())
	if err != nil {
		backend.Close()
		return nil, nil, err
	}
	app := &shop{
		backend: "http://" + backend.Addr().String(),
		client:  &http.Client{Transport: as.Transport(nil), Timeout: 5 * time.Second},
	}
	mux := http.NewServeMux()
	app.routes(mux)
	svc.routes(mux)
	mux.Handle("/stats/", as.UI())
	return as.Middleware(mux), func() error { return errors.Join(svc.Close(), backend.Close()) }, nil
}

// shop is the demo application.
type shop struct {
	backend string
	client  *http.Client
}

func (s *shop) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /product/{id}", s.product)
	mux.HandleFunc("GET /home", s.home)
	mux.HandleFunc("GET /orders", s.ordersNPlusOne)
	mux.HandleFunc("GET /orders/batched", s.ordersBatched)
	mux.HandleFunc("GET /checkout", s.checkout)
	mux.HandleFunc("GET /report", s.report)
	mux.HandleFunc("GET /assistant", s.assistant)
}

func (s *shop) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><title>appstats demo</title><h1>appstats demo shop</h1><ul>
<li><a href="product/7">/product/7</a> — one backend call
<li><a href="home">/home</a> — three calls in parallel
<li><a href="orders">/orders</a> — an N+1 loop
<li><a href="orders/batched">/orders/batched</a> — the same, batched
<li><a href="checkout">/checkout</a> — a failing dependency
<li><a href="report">/report</a> — calls wrapped by hand
<li><a href="customers/orders">/customers/orders</a> — SQL, an N+1 loop
<li><a href="customers/orders/joined">/customers/orders/joined</a> — SQL, the same with a join
<li><a href="stock">/stock</a> — a gRPC call (<a href="stock/unknown">failing</a>)
<li><a href="lookup">/lookup</a> — a DNS lookup
<li><a href="socket">/socket</a> — a raw socket exchange
</ul><p><a href="stats/">dashboard</a></p>`)
}

// fetch makes one backend call with the request's context, so it is recorded.
func (s *shop) fetch(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", s.backend+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("backend %s: %s", path, resp.Status)
	}
	return b, nil
}

func (s *shop) product(w http.ResponseWriter, r *http.Request) {
	// The ID goes into the backend's URL: a number, never a path of the
	// backend's other than a product's ("..%2fcart" fetched its cart).
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 32)
	if err != nil {
		http.Error(w, "product id: want a whole number from 0 to 4294967295", http.StatusBadRequest)
		return
	}
	b, err := s.fetch(r.Context(), "/api/products/"+strconv.FormatUint(id, 10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.Write(b)
}

// home runs three independent calls in parallel goroutines.
func (s *shop) home(w http.ResponseWriter, r *http.Request) {
	paths := []string{"/api/recommendations", "/api/cart", "/api/banner"}
	out := make([][]byte, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], _ = s.fetch(r.Context(), p)
		}()
	}
	wg.Wait()
	for _, b := range out {
		w.Write(b)
		io.WriteString(w, "\n")
	}
}

// ordersNPlusOne lists orders, then fetches each order's item with its own
// call: the N+1 pattern the details page warns about.
func (s *shop) ordersNPlusOne(w http.ResponseWriter, r *http.Request) {
	if _, err := s.fetch(r.Context(), "/api/orders"); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for range 8 {
		b, _ := s.fetch(r.Context(), "/api/items?order=latest")
		w.Write(b)
	}
}

// ordersBatched is the fixed twin: one call for all items.
func (s *shop) ordersBatched(w http.ResponseWriter, r *http.Request) {
	if _, err := s.fetch(r.Context(), "/api/orders"); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	b, _ := s.fetch(r.Context(), "/api/items?order=all")
	w.Write(b)
}

// checkout depends on a payment service that fails now and then.
func (s *shop) checkout(w http.ResponseWriter, r *http.Request) {
	if _, err := s.fetch(r.Context(), "/api/cart"); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if _, err := s.fetch(r.Context(), "/api/payments"); err != nil {
		http.Error(w, "payment failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	io.WriteString(w, "paid\n")
}

// report wraps non-HTTP work by hand: a cache lookup, a computation, and a
// custom event on the timeline.
func (s *shop) report(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	c := recording.StartCall(ctx, "cache", "Get")
	c.SetRequest("report:daily")
	time.Sleep(time.Duration(1+rand.IntN(3)) * time.Millisecond)
	err := errors.New("cache miss")
	c.End(err)

	recording.Event(ctx, "cache miss", "rebuilding report:daily")
	err = recording.Do(ctx, "report", "Build", func(ctx context.Context) error {
		time.Sleep(time.Duration(5+rand.IntN(10)) * time.Millisecond)
		_, err := s.fetch(ctx, "/api/orders")
		return err
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	c = recording.StartCall(ctx, "cache", "Set")
	c.SetRequest("report:daily")
	time.Sleep(time.Millisecond)
	c.End(nil)
	io.WriteString(w, "report ready\n")
}

// assistant asks a language model (simulated here) for a product
// description: a call whose price depends on its token counts, which the
// call carries as attributes.
func (s *shop) assistant(w http.ResponseWriter, r *http.Request) {
	c := recording.StartCall(r.Context(), "llm", "chat demo-model")
	in, out := 300+rand.IntN(1500), 50+rand.IntN(400)
	c.SetRequest("Describe product 42 in two sentences.")
	time.Sleep(time.Duration(out/10+rand.IntN(20)) * time.Millisecond) // about 10 tokens a millisecond
	c.SetAttrs(recording.Attr{Key: "gen_ai.request.model", Value: "demo-model"},
		recording.Attr{Key: "gen_ai.usage.input_tokens", Value: strconv.Itoa(in)},
		recording.Attr{Key: "gen_ai.usage.output_tokens", Value: strconv.Itoa(out)})
	c.SetResponse(fmt.Sprintf("%d tokens", out))
	c.End(nil)
	io.WriteString(w, "A sturdy widget. Loved by gophers.\n")
}

// generate requests the demo's pages until ctx ends.
func generate(ctx context.Context, base string) {
	pages := []string{"/product/7", "/product/42", "/home", "/orders", "/orders/batched", "/checkout", "/report", "/",
		"/customers/orders", "/customers/orders/joined", "/stock", "/stock/unknown", "/lookup", "/socket", "/assistant"}
	client := &http.Client{Timeout: 10 * time.Second}
	t := time.NewTicker(300 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		req, err := http.NewRequestWithContext(ctx, "GET", base+pages[rand.IntN(len(pages))], nil)
		if err != nil {
			continue
		}
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
}
