package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/ui"
)

// basicAuthEnv holds user:password for serve, out of the process list.
const basicAuthEnv = "APPSTATS_BASIC_AUTH"

// serve serves the dashboard over the store until ctx ends.
func serve(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) (err error) {
	fs := newFlags("serve", stderr)
	var src source
	src.flags(fs, true)
	addr := fs.String("addr", "127.0.0.1:8081", "the address to serve on")
	basic := fs.String("basic-auth", "", "user:password for HTTP Basic authentication (or in $"+basicAuthEnv+"); needed to serve beyond loopback")
	idle := fs.Duration("idle-timeout", 2*time.Minute, "how long a connection with no request in progress is kept open")
	readTimeout := fs.Duration("read-timeout", 10*time.Second, "how long a request's headers, and then its body, may take to arrive")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *idle <= 0 {
		return fmt.Errorf("-idle-timeout %v: must be positive", *idle)
	}
	if *readTimeout <= 0 {
		return fmt.Errorf("-read-timeout %v: must be positive", *readTimeout)
	}
	cred := *basic
	if cred == "" {
		cred = os.Getenv(basicAuthEnv)
	}
	var auth func(*http.Request) bool
	if cred != "" {
		user, pass, ok := strings.Cut(cred, ":")
		if !ok || user == "" || pass == "" {
			return errors.New("-basic-auth: want user:password, both non-empty")
		}
		auth = ui.BasicAuth(user, pass)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() && auth == nil {
		return fmt.Errorf("-addr %s is not a loopback address: serving beyond this machine needs -basic-auth user:password (or $%s)", *addr, basicAuthEnv)
	}
	// The dashboard's failures, and a Redis store's warnings: Redis going
	// away and coming back, said once each (go-redis's line for each
	// failed dial goes to its own logger, at Debug: see main).
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	src.logger = logger
	st, err := src.open(ctx, stderr, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	live := ui.NewLive()
	defer live.Close()
	switch s := st.(type) {
	case *redisstore.Store:
		// Every instance's writes refresh the dashboard.
		subCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		go s.Subscribe(subCtx, live.Announce)
	case *snapshots:
		s.notify(func(added int, newest recording.ID) {
			if added > 0 {
				live.Announce(added, newest)
			}
		})
	}
	opts := []ui.Option{ui.WithPrefix("/"), ui.WithLive(live), ui.WithLogger(logger)}
	if auth != nil {
		opts = append(opts, ui.WithAuth(auth))
	}
	// IdleTimeout closes a kept-alive connection that asks nothing more:
	// ReadHeaderTimeout bounds only the headers of a request being read,
	// and bodyDeadline its body; serve may listen beyond loopback. A live
	// stream is a request in progress.
	srv := &http.Server{
		Handler:           bodyDeadline(ui.NewHandler(readOnlyOf(st), opts...), *readTimeout),
		ReadHeaderTimeout: *readTimeout,
		IdleTimeout:       *idle,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "appstats: dashboard at http://%s/\n", ln.Addr())
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	live.Close() // ends the dashboards' live streams, which Shutdown would wait for
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// bodyDeadline bounds the reading of the body of a request that has one
// (a POST's form, or a body nobody asked for, which net/http reads to its
// end before it answers): without it, a request that declared a body and
// sent none held its connection for good. The server's ReadTimeout would
// bound it too, but also end the dashboards' live streams.
func bodyDeadline(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 { // -1: chunked
			http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}
