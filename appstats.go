// Package appstats is the one import that profiles a Go web service's calls,
// in the spirit of Google App Engine's Appstats: it records, for each request,
// a timeline of every outgoing call — HTTP, gRPC, SQL, sockets and DNS, or
// anything wrapped by hand — stores the records, and serves a dashboard.
//
//	as, err := appstats.Open(appstats.Config{Dir: "appstats-data"})
//	if err != nil { ... }
//	defer as.Close()                                      // flushes pending records
//	mux.Handle("/stats/", as.UI())                        // admin-only: loopback by default
//	client := &http.Client{Transport: as.Transport(nil)}  // outgoing calls recorded
//	http.ListenAndServe(addr, as.Middleware(mux))         // requests recorded
//
// Calls made with the request's context are attributed to that request, also
// from goroutines the handler starts. Other kinds of call are recorded by
// their own packages (middleware/grpcstats, middleware/sqlstats,
// middleware/netstats) or by hand with [recording.StartCall],
// [recording.Do] and [recording.Event].
//
// The parts — [recording.Recorder], the [middleware] package, the stores
// under store/, the ui package and otelexport — can also be wired by hand;
// this package only chooses defaults.
package appstats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/goappstats/appstats/middleware"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/memstore"
)

// Config configures [Open]. The zero value is usable.
type Config struct {
	// Dir is where records are kept. Empty means "appstats-data" in the
	// working directory, unless InMemory is set.
	Dir string
	// InMemory keeps records in memory only (memstore), when Dir is empty.
	InMemory bool
	// MemoryCapacity bounds the in-memory store (default memstore.DefaultCapacity).
	MemoryCapacity int

	// SampleRate is the fraction of requests recorded, in (0, 1]; 0 means 1.
	// To record nothing, pause the recorder or leave the middleware out.
	SampleRate float64

	// UIPrefix is the path the dashboard is mounted at (default "/stats/");
	// the middleware does not record requests under it.
	UIPrefix string

	// Logger receives the library's own warnings; nil means silent.
	Logger *slog.Logger

	// RecorderOptions and MiddlewareOptions are passed on as they are, after
	// the options this package derives from the fields above.
	RecorderOptions   []recording.Option
	MiddlewareOptions []middleware.Option

	// CloseTimeout bounds how long Close waits for pending records (default 10s).
	CloseTimeout time.Duration
}

// Appstats is an open profiler: a recorder, its store and its dashboard.
type Appstats struct {
	cfg   Config
	rec   *recording.Recorder
	store store.Store
	mw    func(http.Handler) http.Handler
}

// Open opens the store and starts the recorder.
func Open(cfg Config) (*Appstats, error) {
	if cfg.UIPrefix == "" {
		cfg.UIPrefix = "/stats/"
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
	a := &Appstats{cfg: cfg, store: st}
	opts := []recording.Option{recording.WithSinks(st), recording.WithLogger(cfg.Logger)}
	if cfg.SampleRate > 0 {
		opts = append(opts, recording.WithSampleRate(cfg.SampleRate))
	}
	a.rec = recording.New(append(opts, cfg.RecorderOptions...)...)
	mwOpts := append([]middleware.Option{middleware.WithSkipPaths(cfg.UIPrefix)}, cfg.MiddlewareOptions...)
	a.mw = middleware.New(a.rec, mwOpts...)
	return a, nil
}

func openStore(cfg Config) (store.Store, error) {
	return memstore.New(cfg.MemoryCapacity), nil
}

// Middleware wraps next so that its requests are recorded; see
// [middleware.Handler].
func (a *Appstats) Middleware(next http.Handler) http.Handler { return a.mw(next) }

// Transport wraps base (nil means [http.DefaultTransport]) so that requests
// made with a recorded request's context are recorded as calls; see
// [middleware.Transport].
func (a *Appstats) Transport(base http.RoundTripper) http.RoundTripper {
	return middleware.Transport(base, a.cfg.MiddlewareOptions...)
}

// Recorder returns the recorder, for wrappers such as grpcstats and
// sqlstats.
func (a *Appstats) Recorder() *recording.Recorder { return a.rec }

// Store returns the store records are kept in.
func (a *Appstats) Store() store.Store { return a.store }

// Close stops recording, writes the records still pending (waiting at most
// Config.CloseTimeout), and closes the store.
func (a *Appstats) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.CloseTimeout)
	defer cancel()
	err := a.rec.Close(ctx)
	if errors.Is(err, recording.ErrClosed) {
		return nil
	}
	return errors.Join(err, a.store.Close())
}
