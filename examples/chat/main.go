// Command chat is the push architecture of the App Engine application
// appstats descends from, profiled end to end. The web app saves a comment,
// then notifies a separate websocket server — the push hub — with an HTTP
// call (a time-stamp in its URL, so that no cache answers it); the hub
// tells every connected browser "UPDATED"; each browser then fetches the
// newest comments with an ordinary request.
//
//	go run ./examples/chat   # then open the printed URL in two browser windows
//
// Both servers run in this one binary, on two ports, with appstats on both:
// one store, and the records' instance ("chat-app", "chat-hub") telling
// them apart. One trace covers a post: the browser's POST → the app → its
// SQL → the webhook call → the hub → the broadcast to every connection. The
// hub's websocket connections are recorded message by message
// (middleware/wsstats): each "typing" notice a browser sends is a record of
// its own, with the writes that pass on who is typing to the others when
// it does so at once (see below); each connection's
// own record shows its connect and close and counts its messages, and is
// listed as running on the dashboard while the browser is connected. A page
// navigated away from closes its websocket, which a browser's back-forward
// cache would keep open (Chromium's did, 25 s and more, counted against
// the hub's caps), and connects anew when shown from the cache again.
//
// Flags: -addr (the app, default 127.0.0.1:8090), -hub (the push hub,
// default 127.0.0.1:8091), -data (appstats' data, default
// ./appstats-data-chat), -db (the SQLite file of comments, default
// ./chat.sqlite), -max-conns (the hub's websocket connections at most,
// default 1000), -max-conns-per-ip (of them from one client address at
// most, default 32; and as many other connections: see below),
// -trusted-proxy (the reverse proxies in front of the chat, whose
// X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host and
// X-Forwarded-Port it believes: IP addresses or CIDR prefixes,
// comma-separated; none by default).
//
// # On a public address
//
// With -addr :8090 -hub :8091 the chat serves every interface, over plain
// HTTP. Behind a reverse proxy that serves it over TLS (on the same ports,
// passing Host on), give the proxy's address as -trusted-proxy: a page
// whose request came from it with X-Forwarded-Proto: https names the hub
// wss://, which a browser opens from an https page (ws:// it refuses), and
// the hub counts a client's connections under the address the proxy puts
// in X-Forwarded-For (an IP address, its port left out if the proxy
// writes one). A proxy on another host or other ports says which
// in X-Forwarded-Host (a host and an optional port; anything else is
// ignored) and X-Forwarded-Port: the page names the hub at that host, on
// the hub's port when the proxy keeps the app's port, and otherwise at the
// page's own origin, at /ws (wss://chat.example/ws for a page of
// https://chat.example/), which such a proxy is to pass on to the hub;
// the hub admits the pages of that origin. Without -trusted-proxy none of
// these headers is believed (anyone can send them), and behind a proxy
// every client has the proxy's address. The page tells a browser the hub is
// at the host it asked for, on the hub's port (ws://chat.example:8091/ws
// for a page of chat.example:8090), and the hub admits the websockets of
// the app's pages under that name (their Origin), and of no other site.
// The hub bounds what a client takes of it:
//
//   - connections: -max-conns at most; more are refused with 503 Service
//     Unavailable and Retry-After (the page retries with backoff); and
//     -max-conns-per-ip of them from one client address, an IPv4 address
//     or an IPv6 /64 (a host may take any address of its network), so
//     that one host cannot take them all: more get 429 Too Many Requests;
//   - connections that are no websocket (yet) — waiting for a request,
//     busy with one, or kept alive between two: 256 at most, and
//     -max-conns-per-ip of them from one client address (a trusted
//     proxy's count in all only). Anyone may open thousands and send
//     nothing, each costing the hub a goroutine and ~20 KB until the 10 s
//     header timeout: one more closes the connection of its address, or
//     else of anyone, that has waited longest for a request (a browser
//     that meant it opens it again), and when all are busy with a
//     request it is answered 503 (429 over its address's share) and
//     closed;
//   - dead peers: the hub pings each browser every 30 s and drops one whose
//     pong does not come within 10 s (a browser answers pings by itself);
//   - slow readers: each connection has a queue of 16 messages, written by
//     a goroutine of its own; a broadcast queues in O(1) per connection
//     and waits for no browser more than 250 ms; one whose queue is full,
//     or whose write takes over 2 s, is dropped (it reconnects and fetches
//     what it missed);
//   - what a browser sends: 4 KiB a message (a longer one closes with
//     1009), 10 messages in a row and one a second on average, its pings
//     counted as messages (more messages or pings drop the connection at
//     once, without a close handshake: the hub does not wait on a client
//     that ignores its limits), a typing notice taken once a second at
//     most;
//   - records: each message a browser sends is a record of its own, taken
//     or not (so one a second from each connection on average, and
//     -max-conns a second at most in all), and each refused handshake is
//     a record too; the store counts them all, persists 20 records of a
//     route a second in full and beyond them only those that failed or
//     are the slowest so far (appstats' RecordBudget), and keeps what it
//     persists within its retention (7 days, 1,000,000 records and 1 GiB
//     by default: [appstats.Config].Store);
//   - typing: the hub passes on who is typing — the five latest names and
//     how many others — to every browser at most once a second, whoever
//     types: at once when it passed on nothing within the last second (to
//     all but the one typing; the notice is a call of its message's
//     record), else when the second is over (to all; the page leaves its
//     own name out). With every one of n browsers typing, that is n
//     writes a second, not n × (n − 1).
//
// On SIGINT or SIGTERM the chat stops within 5 s: the app answers the
// requests it is busy with; the hub closes at once the connections that
// have sent nothing of a request (net/http's Server.Shutdown would wait
// for one, up to 5 s, until it was 5 s old), answers those in the middle
// of one, ends the refused ones it is answering, and closes each
// websocket with a close frame, 1001 going away (the pages reconnect with
// backoff, to the next chat on the port). No goroutine of the hub's is
// left.
//
// The webhook is POST /notify with the hub's token (Authorization: Bearer),
// which the app and the hub share in memory (made up at start; two
// processes would share a secret of their deployment): without it, any web
// page a user of the chat opened could make every browser fetch the
// comments again. appstats records the header as [REDACTED]. The dashboard
// answers only on loopback (appstats' default, [appstats.Config].Auth).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/store/badgerstore"
)

// The instances of the two servers, in their records.
const (
	appInstance = "chat-app"
	hubInstance = "chat-hub"
)

func main() {
	appAddr := flag.String("addr", "127.0.0.1:8090", "address to serve the chat app on")
	hubAddr := flag.String("hub", "127.0.0.1:8091", "address to serve the push hub on")
	data := flag.String("data", "appstats-data-chat", "directory for recorded data")
	dbPath := flag.String("db", "chat.sqlite", "SQLite file of the comments")
	hc := defaultHubConfig()
	flag.IntVar(&hc.maxConns, "max-conns", hc.maxConns, "websocket connections the push hub holds at most (more are refused with 503)")
	flag.IntVar(&hc.maxPerIP, "max-conns-per-ip", hc.maxPerIP, "websocket connections the push hub holds at most from one client address, an IPv4 address or an IPv6 /64 (more are refused with 429), and other connections (waiting for a request or busy with one) likewise")
	proxies := flag.String("trusted-proxy", "", "comma-separated IP addresses or CIDR prefixes of the reverse proxies in front of the chat, whose X-Forwarded-For, -Proto, -Host and -Port it believes (none by default)")
	flag.Parse()
	if hc.maxConns < 1 || hc.maxPerIP < 1 {
		log.Fatal("-max-conns and -max-conns-per-ip must be at least 1")
	}
	var err error
	if hc.trusted, err = parsePrefixes(*proxies); err != nil {
		log.Fatalf("-trusted-proxy: %v", err)
	}
	if err := run(*appAddr, *hubAddr, *data, *dbPath, hc); err != nil {
		log.Fatal(err)
	}
}

// parsePrefixes parses a comma-separated list of IP addresses and CIDR
// prefixes ("10.0.0.1,192.168.0.0/16,::1").
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, err
			}
			out = append(out, p.Masked())
			continue
		}
		ip, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR prefix", f)
		}
		ip = ip.Unmap()
		out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
	}
	return out, nil
}

// run serves the chat until SIGINT or SIGTERM, then shuts down in the order
// that loses nothing: the app (requests in flight finish), the hub (its
// connections are closed and their handlers end), the database, then
// appstats, which writes the last records.
func run(appAddr, hubAddr, data, dbPath string, hc hubConfig) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	as, err := appstats.Open(config(data, logger))
	if errors.Is(err, badgerstore.ErrLocked) {
		return fmt.Errorf("%w: is a chat running already? Stop it, or give this one -data, -db, -addr and -hub of its own", err)
	}
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, as.Close()) }() // runs last

	appLn, err := net.Listen("tcp", appAddr)
	if err != nil {
		return fmt.Errorf("%w (-addr serves the app on another address)", err)
	}
	hubLn, err := net.Listen("tcp", hubAddr)
	if err != nil {
		appLn.Close()
		return fmt.Errorf("%w (-hub serves the push hub on another address)", err)
	}
	c, err := start(as, appLn, hubLn, dbPath, hc, logger)
	if err != nil {
		return err
	}
	logger.Info("chat listening", "app", c.appURL+"/", "hub", c.app.wsURL(), "dashboard", c.appURL+"/stats/")
	<-ctx.Done()
	logger.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.shutdown(shutdown)
}

// config is the appstats configuration of the chat: the dashboard on the
// app, the app's records named by its instance.
func config(data string, logger *slog.Logger) appstats.Config {
	cfg := appstats.Config{
		Dir:               data,
		Logger:            logger,
		MiddlewareOptions: []httpstats.Option{httpstats.WithInstance(appInstance)},
	}
	if os.Getenv("OTEL_SERVICE_NAME") == "" {
		cfg.ServiceName = "appstats-chat"
	}
	return cfg
}

// chat is the running app and hub.
type chat struct {
	app            *app
	hub            *hub
	appSrv, hubSrv *http.Server
	appURL, hubURL string // http://host:port
}

// start serves the app on appLn and the hub on hubLn, both recorded by as,
// with the comments in the SQLite file dbPath and the hub configured by hc.
func start(as *appstats.Appstats, appLn, hubLn net.Listener, dbPath string, hc hubConfig, logger *slog.Logger) (*chat, error) {
	c := &chat{appURL: "http://" + dialAddr(appLn.Addr()), hubURL: "http://" + dialAddr(hubLn.Addr())}
	if hc.token == "" {
		// The app and the hub share the token in memory: two processes
		// would share a secret of their deployment.
		hc.token = rand.Text()
	}
	var err error
	c.app, err = newApp(as, dbPath, c.hubURL, hc.token, hc.trusted, logger)
	if err != nil {
		appLn.Close()
		hubLn.Close()
		return nil, err
	}
	_, appPort, _ := net.SplitHostPort(appLn.Addr().String())
	c.app.appPort = appPort
	c.hub = newHub(hc, pageOrigins(appLn.Addr()), appPort, logger)
	c.appSrv = appServer(c.app.handler(), appIdleTimeout)
	go c.appSrv.Serve(appLn)
	c.hubSrv = c.hub.serve(as.Recorder(), hubLn)
	return c, nil
}

// appIdleTimeout is how long the app's server keeps a connection with no
// request in progress: ReadHeaderTimeout bounds only a request being read,
// and a kept-alive connection that asked nothing more would stay open for
// good (the hub's websockets are hijacked: no idle timeout governs them).
const appIdleTimeout = 2 * time.Minute

// appServer is the app's HTTP server for h, closing connections idle for idle.
func appServer(h http.Handler, idle time.Duration) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: idle}
}

// pageOrigins are the hosts the app's pages may be served as, whose
// websockets the hub admits whatever the name it is reached by: the app's
// address, and localhost with its port when that is a loopback address (a
// browser opens 127.0.0.1:8090 as often as localhost:8090). As patterns of
// coder/websocket: an IPv6 address's brackets escaped. (The hub also
// admits the app's pages under the name it is reached by: hub.originPatterns.)
func pageOrigins(app net.Addr) []string {
	ta, ok := app.(*net.TCPAddr)
	if !ok || ta.IP.IsUnspecified() {
		return nil
	}
	origins := []string{escapePattern(app.String())}
	if ta.IP.IsLoopback() {
		origins = append(origins, net.JoinHostPort("localhost", strconv.Itoa(ta.Port)))
	}
	return origins
}

// dialAddr is the address to reach a listener at from this machine: its
// own, but 127.0.0.1 for one that listens on all addresses (-addr :8090
// listens on [::]:8090, IPv4 included, which is no address to call or to
// open in a browser).
func dialAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || !ta.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(ta.Port))
}

// shutdown stops the app, then the hub, then closes the database.
func (c *chat) shutdown(ctx context.Context) error {
	err := c.appSrv.Shutdown(ctx)
	return errors.Join(err, c.hub.shutdown(ctx, c.hubSrv), c.app.close())
}
