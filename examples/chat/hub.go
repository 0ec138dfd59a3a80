package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
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
	// (-max-conns).
	maxConns int
	// queue is how many messages may wait to be written to one
	// connection.
	queue int
	// writeTimeout bounds a write to one browser.
	writeTimeout time.Duration
	// pingEvery is how often the hub pings each browser; pongWait is how
	// long it waits for the pong.
	pingEvery, pongWait time.Duration
}

// defaultHubConfig is the hub's configuration unless told otherwise.
func defaultHubConfig() hubConfig {
	return hubConfig{
		maxConns:     1000,
		queue:        16,
		writeTimeout: 2 * time.Second,
		pingEvery:    30 * time.Second,
		pongWait:     10 * time.Second,
	}
}

// hub is the push hub: a webhook the app calls after saving a comment, and
// a websocket endpoint that passes "UPDATED" on to every browser connected,
// and a browser's "typing" notice to the others.
type hub struct {
	cfg     hubConfig
	origins []string // hosts whose pages may connect (the app's)
	log     *slog.Logger

	mu      sync.Mutex
	conns   map[*wsstats.Conn]bool
	closing bool
	wg      sync.WaitGroup // the websocket handlers running
}

func newHub(cfg hubConfig, origins []string, logger *slog.Logger) *hub {
	return &hub{cfg: cfg, origins: origins, log: logger, conns: make(map[*wsstats.Conn]bool)}
}

// server returns an http.Server for the hub's routes, recorded by rec with
// the hub's instance name. The hub can serve again, with a new server,
// after shutdown.
func (h *hub) server(rec *recording.Recorder) *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /notify", h.notify)
	mux.HandleFunc("GET /ws", h.ws)
	h.mu.Lock()
	h.closing = false
	h.mu.Unlock()
	return &http.Server{
		Handler:           httpstats.NewHandler(rec, mux, httpstats.WithInstance(hubInstance)),
		ReadHeaderTimeout: 10 * time.Second,
	}
}

// shutdown stops srv, closes every websocket connection ("going away": the
// browsers reconnect) and waits for their handlers to end, within ctx.
func (h *hub) shutdown(ctx context.Context, srv *http.Server) error {
	err := srv.Shutdown(ctx) // a hijacked connection is not the server's to close
	h.mu.Lock()
	h.closing = true
	conns := make([]*wsstats.Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		go c.Close(websocket.StatusGoingAway, "hub shutting down")
	}
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

// notify is the webhook: GET /notify?t=<time-stamp> tells every browser
// "UPDATED", each write a call of this request's record.
func (h *hub) notify(w http.ResponseWriter, r *http.Request) {
	n := h.broadcast(r.Context(), nil, []byte(updated))
	fmt.Fprintf(w, "%d browsers notified\n", n)
}

// broadcast writes data to every connection but except, concurrently, and
// returns how many took it. The writes are made with ctx, so that they are
// calls of the record it carries, but outlive its cancellation: a browser's
// connection must not be closed because the request that notified it ended.
func (h *hub) broadcast(ctx context.Context, except *wsstats.Conn, data []byte) int {
	h.mu.Lock()
	conns := make([]*wsstats.Conn, 0, len(h.conns))
	for c := range h.conns {
		if c != except {
			conns = append(conns, c)
		}
	}
	h.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
		ok int
	)
	for _, c := range conns {
		wg.Go(func() {
			wctx, cancel := context.WithTimeout(ctx, h.cfg.writeTimeout)
			defer cancel()
			if err := c.Write(wctx, websocket.MessageText, data); err != nil {
				h.log.Debug("chat hub: write", "err", err)
				return
			}
			mu.Lock()
			ok++
			mu.Unlock()
		})
	}
	wg.Wait()
	return ok
}

// ws serves a browser's websocket: it is recorded message by message
// (wsstats), and handles the browser's "typing" notices.
func (h *hub) ws(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		http.Error(w, "the hub is shutting down", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()

	c, err := wsstats.Accept(w, r, &websocket.AcceptOptions{OriginPatterns: h.origins}, wsstats.WithMessageType(messageType))
	if err != nil {
		return // Accept has answered
	}
	defer c.CloseNow()
	c.SetReadLimit(4 << 10)
	h.mu.Lock()
	if h.closing { // shutdown began while the handshake went on
		h.mu.Unlock()
		c.Close(websocket.StatusGoingAway, "hub shutting down")
		return
	}
	h.conns[c] = true
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.conns, c)
		h.mu.Unlock()
	}()
	var lastTyping time.Time // when this browser's last notice was passed on
	for {
		ctx, msg, err := c.Receive(r.Context())
		if err != nil {
			return // the close, or the error, is recorded on the connection's record
		}
		msg.End(h.handle(ctx, c, msg.Data, &lastTyping))
	}
}

// typingEvery is how often the hub passes on a typing notice from one
// browser at most: each is written to every other browser, so a client
// that sent them without pause would have the hub write without pause. The
// page sends one every 2 s at most.
const typingEvery = time.Second

// A notice from a browser: {"type": "typing", "name": "ada"}.
type notice struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// handle handles one message from browser c, with ctx, the message's
// context: the writes it makes are calls of the message's record.
// lastTyping is when c's last typing notice was passed on: one that comes
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
		if now.Sub(*lastTyping) < typingEvery {
			return errors.New("typing: notices sent too often: at most one a second is passed on")
		}
		*lastTyping = now
		out, _ := json.Marshal(notice{Type: "typing", Name: n.Name})
		h.broadcast(ctx, c, out)
		return nil
	}
	return errors.New("unknown notice type")
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
