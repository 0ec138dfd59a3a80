package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/wsstats"
	"github.com/goappstats/appstats/recording"
)

// updated is what the hub tells every browser when the comments changed.
const updated = "UPDATED"

// hubConfig bounds what the hub gives its connections. The zero value is
// no use: start from defaultHubConfig.
type hubConfig struct {
	// maxConns is how many websocket connections the hub holds at most
	// (-max-conns): more are refused with 503.
	maxConns int
	// maxPerIP is how many of them one client address holds at most
	// (-max-conns-per-ip): an IPv4 address, or an IPv6 /64 (a host's
	// network, often); more are refused with 429.
	maxPerIP int
	// maxPlain is how many connections that are no websocket (yet) the
	// hub's server holds at most: waiting for a request, or busy with one
	// (see connCap); of them, maxPerIP from one client address.
	maxPlain int
	// trusted are the addresses of the reverse proxies whose
	// X-Forwarded-For and X-Forwarded-Proto the chat believes
	// (-trusted-proxy): none unless the operator says so, since anyone
	// can send these headers.
	trusted []netip.Prefix
	// typingEvery is how often the hub passes on who is typing, at most:
	// to every browser at once, whoever typed (see hub.typed).
	typingEvery time.Duration
	// queue is how many messages may wait to be written to one
	// connection: a browser that falls further behind is dropped as too
	// slow (it reconnects, and fetches what it missed).
	queue int
	// writeTimeout bounds a write to one browser: a longer one drops it
	// as too slow.
	writeTimeout time.Duration
	// pingEvery is how often the hub pings each browser; pongWait is how
	// long it waits for the pong before it drops the connection as dead
	// (a browser answers pings by itself).
	pingEvery, pongWait time.Duration
	// token is what POST /notify must carry (Authorization: Bearer),
	// made up at start when empty.
	token string
}

// defaultHubConfig is the hub's configuration unless told otherwise.
func defaultHubConfig() hubConfig {
	return hubConfig{
		maxConns:     1000,
		maxPerIP:     32,
		maxPlain:     256,
		queue:        16,
		writeTimeout: 2 * time.Second,
		pingEvery:    30 * time.Second,
		pongWait:     10 * time.Second,
		typingEvery:  time.Second,
	}
}

// deliverWait is how long a broadcast waits for its writes, so that they
// are calls of its record: a write the kernel does not take at once is a
// slow browser's, written later by its own goroutine, its call too late
// for the record (which counts it as late).
const deliverWait = 250 * time.Millisecond

// Limits on what a browser sends. The page sends a typing notice every 2 s
// at most: a client that sends more than msgBurst messages in a row, or
// more than msgRate a second on average, is dropped at once, without the
// close handshake a flooding client need not answer (the reason is its
// connection's close event); its pings count as messages, each costing the
// hub a pong, and one whose pings exceed them is dropped too.
// Each message is at most maxMessage bytes (a notice takes ~60): a longer
// one closes the connection with 1009 before it is read.
const (
	msgBurst   = 10
	msgRate    = 1.0
	maxMessage = 4 << 10
)

// hub is the push hub: a webhook the app calls after saving a comment, and
// a websocket endpoint that passes "UPDATED" on to every browser connected,
// and a browser's "typing" notice to the others.
//
// Each connection has three goroutines: its handler reads from it, a
// writer writes what broadcasts queue for it (a bounded queue: a broadcast
// waits deliverWait at most, and a slow browser holds up no other), and a
// pinger drops it when its pongs stop coming. All three end with the
// connection.
type hub struct {
	cfg     hubConfig
	origins []string // host:port of the app's pages, whatever the name the hub is reached by
	appPort string   // the app's port: a page of it, under the name the hub is reached by, may connect
	log     *slog.Logger

	mu      sync.Mutex
	conns   map[*wsstats.Conn]*client
	n       int                  // handlers admitted: connections open or opening, at most cfg.maxConns
	perIP   map[netip.Prefix]int // of them, by client address (clientKey), at most cfg.maxPerIP each
	closing bool
	caps    map[*http.Server]*connCap // the bounds of the servers serving, for their shutdown
	wg      sync.WaitGroup            // the websocket handlers running, and typing's flush when due
	typing  typingState
}

// typingState is who is typing, passed on to the browsers at most every
// cfg.typingEvery (see hub.typed). Guarded by hub.mu.
type typingState struct {
	names map[string]time.Time // who typed, and when their last notice came
	sent  time.Time            // when who is typing was last passed on
	due   *time.Timer          // the flush of the notices come since, if any
}

// A client is a browser's connection and the queue of its writes.
type client struct {
	c    *wsstats.Conn
	send chan delivery
	// flood is signalled when the client's pings exceed its budget: the
	// writer closes the connection (the reader, which meets the pings,
	// cannot wait for the close handshake).
	flood chan struct{}
	// bye is closed when the hub shuts down: the writer writes what is
	// queued, then the close frame.
	bye chan struct{}
}

// A delivery is a message queued for a client: written with ctx, whose
// record the write is a call of, then reported to done (if not nil).
type delivery struct {
	ctx  context.Context
	data []byte
	done *deliveries
}

// deliveries are a broadcast's writes it waits for.
type deliveries struct {
	pending atomic.Int64 // writes not done yet, and one for the broadcast until it has queued them all
	written atomic.Int64
	all     chan struct{} // closed when pending reaches 0
}

// finish reports one write (or the end of queueing), written or not.
func (d *deliveries) finish(ok bool) {
	if d == nil {
		return
	}
	if ok {
		d.written.Add(1)
	}
	if d.pending.Add(-1) == 0 {
		close(d.all)
	}
}

func newHub(cfg hubConfig, origins []string, appPort string, logger *slog.Logger) *hub {
	return &hub{cfg: cfg, origins: origins, appPort: appPort, log: logger,
		conns: make(map[*wsstats.Conn]*client), perIP: make(map[netip.Prefix]int), caps: make(map[*http.Server]*connCap)}
}

// serve serves the hub's routes on ln, recorded by rec with the hub's
// instance name, and returns the server. Its connections that are no
// websocket are bounded (connCap). The hub can serve again, with a new
// server, after shutdown.
func (h *hub) serve(rec *recording.Recorder, ln net.Listener) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /notify", h.notify)
	mux.HandleFunc("GET /ws", h.ws)
	capped := newConnCap(ln, h.cfg.maxPlain, h.cfg.maxPerIP, h.cfg.trusted, h.log)
	srv := &http.Server{
		Handler:           httpstats.NewHandler(rec, mux, httpstats.WithInstance(hubInstance)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ConnState:         capped.connState,
	}
	h.mu.Lock()
	h.closing = false
	h.caps[srv] = capped
	h.mu.Unlock()
	go srv.Serve(capped)
	return srv
}

// shutdown stops srv — it closes at once the connections that have sent
// nothing of a request, and lets those in the middle of one have their
// answer (connCap.shutdown) —, closes every websocket connection once
// what is queued for it is written ("going away", a close frame: the
// browsers reconnect) and waits for their handlers to end, within ctx. No goroutine of the hub's is left when it
// returns.
func (h *hub) shutdown(ctx context.Context, srv *http.Server) error {
	h.mu.Lock()
	capped := h.caps[srv]
	delete(h.caps, srv)
	h.mu.Unlock()
	var err error
	if capped != nil {
		err = capped.shutdown(ctx) // the server's connections are closed, or hijacked
	}
	err = errors.Join(err, srv.Shutdown(ctx)) // a hijacked connection is not the server's to close
	h.mu.Lock()
	h.closing = true
	if t := h.typing.due; t != nil && t.Stop() {
		h.wg.Done() // the flush will not run
	}
	h.typing.due = nil
	conns := make([]*wsstats.Conn, 0, len(h.conns))
	for c, cl := range h.conns {
		conns = append(conns, c)
		select {
		case <-cl.bye: // told by an earlier shutdown
		default:
			close(cl.bye) // its writer writes what is queued, then closes
		}
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		for _, c := range conns {
			c.CloseNow()
		}
		<-done
		err = errors.Join(err, fmt.Errorf("hub: connections closed without a handshake: %w", ctx.Err()))
	}
	return err
}

// notify is the webhook: POST /notify?t=<time-stamp>, with the hub's token
// (Authorization: Bearer <token>), tells every browser "UPDATED", each
// write a call of this request's record. Without the token anyone could
// make every browser fetch the comments again — any web page a user of the
// chat opens, with a form aimed at the hub.
func (h *hub) notify(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="chat-hub"`)
		http.Error(w, "POST /notify needs the hub's token: Authorization: Bearer <token>", http.StatusUnauthorized)
		return
	}
	n := h.broadcast(r.Context(), nil, []byte(updated))
	fmt.Fprintf(w, "%d browsers notified\n", n)
}

// authorized reports whether r carries the hub's token, compared in
// constant time.
func (h *hub) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || h.cfg.token == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(h.cfg.token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// broadcast queues data for every connection but except and returns how
// many took it within deliverWait. It does O(1) work per connection and
// never waits on one: a connection whose queue is full is dropped as too
// slow. The writes are made with ctx, so that they are calls of the record
// it carries, but outlive its cancellation: a browser's connection must not
// be closed because the request that notified it ended. The broadcast
// waits, deliverWait at most, for the writes of the connections that had
// nothing queued (the others are behind already), so that the record holds
// them.
func (h *hub) broadcast(ctx context.Context, except *wsstats.Conn, data []byte) int {
	ctx = context.WithoutCancel(ctx)
	d := &deliveries{all: make(chan struct{})}
	d.pending.Store(1)
	var slow []*client
	h.mu.Lock()
	for c, cl := range h.conns {
		if c == except {
			continue
		}
		m := delivery{ctx: ctx, data: data}
		if len(cl.send) == 0 {
			m.done = d
			d.pending.Add(1)
		}
		select {
		case cl.send <- m:
		default:
			m.done.finish(false)
			slow = append(slow, cl)
		}
	}
	h.mu.Unlock()
	for _, cl := range slow {
		h.drop(cl.c, "too slow: "+strconv.Itoa(h.cfg.queue)+" messages waiting")
	}
	d.finish(false) // all queued
	t := time.NewTimer(deliverWait)
	defer t.Stop()
	select {
	case <-d.all:
	case <-t.C:
	}
	return int(d.written.Load())
}

// drop closes c at once, recording why as its close event: a browser that
// does not keep up, or is gone, gets no close handshake.
func (h *hub) drop(c *wsstats.Conn, why string) {
	h.log.Debug("chat hub: connection dropped", "why", why)
	c.Stream().Close("closed by the server: " + why)
	c.CloseNow()
}

// writeLoop writes what broadcasts queue for cl until ctx ends, or the hub
// shuts down (it writes what is queued, then the close frame, "going
// away"); a write that fails ends it, and the connection. A write that
// takes over writeTimeout drops the connection as too slow.
func (h *hub) writeLoop(ctx context.Context, cl *client) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-cl.flood:
			// Dropped at once: a close handshake would wait up to 5 s for
			// the close frame of a client that floods, and need not
			// answer.
			h.drop(cl.c, "too many pings: "+strconv.Itoa(msgBurst)+" messages or pings in a row at most")
			return
		case <-cl.bye:
			// The hub shuts down: what was queued before goes out
			// before the close frame.
			for len(cl.send) > 0 {
				if !h.write(cl, <-cl.send) {
					return
				}
			}
			cl.c.Close(websocket.StatusGoingAway, "hub shutting down")
			return
		case m := <-cl.send:
			if !h.write(cl, m) {
				return
			}
		}
	}
}

// write writes m to cl, or drops the connection as too slow when that takes
// over writeTimeout, and reports whether it was written: a write that fails
// ends the connection.
func (h *hub) write(cl *client, m delivery) bool {
	t := time.AfterFunc(h.cfg.writeTimeout, func() {
		h.drop(cl.c, "too slow: a write took over "+h.cfg.writeTimeout.String())
	})
	err := cl.c.Write(m.ctx, websocket.MessageText, m.data)
	t.Stop()
	m.done.finish(err == nil)
	if err != nil {
		h.log.Debug("chat hub: write", "err", err)
		cl.c.CloseNow()
		return false
	}
	return true
}

// keepAlive pings c every pingEvery until ctx ends, and drops it when a
// pong does not come within pongWait: a browser that vanished without a
// close frame (its machine gone, its network cut) sends nothing, and a read
// would wait for it for ever. (A browser answers pings by itself; the pong
// is read by the handler's Receive.)
func (h *hub) keepAlive(ctx context.Context, c *wsstats.Conn) {
	tick := time.NewTicker(h.cfg.pingEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		t := time.AfterFunc(h.cfg.pongWait, func() { h.drop(c, "no pong within "+h.cfg.pongWait.String()) })
		err := c.Ping(ctx)
		t.Stop()
		if err != nil {
			return // the connection ended
		}
	}
}

// ws serves a browser's websocket: it is recorded message by message
// (wsstats), and handles the browser's "typing" notices.
func (h *hub) ws(w http.ResponseWriter, r *http.Request) {
	key := h.clientKey(r)
	h.mu.Lock()
	switch {
	case h.closing:
		h.mu.Unlock()
		http.Error(w, "the hub is shutting down", http.StatusServiceUnavailable)
		return
	case h.n >= h.cfg.maxConns:
		h.mu.Unlock()
		w.Header().Set("Retry-After", "10")
		http.Error(w, "the hub holds "+strconv.Itoa(h.cfg.maxConns)+" connections, its most (-max-conns): try again later", http.StatusServiceUnavailable)
		return
	case h.perIP[key] >= h.cfg.maxPerIP:
		h.mu.Unlock()
		w.Header().Set("Retry-After", "10")
		http.Error(w, "the hub holds "+strconv.Itoa(h.cfg.maxPerIP)+" connections of your address, its most for one (-max-conns-per-ip): close one, or try again later", http.StatusTooManyRequests)
		return
	}
	h.n++
	h.perIP[key]++
	h.wg.Add(1)
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.n--
		if h.perIP[key]--; h.perIP[key] <= 0 {
			delete(h.perIP, key)
		}
		h.mu.Unlock()
		h.wg.Done()
	}()

	// The client's messages and pings take from one budget: the pings
	// are met by the reader, in Receive (or in a close handshake's
	// read), hence the lock.
	lim := &bucket{tokens: msgBurst, last: time.Now()}
	flood := make(chan struct{}, 1)
	c, err := wsstats.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns: h.originPatterns(r),
		OnPingReceived: func(context.Context, []byte) bool {
			if lim.take(time.Now()) {
				return true
			}
			select {
			case flood <- struct{}{}:
			default:
			}
			return false // no pong
		},
	}, wsstats.WithMessageType(messageType))
	if err != nil {
		return // Accept has answered
	}
	defer c.CloseNow()
	c.SetReadLimit(maxMessage)
	cl := &client{c: c, send: make(chan delivery, h.cfg.queue), flood: flood, bye: make(chan struct{})}
	h.mu.Lock()
	if h.closing { // shutdown began while the handshake went on
		h.mu.Unlock()
		c.Close(websocket.StatusGoingAway, "hub shutting down")
		return
	}
	h.conns[c] = cl
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(r.Context())
	var bg sync.WaitGroup
	bg.Go(func() { h.writeLoop(ctx, cl) })
	bg.Go(func() { h.keepAlive(ctx, c) })
	defer func() {
		h.mu.Lock()
		delete(h.conns, c) // no broadcast queues for cl from now on
		h.mu.Unlock()
		cancel()
		c.CloseNow() // a write under way fails at once
		bg.Wait()
		for {
			select {
			case m := <-cl.send:
				m.done.finish(false)
			default:
				return
			}
		}
	}()

	lastTyping := time.Time{} // when this browser's last notice was taken
	for {
		ctx, msg, err := c.Receive(r.Context())
		if err != nil {
			return // the close, or the error, is recorded on the connection's record
		}
		if !lim.take(time.Now()) {
			// Dropped at once, as a ping flooder is: a close handshake
			// would read on what the client floods, up to 5 s, for a
			// close frame a client ignoring the limits need not send (the
			// page sends a notice every 2 s at most).
			msg.End(errors.New("too many messages"))
			h.drop(c, "too many messages: "+strconv.Itoa(msgBurst)+" in a row at most, one a second on average (pings included)")
			return
		}
		msg.End(h.handle(ctx, c, msg.Data, &lastTyping))
	}
}

// bucket limits a connection's messages and pings: a token bucket of
// msgBurst, refilled with msgRate a second.
type bucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// take takes a token at now, if there is one.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens = min(msgBurst, b.tokens+max(0, now.Sub(b.last).Seconds())*msgRate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// originPatterns are the origins (coder/websocket's patterns) whose pages
// may open a websocket on the hub, for a request r: the app's pages, on
// the app's port, under the name r reached the hub by — the page derives
// the hub's address from its own (app.hubWS) — and under the app's
// addresses (pageOrigins). Another site's page may not, nor the page of
// another port.
//
// Through a proxy the operator trusts (-trusted-proxy) that names the host
// the browser asked for in X-Forwarded-Host (forwardedHost), the pages of
// that host are admitted too: on the app's port (a proxy that keeps the
// chat's ports), and at the origin the header names (a proxy on other
// ports, which serves the hub on the page's own origin; see app.hubWS).
func (h *hub) originPatterns(r *http.Request) []string {
	pats := h.origins
	if host := hostname(r.Host); host != "" {
		pats = append(pats[:len(pats):len(pats)], escapePattern(net.JoinHostPort(host, h.appPort)))
	}
	if trusted(h.cfg.trusted, remoteIP(r.RemoteAddr)) {
		if fh, fp, ok := forwardedHost(r.Header); ok {
			pats = append(pats[:len(pats):len(pats)],
				escapePattern(net.JoinHostPort(fh, h.appPort)),
				escapePattern(originHost(fh, fp, forwardedHTTPS(r.Header))))
		}
	}
	return pats
}

// escapePattern escapes s for path.Match, as coder/websocket matches
// origin patterns: an IPv6 address's brackets are no class of characters.
func escapePattern(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// typingTTL is how long a typing notice stands: the page shows one for
// 3 s, and sends one every 2 s while its user types.
const typingTTL = 3 * time.Second

// maxTypers is how many names a typing notice lists at most; it counts
// the others.
const maxTypers = 5

// A notice from a browser: {"type": "typing", "name": "ada"}.
type notice struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// typingNotice is what the hub tells the browsers of who is typing:
// {"type": "typing", "names": ["ada", "bo"], "others": 3}, the latest
// first.
type typingNotice struct {
	Type   string   `json:"type"`
	Names  []string `json:"names"`
	Others int      `json:"others,omitempty"`
}

// handle handles one message from browser c, with ctx, the message's
// context: the writes it makes are calls of the message's record.
// lastTyping is when c's last typing notice was taken: one that comes
// sooner than typingEvery after it is refused.
func (h *hub) handle(ctx context.Context, c *wsstats.Conn, data []byte, lastTyping *time.Time) error {
	var n notice
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("not a notice: %w", err)
	}
	switch n.Type {
	case "typing":
		if n.Name == "" || utf8.RuneCountInString(n.Name) > maxName || !utf8.ValidString(n.Name) {
			return errors.New("typing: a name of 1 to " + strconv.Itoa(maxName) + " characters is needed")
		}
		now := time.Now()
		if now.Sub(*lastTyping) < h.cfg.typingEvery {
			return errors.New("typing: notices sent too often: at most one every " + h.cfg.typingEvery.String() + " is taken")
		}
		*lastTyping = now
		h.typed(ctx, c, n.Name, now)
		return nil
	}
	return errors.New("unknown notice type")
}

// typed notes that name is typing, from browser c, at now, and passes on
// who is typing: at once, with ctx (the writes calls of its message's
// record), to every browser but c, when nothing was passed on within
// typingEvery; else once typingEvery is over, to every browser (the page
// leaves its own name out). With every one of n browsers typing, the hub
// writes n notices each typingEvery, not one to each other browser for
// each notice, n × (n − 1).
func (h *hub) typed(ctx context.Context, c *wsstats.Conn, name string, now time.Time) {
	h.mu.Lock()
	ts := &h.typing
	if ts.names == nil {
		ts.names = make(map[string]time.Time)
	}
	ts.names[name] = now
	if ts.due != nil || h.closing {
		h.mu.Unlock() // passed on when due
		return
	}
	if wait := h.cfg.typingEvery - now.Sub(ts.sent); wait > 0 {
		h.wg.Add(1) // the handler holds one: no Wait has returned
		ts.due = time.AfterFunc(wait, h.flushTyping)
		h.mu.Unlock()
		return
	}
	out := h.typingLocked(now)
	h.mu.Unlock()
	h.broadcast(ctx, c, out)
}

// flushTyping passes on who is typing once typingEvery is over, to every
// browser: the notices that came in it were not.
func (h *hub) flushTyping() {
	defer h.wg.Done()
	h.mu.Lock()
	h.typing.due = nil
	if h.closing {
		h.mu.Unlock()
		return
	}
	out := h.typingLocked(time.Now())
	h.mu.Unlock()
	if out != nil {
		h.broadcast(context.Background(), nil, out)
	}
}

// typingLocked returns the notice of who is typing at now — nil if no one
// is — and notes it sent; it forgets the notices older than typingTTL.
// The caller holds h.mu.
func (h *hub) typingLocked(now time.Time) []byte {
	ts := &h.typing
	ts.sent = now
	type typer struct {
		name string
		at   time.Time
	}
	var all []typer
	for name, at := range ts.names {
		if now.Sub(at) > typingTTL {
			delete(ts.names, name)
			continue
		}
		all = append(all, typer{name, at})
	}
	if len(all) == 0 {
		return nil
	}
	slices.SortFunc(all, func(a, b typer) int {
		if c := b.at.Compare(a.at); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	n := typingNotice{Type: "typing"}
	for i, t := range all {
		if i == maxTypers {
			n.Others = len(all) - i
			break
		}
		n.Names = append(n.Names, t.name)
	}
	out, _ := json.Marshal(n)
	return out
}

// clientKey is what the hub counts a client's connections under (at most
// cfg.maxPerIP): its IPv4 address, or its IPv6 /64 (one host's network,
// often, where it may take any address). The address is the connection's
// peer, or, for a request through a proxy the operator trusts, the one
// the proxies put in X-Forwarded-For (see forwardedFor).
func (h *hub) clientKey(r *http.Request) netip.Prefix {
	ip := remoteIP(r.RemoteAddr)
	if trusted(h.cfg.trusted, ip) {
		if fwd, ok := forwardedFor(r.Header, h.cfg.trusted); ok {
			ip = fwd
		}
	}
	return addrKey(ip)
}

// remoteIP returns the IP address of a RemoteAddr, or the zero Addr.
func remoteIP(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// trusted reports whether ip is a proxy of the operator's.
func trusted(proxies []netip.Prefix, ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	ip = ip.Unmap()
	for _, p := range proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// forwardedFor returns the client's address a request through trusted
// proxies carries in X-Forwarded-For: its last address that is not one of
// the proxies (each proxy appends the address it was reached from; those
// before the first proxy's are the client's to make up), without its port
// if the proxy wrote one (forwardedAddr); false when there is none, or it
// is not an IP address.
func forwardedFor(hd http.Header, proxies []netip.Prefix) (netip.Addr, bool) {
	var list []string
	for _, v := range hd.Values("X-Forwarded-For") {
		list = append(list, strings.Split(v, ",")...)
	}
	for i := len(list) - 1; i >= 0; i-- {
		ip, ok := forwardedAddr(strings.TrimSpace(list[i]))
		if !ok {
			return netip.Addr{}, false
		}
		if !trusted(proxies, ip) || i == 0 {
			return ip.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// forwardedAddr parses an address of X-Forwarded-For: an IP address,
// with a port or not ("203.0.113.1", "203.0.113.1:52000",
// "[2001:db8::1]:52000", "[2001:db8::1]"), as proxies write them; the
// port is left out.
func forwardedAddr(s string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), true
	}
	if v, ok := strings.CutPrefix(s, "["); ok {
		if v, ok := strings.CutSuffix(v, "]"); ok {
			if ip, err := netip.ParseAddr(v); err == nil && ip.Is6() {
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}

// messageType names a message in its record's route ("GET /ws typing"):
// "UPDATED", a notice's type among those the hub knows, else its websocket
// type — never a name a browser made up.
func messageType(typ websocket.MessageType, data []byte) string {
	if typ == websocket.MessageBinary {
		return "binary"
	}
	if string(data) == updated {
		return updated
	}
	var n notice
	if json.Unmarshal(data, &n) == nil && n.Type == "typing" {
		return n.Type
	}
	return "text"
}
