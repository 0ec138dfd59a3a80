// Package appstats is the one import that profiles a Go web service's calls,
// in the spirit of Google App Engine's Appstats: it records, for each request,
// a timeline of every outgoing call — HTTP, gRPC, SQL, sockets and DNS, or
// anything wrapped by hand — stores the records, and serves a dashboard.
//
//	as, err := appstats.Open(appstats.Config{Dir: "appstats-data"})
//	if err != nil { ... }
//	mux.Handle("/stats/", as.UI())                               // admin-only: loopback by default
//	client := &http.Client{Transport: as.Transport(nil)}         // outgoing calls recorded
//	srv := &http.Server{Addr: addr, Handler: as.Middleware(mux)} // requests recorded
//
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	go srv.ListenAndServe()
//	<-ctx.Done()
//	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
//	defer cancel()
//	srv.Shutdown(shutdown) // requests in flight finish; dashboards' live streams end
//	as.Close()             // then their records are written and the store closed
//
// Close comes after the server's Shutdown: a deferred Close would never run
// after log.Fatal(http.ListenAndServe(...)), and the records still queued
// would be lost.
//
// Calls made with the request's context are attributed to that request, also
// from goroutines the handler starts. Other kinds of call are recorded by
// their own packages (middleware/grpcstats, middleware/sqlstats,
// middleware/netstats) or by hand with [recording.StartCall],
// [recording.Do] and [recording.Event].
//
// The parts — [recording.Recorder], the [httpstats] package, the stores
// under store/, the ui package and otelexport — can also be wired by hand;
// this package only chooses defaults.
package appstats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/goappstats/appstats/internal/redact"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/ui"
)

// Config configures [Open]. The zero value is usable.
type Config struct {
	// Dir is the directory of the embedded Badger store (created if
	// missing). Empty means "appstats-data" in the working directory, unless
	// InMemory is set.
	Dir string
	// Store tunes the Badger store: retention (7 days, 1M records, 1 GiB by
	// default), durability, memory, and the maximum of distinct routes and
	// RPCs kept per time window (MaxKeys, which the in-memory and Redis
	// stores use too); the zero value is the documented defaults. The
	// in-memory store takes MaxTraceBytes too (its default 64 MiB, see
	// memstore.WithMaxTraceBytes).
	Store badgerstore.Options
	// StoreURL, when set, keeps records in a Redis shared by the instances
	// of a fleet (store/redisstore) instead of Badger under Dir:
	// redis://[user:password@]host:port[/db] or rediss:// for TLS, a
	// single server or any node of a Redis Cluster, with ?prefix=name to
	// keep this service's records apart from others' in a shared Redis. Every instance's
	// dashboard then shows the records of all, and refreshes when any of
	// them records. Open fails if the server does not answer; once open,
	// an outage drops records (counted) and never fails a request.
	StoreURL string
	// InMemory keeps records in memory only (memstore), when Dir and
	// StoreURL are empty.
	InMemory bool
	// MemoryCapacity bounds the in-memory store (default memstore.DefaultCapacity).
	MemoryCapacity int

	// SampleRate is the fraction of requests recorded, in (0, 1]; 0 means 1.
	// To record nothing, pause the recorder or leave the middleware out.
	SampleRate float64

	// UIPrefix is the path the dashboard is mounted at (default "/stats/";
	// leading and trailing slashes are added when missing); requests under
	// it are not recorded (the recorder excludes them with a
	// [recording.Filter] on the prefix), so it cannot be "/": Open fails.
	UIPrefix string

	// Auth decides who may see the dashboard. Nil means [ui.LocalOnly]:
	// loopback clients, asking for localhost or a loopback IP (or a name of
	// LocalHosts), whose requests carry no proxy headers. A reverse proxy
	// on the same host that adds no proxy header cannot be told from a
	// local client: behind one, set Auth. Use [ui.BasicAuth] or your own
	// check for anything else.
	Auth func(*http.Request) bool
	// LocalHosts are more names the default check admits in a request's
	// Host header, besides localhost, *.localhost and loopback IPs: a name
	// /etc/hosts maps to 127.0.0.1, say (see [ui.WithLocalHosts]). Only
	// names you control: a web page served under a listed name could read
	// the dashboard from a browser on this machine. Ignored when Auth is
	// set.
	LocalHosts []string

	// TraceLink, when set, links each record's trace ID to an external trace
	// viewer; "{trace_id}" is replaced, e.g.
	// "http://127.0.0.1:16686/trace/{trace_id}".
	TraceLink string

	// SourceRoots turns on the dashboard's source viewer: a stack frame of
	// a file under one of these directories links to the lines around it
	// (see [ui.WithSourceRoots]). Only .go files under the roots, resolved
	// after symlinks, are served; [ui.SourceGOROOT] and [ui.SourceModCache]
	// name the standard library's sources and the module cache. Empty (the
	// default) serves no source at all.
	SourceRoots []string

	// Cost prices every recorded call (see [recording.CostModel]): the
	// dashboard then shows Cost and Cost % columns in its RPC and path
	// stats, each request's total, and the API carries them, in
	// Cost.Unit. The zero value prices nothing.
	Cost recording.CostModel

	// SlowTraces attaches a Go execution trace to the records of slow
	// requests: the recorder runs the runtime's flight recorder and
	// snapshots it when a request ends slower than a threshold (per route,
	// or the route's p99), a few times a minute at most; the details page
	// offers the trace for `go tool trace` (see
	// [recording.WithFlightRecorder]). The zero value, the default, runs
	// no flight recorder. The store bounds the traces it keeps
	// (Store.MaxTraceBytes) and drops them before records.
	SlowTraces recording.FlightRecording

	// ServiceName names this service in exported traces (default
	// OTEL_SERVICE_NAME, else a service.name in OTEL_RESOURCE_ATTRIBUTES,
	// else "unknown_service:" and the executable's name).
	ServiceName string

	// OTLPEndpoint, when set, exports every record as a trace to this OTLP
	// collector URL, e.g. "http://127.0.0.1:4318" (OTLP/HTTP) or
	// "http://127.0.0.1:4317" with OTLPProtocol "grpc". When empty, records
	// are exported only if OTEL_EXPORTER_OTLP_ENDPOINT (or
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, with the protocol named by
	// OTEL_EXPORTER_OTLP_PROTOCOL, as OpenTelemetry SDKs do (and, as they
	// do, not under OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none).
	// Open fails on an endpoint, set here or there, that is not a URL,
	// with an error that hides its password.
	OTLPEndpoint string
	// OTLPProtocol is "http/protobuf" (the default) or "grpc".
	OTLPProtocol string
	// NoOTLP turns OTLP export off, whatever the environment says.
	NoOTLP bool

	// Logger receives the library's own warnings; nil means silent.
	Logger *slog.Logger

	// RecorderOptions and MiddlewareOptions are passed on as they are, after
	// the options this package derives from the fields above: to
	// [recording.New], and to [httpstats.NewMiddleware] for the requests of
	// [Appstats.Middleware]. Which requests are recorded is set by
	// RecorderOptions ([recording.WithInclude], [recording.WithExclude],
	// [recording.WithSampleRate]).
	RecorderOptions   []recording.Option
	MiddlewareOptions []httpstats.Option

	// CloseTimeout bounds how long Close waits for pending records to be
	// stored, and, when exporting, again for them to reach the OTLP
	// collector (default 10s): see Appstats.Close.
	CloseTimeout time.Duration
}

// Appstats is an open profiler: a recorder, its store and its dashboard.
type Appstats struct {
	cfg   Config
	rec   *recording.Recorder
	store store.Store
	otlp  *otelexport.Exporter // nil when not exporting
	live  *ui.Live
	ui    http.Handler
	mw    func(http.Handler) http.Handler

	closeOnce sync.Once

	// A shared store's announcements of every instance's records, to the
	// live feed: stopped by Close.
	stopSub func()
	subDone chan struct{}
}

// Open opens the store and starts the recorder. When the store cannot be
// opened (its directory held by another process: the error wraps
// [badgerstore.ErrLocked]; or one that cannot be created or written),
// Open returns the error and leaves nothing running: a service that must
// not depend on its profiler can log it and start without recording (its
// handler not wrapped in Middleware, no dashboard mounted), or open an
// in-memory store instead (Config.InMemory). A damaged store directory is
// no such error: it is moved aside and an empty store started (see
// package badgerstore).
func Open(cfg Config) (*Appstats, error) {
	if cfg.UIPrefix == "" {
		cfg.UIPrefix = "/stats/"
	}
	// As ui.WithPrefix takes it: the recorder leaves out the requests
	// under the path the dashboard serves, "/admin/stats/" for "admin/stats"
	// (a prefix without its leading slash left none out, so the dashboard's
	// live refresh recorded itself; one without its trailing slash left out
	// "/admin/statsfoo" too).
	if !strings.HasPrefix(cfg.UIPrefix, "/") {
		cfg.UIPrefix = "/" + cfg.UIPrefix
	}
	if !strings.HasSuffix(cfg.UIPrefix, "/") {
		cfg.UIPrefix += "/"
	}
	if cfg.UIPrefix == "/" {
		return nil, errors.New(`appstats: UIPrefix "/" would leave every request unrecorded (the dashboard's own are left out): ` +
			`serve the dashboard at a path of its own, on an admin server too (mux.Handle("/stats/", as.UI()))`)
	}
	if cfg.CloseTimeout <= 0 {
		cfg.CloseTimeout = 10 * time.Second
	}
	if cfg.SampleRate < 0 || cfg.SampleRate > 1 {
		return nil, fmt.Errorf("appstats: sample rate %v is not in (0, 1]", cfg.SampleRate)
	}
	st, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	a := &Appstats{cfg: cfg, store: st, live: ui.NewLive(ui.WithLiveLogger(cfg.Logger))}
	if a.otlp, err = openOTLP(cfg); err != nil {
		st.Close()
		return nil, err
	}
	// The live feed follows the store in one sequence, so a dashboard told
	// of new records finds them stored; the exporter has a queue of its
	// own, so a collector that is down or slow costs the store nothing. A
	// shared store announces every instance's records, this one's
	// included, to the live feed itself.
	sink := recording.Sequence(st, a.live)
	if rs, ok := st.(*redisstore.Store); ok {
		sink = st
		ctx, cancel := context.WithCancel(context.Background())
		a.stopSub, a.subDone = cancel, make(chan struct{})
		go func() {
			defer close(a.subDone)
			rs.Subscribe(ctx, a.live.Announce)
		}()
	}
	opts := []recording.Option{
		recording.WithSinks(sink),
		recording.WithLogger(cfg.Logger),
		recording.WithPropagator(otelexport.NewPropagator(nil)),           // trace context + baggage
		recording.WithExclude(recording.Filter{PathPrefix: cfg.UIPrefix}), // the dashboard's own requests
	}
	if a.otlp != nil {
		opts = append(opts, recording.WithSinks(a.otlp))
	}
	if cfg.SampleRate > 0 {
		opts = append(opts, recording.WithSampleRate(cfg.SampleRate))
	}
	// The zero values run no flight recorder and price nothing.
	opts = append(opts, recording.WithFlightRecorder(cfg.SlowTraces), recording.WithCostModel(cfg.Cost))
	a.rec = recording.New(append(opts, cfg.RecorderOptions...)...)
	a.mw = httpstats.NewMiddleware(a.rec, cfg.MiddlewareOptions...)
	uiOpts := []ui.Option{ui.WithPrefix(cfg.UIPrefix), ui.WithRecorder(a.rec), ui.WithLive(a.live), ui.WithLogger(cfg.Logger)}
	if cfg.Auth != nil {
		uiOpts = append(uiOpts, ui.WithAuth(cfg.Auth))
	}
	if len(cfg.LocalHosts) > 0 {
		uiOpts = append(uiOpts, ui.WithLocalHosts(cfg.LocalHosts...))
	}
	if cfg.TraceLink != "" {
		uiOpts = append(uiOpts, ui.WithTraceLink(cfg.TraceLink))
	}
	if len(cfg.SourceRoots) > 0 {
		uiOpts = append(uiOpts, ui.WithSourceRoots(cfg.SourceRoots...))
	}
	a.ui = ui.NewHandler(st, uiOpts...)
	return a, nil
}

func openOTLP(cfg Config) (*otelexport.Exporter, error) {
	if cfg.NoOTLP {
		return nil, nil
	}
	ctx := context.Background()
	opts := []otelexport.Option{otelexport.WithLogger(cfg.Logger)}
	if cfg.ServiceName != "" {
		opts = append(opts, otelexport.WithServiceName(cfg.ServiceName))
	}
	var (
		exp *otelexport.Exporter
		err error
	)
	switch {
	case cfg.OTLPEndpoint == "":
		exp, err = otelexport.NewFromEnv(ctx, opts...)
	case cfg.OTLPProtocol == "grpc":
		if _, err = otlpURL(cfg.OTLPEndpoint, "4317"); err == nil {
			exp, err = otelexport.NewOTLPGRPC(ctx, append(opts, otelexport.WithGRPCOptions(otlptracegrpc.WithEndpointURL(cfg.OTLPEndpoint)))...)
		}
	case cfg.OTLPProtocol == "" || cfg.OTLPProtocol == "http/protobuf":
		var u *url.URL
		if u, err = otlpURL(cfg.OTLPEndpoint, "4318"); err == nil {
			if u.Path == "" || u.Path == "/" {
				u.Path = "/v1/traces" // a base URL, as OTEL_EXPORTER_OTLP_ENDPOINT is
			}
			exp, err = otelexport.NewOTLPHTTP(ctx, append(opts, otelexport.WithHTTPOptions(otlptracehttp.WithEndpointURL(u.String())))...)
		}
	default:
		err = fmt.Errorf("OTLP protocol %q not supported (want grpc or http/protobuf)", cfg.OTLPProtocol)
	}
	if err != nil {
		return nil, fmt.Errorf("appstats: %w", err)
	}
	return exp, nil
}

// otlpURL parses Config.OTLPEndpoint, a URL with its host; port is the
// protocol's, for the error. The exporter would log a URL it cannot parse,
// password and all, through OpenTelemetry's global logger and send to its
// default endpoint instead; and a password that holds an unescaped '#',
// '?' or '/' parses as a host:port, where it would send ([redact.Parse]).
func otlpURL(endpoint, port string) (*url.URL, error) {
	u, ok := redact.Parse(endpoint)
	if !ok || u.Host == "" {
		return nil, fmt.Errorf("OTLP endpoint %q is not a URL like http://host:%s (with its scheme)", redact.URL(endpoint), port)
	}
	return u, nil
}

func openStore(cfg Config) (store.Store, error) {
	if cfg.StoreURL != "" {
		if cfg.Dir != "" || cfg.InMemory {
			return nil, errors.New("appstats: StoreURL is set together with Dir or InMemory; set one")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := redisstore.Open(ctx, cfg.StoreURL, redisstore.Options{Logger: cfg.Logger, MaxKeys: cfg.Store.MaxKeys})
		if err != nil {
			return nil, fmt.Errorf("appstats: %w", err)
		}
		return st, nil
	}
	if cfg.Dir == "" && cfg.InMemory {
		return memstore.New(cfg.MemoryCapacity, memstore.WithMaxKeys(cfg.Store.MaxKeys),
			memstore.WithMaxTraceBytes(cfg.Store.MaxTraceBytes)), nil
	}
	dir := cfg.Dir
	if dir == "" {
		dir = "appstats-data"
	}
	opts := cfg.Store
	if opts.Logger == nil {
		opts.Logger = cfg.Logger
	}
	st, err := badgerstore.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("appstats: %w", err)
	}
	return st, nil
}

// Middleware wraps next so that its requests are recorded, except those
// under Config.UIPrefix; see [httpstats.NewHandler].
func (a *Appstats) Middleware(next http.Handler) http.Handler { return a.mw(next) }

// Transport wraps base (nil means [http.DefaultTransport]) so that requests
// made with a recorded request's context are recorded as calls; see
// [httpstats.NewTransport].
func (a *Appstats) Transport(base http.RoundTripper) http.RoundTripper {
	return httpstats.NewTransport(base)
}

// UI returns the dashboard, to mount at Config.UIPrefix (default "/stats/"):
//
//	mux.Handle("/stats/", as.UI())
//
// It is admin-only: see Config.Auth.
func (a *Appstats) UI() http.Handler { return a.ui }

// Recorder returns the recorder, for wrappers such as grpcstats and
// sqlstats.
func (a *Appstats) Recorder() *recording.Recorder { return a.rec }

// Store returns the store records are kept in.
func (a *Appstats) Store() store.Store { return a.store }

// ForceFlush returns once the records of the requests finished before the
// call are in the store, and, when exporting, handed to the OTLP collector
// (successfully or not), or when ctx is done: for a test that reads the
// store or the dashboard, or a job about to exit. Records dropped because a
// queue was full are counted ([recording.Stats]), not waited for. While
// the collector has asked to wait (an HTTP Retry-After, gRPC RetryInfo),
// it returns an [*otelexport.RetryAfterError]: the records are in the
// store, and kept for export when the wait ends. When exports failed
// since the last ForceFlush (a collector down, refusing, or not answering
// in time), it returns an [*otelexport.ExportError] that says how many
// records were lost, and why; Close returns one too, for those no
// ForceFlush told of and those it gave up on. After
// Close, or when Close ends the wait, it returns [recording.ErrClosed]. See
// [recording.Recorder.ForceFlush].
func (a *Appstats) ForceFlush(ctx context.Context) error {
	if err := a.rec.ForceFlush(ctx); err != nil {
		return err
	}
	err := a.otlp.ForceFlush(ctx) // nil when not exporting: nothing to flush
	if errors.Is(err, otelexport.ErrClosed) {
		// Close closed the exporter while the call waited for it (the
		// recorder, closed first, was flushed before): closed all the same.
		return recording.ErrClosed
	}
	return err
}

// Close ends the dashboards' live streams, stops recording, writes the
// records still pending (waiting at most Config.CloseTimeout), and closes the
// store; when exporting, it then hands the records still queued to the OTLP
// collector, waiting at most Config.CloseTimeout again (and a second more
// for an exporter that ignores its context), so that a slow store does not
// use up the collector's time. Its error names what failed ("appstats:
// recorder: context deadline exceeded" when a sink did not take its
// records in time; "appstats: store: …"; "appstats: otlp: …"). Calling it
// again does nothing and returns nil; a call made while another runs waits
// for that one to end first. A sink (of Config.RecorderOptions) must not
// call Close from its Write: while Close writes the pending records it
// waits on that Write, which then waits on Close, until CloseTimeout ends
// both, the records not written and the error the recorder's timeout
// (which call is a sink's, and must not wait, Close cannot tell from a
// signal handler's, which must). A sink that wants the program to stop
// tells main, which calls Close.
//
// Call it after the server has stopped serving, so that no request is cut
// short of its record:
//
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
//	defer stop()
//	go srv.ListenAndServe()
//	<-ctx.Done()
//	srv.Shutdown(context.Background()) // ends live streams too: they do not hold it up
//	as.Close()
func (a *Appstats) Close() error {
	// The first call closes, inside Do: a call made while it runs waits
	// for it to end (a signal handler's Close and main's deferred one),
	// so that neither returns before everything is closed.
	var err error
	a.closeOnce.Do(func() { err = a.close() })
	return err
}

// close is Close's work, done once.
func (a *Appstats) close() error {
	// Open streams first: a dashboard must not wait on, or hold up, what
	// follows.
	a.live.Close()
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.CloseTimeout)
	defer cancel()
	err := a.rec.Close(ctx)
	if errors.Is(err, recording.ErrClosed) {
		err = nil // closed by hand through Recorder(): the store still needs closing
	}
	if a.stopSub != nil {
		a.stopSub()
		<-a.subDone
	}
	errs := []error{closeErr("recorder", err), closeErr("store", a.store.Close())}
	if a.otlp != nil {
		// A deadline of its own: the recorder's drain may have used up ctx.
		octx, ocancel := context.WithTimeout(context.Background(), a.cfg.CloseTimeout)
		defer ocancel()
		errs = append(errs, closeErr("otlp", a.otlp.Close(octx)))
	}
	return errors.Join(errs...)
}

// closeErr returns err, if not nil, with the part of Close that returned
// it: two timeouts of Close read alike otherwise.
func closeErr(part string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("appstats: %s: %w", part, err)
}
