package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats/recording"
)

// The tests of this file hold the hub to what a server on the open
// internet needs: bounds on what a client takes of it.

// TestConnLimit: the hub took any number of websocket connections, each a
// goroutine and buffers, until memory or file descriptors ran out. It now
// holds -max-conns at most, and refuses more with 503 and a message saying
// so; a connection that ends makes room for another.
func TestConnLimit(t *testing.T) {
	tc := startChatWith(t, func(hc *hubConfig) { hc.maxConns = 2 })
	ws1 := tc.dialHub(t)
	tc.dialHub(t)
	waitConns(t, tc, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, tc.app.wsURL(), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {tc.appURL}}})
	if err == nil {
		ws.CloseNow()
		t.Fatal("a third connection was accepted, with -max-conns 2")
	}
	if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a third connection: %v, want 503", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "-max-conns") || resp.Header.Get("Retry-After") == "" {
		t.Errorf("the refusal says %q (Retry-After %q): want it to name -max-conns, and a Retry-After", body, resp.Header.Get("Retry-After"))
	}
	ws1.Close(websocket.StatusNormalClosure, "")
	waitConns(t, tc, 1)
	tc.dialHub(t) // room again
}

// TestDeadPeer: a client that vanishes without a close frame (its machine
// gone, its network cut) was never noticed: the hub only read from a
// connection, and a read waits for ever on a peer that sends nothing, so
// its handler and buffers stayed until the hub stopped. The hub now pings
// every connection and drops one whose pong does not come in time; a
// client that reads (and so answers) stays.
func TestDeadPeer(t *testing.T) {
	tc := startChatWith(t, func(hc *hubConfig) { hc.pingEvery, hc.pongWait = 20*time.Millisecond, 500*time.Millisecond })

	// A client that reads answers the pings, and stays.
	var pings atomic.Int32
	live, _, err := websocket.Dial(context.Background(), tc.app.wsURL(), &websocket.DialOptions{
		HTTPHeader:     http.Header{"Origin": {tc.appURL}},
		OnPingReceived: func(context.Context, []byte) bool { pings.Add(1); return true },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer live.CloseNow()
	readCtx := live.CloseRead(context.Background()) // reads, answering pings
	waitConns(t, tc, 1)

	// A client that reads nothing answers no ping: as a vanished peer. It
	// is dropped, its handler ended.
	dead := tc.dialHub(t)
	waitConns(t, tc, 2)
	waitConns(t, tc, 1)
	rec := tc.waitRecord(t, "the dead peer's connection", func(r *recording.Record) bool {
		return r.Route == "GET /ws" && len(r.Calls) > 0 && strings.Contains(r.Calls[len(r.Calls)-1].Request, "no pong")
	})
	if last := rec.Calls[len(rec.Calls)-1]; last.Method != "close" {
		t.Errorf("the dead peer's connection ends with %+v, want its close", last)
	}
	dead.CloseNow()

	// The live one got pinged all along and is still there.
	deadline := time.After(10 * time.Second)
	for pings.Load() < 5 {
		select {
		case <-readCtx.Done():
			t.Fatal("the client that reads was dropped")
		case <-deadline:
			t.Fatalf("the client that reads got %d pings, want 5", pings.Load())
		case <-time.After(10 * time.Millisecond):
		}
	}
	waitConns(t, tc, 1)
}

// TestSlowClient: a broadcast wrote to every connection and waited for all
// the writes: a client that stopped reading (its buffers full) held every
// broadcast — a post's webhook, a typing notice — for the write timeout,
// and the others' messages came that much later. Now each connection has a
// bounded queue written by its own goroutine: a broadcast queues and moves
// on, and a client whose queue is full is dropped as too slow. The others
// get every message.
func TestSlowClient(t *testing.T) {
	tc := startChatWith(t, func(hc *hubConfig) { hc.queue, hc.writeTimeout = 2, time.Minute })

	// The slow client reads nothing, with a small receive buffer.
	slowClient := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			c.(*net.TCPConn).SetReadBuffer(4 << 10)
		}
		return c, err
	}}}
	slow, _, err := websocket.Dial(context.Background(), tc.app.wsURL(), &websocket.DialOptions{
		HTTPClient: slowClient,
		HTTPHeader: http.Header{"Origin": {tc.appURL}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	fast := tc.dialHub(t)
	fast.SetReadLimit(-1)
	waitConns(t, tc, 2)

	const msgs, size = 64, 256 << 10 // 16 MiB: more than the socket buffers hold
	data := make([]byte, size)
	// Each broadcast follows the fast client's reading of the one before:
	// a broadcast waits deliverWait at most for the writes, and a fast
	// client that a loaded machine kept from reading for longer fell three
	// messages behind, and was dropped as too slow. The slow client's
	// queue fills all the same, as it reads nothing.
	read := make(chan struct{})
	broadcasts := make(chan struct{})
	go func() {
		defer close(broadcasts)
		for range msgs {
			tc.hub.broadcast(context.Background(), nil, data)
			if _, ok := <-read; !ok {
				return
			}
		}
	}()
	defer func() { close(read); <-broadcasts }()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range msgs {
		if _, b, err := fast.Read(ctx); err != nil || len(b) != size {
			t.Fatalf("the fast client's message %d of %d: %d bytes, %v", i+1, msgs, len(b), err)
		}
		read <- struct{}{}
	}
	waitConns(t, tc, 1)
	tc.waitRecord(t, "the slow client's connection", func(r *recording.Record) bool {
		return r.Route == "GET /ws" && len(r.Calls) > 0 && strings.Contains(r.Calls[len(r.Calls)-1].Request, "too slow")
	})
}

// TestMessageFlood: a client could send messages as fast as its link
// allowed; each refused typing notice still made a record, read and kept.
// One that sends more than a burst, or more than the rate, is dropped at
// once: it was closed with a 1008 close handshake, which read on what it
// flooded for up to 5 s, waiting for a close frame a client ignoring the
// limits need not send. The flooder here, a real websocket client, reads
// nothing while it floods; then it finds its connection ended without a
// close frame, and the reason in its connection's record. A well-behaved
// client beside it is untouched, and still gets a clean close: its close
// handshake completes.
func TestMessageFlood(t *testing.T) {
	tc := startChat(t)
	good := tc.dialHub(t)
	ws := tc.dialHub(t)
	waitConns(t, tc, 2)
	for range 100 {
		if ws.Write(context.Background(), websocket.MessageText, []byte(`{"type":"typing","name":"ada"}`)) != nil {
			break // dropped by the hub
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := ws.Read(ctx)
	if err == nil || websocket.CloseStatus(err) != -1 {
		t.Fatalf("a client sending 100 messages at once: %v, want its connection ended without a close frame", err)
	}
	waitConns(t, tc, 1)
	tc.waitRecord(t, "the flooding client's connection", func(r *recording.Record) bool {
		return r.Route == "GET /ws" && len(r.Calls) > 0 && r.Calls[len(r.Calls)-1].Request == "closed by the server: too many messages: "+
			strconv.Itoa(msgBurst)+" in a row at most, one a second on average (pings included)"
	})

	// The well-behaved client: a notice within the limits, then a clean
	// close (Close returns nil once the hub's close frame answers its own).
	if err := good.Write(ctx, websocket.MessageText, []byte(`{"type":"typing","name":"bob"}`)); err != nil {
		t.Fatalf("the well-behaved client's notice: %v", err)
	}
	if err := good.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatalf("the well-behaved client's close handshake: %v", err)
	}
	waitConns(t, tc, 0)
	tc.waitRecord(t, "the well-behaved client's connection", func(r *recording.Record) bool {
		return r.Route == "GET /ws" && len(r.Calls) > 0 && r.Calls[len(r.Calls)-1].Request == "closed by the client: 1000 bye"
	})
}

// TestHugeMessage: a message over the read limit closes the connection
// (1009, message too big) before it is read into memory.
func TestHugeMessage(t *testing.T) {
	tc := startChat(t)
	ws := tc.dialHub(t)
	waitConns(t, tc, 1)
	go ws.Write(context.Background(), websocket.MessageText, make([]byte, 64<<20))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := ws.Read(ctx); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("a message of 64 MiB: %v, want closed with 1009", err)
	}
	waitConns(t, tc, 0)
}

// TestNotifyProtected: GET /notify made every browser fetch the comments
// again, for anyone who asked — any web page a user of the chat opened, as
// an <img src>, and anyone on the network with -hub on a public address.
// The webhook is now POST /notify with the hub's token (Authorization:
// Bearer), which the app holds: a GET is refused (405), a POST without the
// token or with a wrong one too (401). The app's own call still notifies.
func TestNotifyProtected(t *testing.T) {
	tc := startChat(t)
	ws := tc.dialHub(t)
	waitConns(t, tc, 1)
	for _, tt := range []struct {
		method, auth string
		want         int
	}{
		{"GET", "", http.StatusMethodNotAllowed},
		{"POST", "", http.StatusUnauthorized},
		{"POST", "Bearer nope", http.StatusUnauthorized},
		{"POST", "Basic YTpi", http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest(tt.method, tc.hubURL+"/notify?t=1", nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s /notify, Authorization %q: %d, want %d", tt.method, tt.auth, resp.StatusCode, tt.want)
		}
	}
	if err := tc.app.notify(context.Background()); err != nil {
		t.Fatalf("the app's notify: %v", err)
	}
	if got := readWS(t, ws); got != updated {
		t.Errorf("pushed %q, want %q", got, updated)
	}
	// The token is in no record: appstats redacts Authorization.
	hub := tc.waitRecord(t, "the hub's POST /notify", func(r *recording.Record) bool { return r.Route == "POST /notify" && r.Status == http.StatusOK })
	if j, _ := json.Marshal(hub); strings.Contains(string(j), tc.hub.cfg.token) {
		t.Errorf("the hub's record holds its token: %s", j)
	}
}

// TestHubURLFromHost: the page told browsers the hub was at the hub's
// listening address, so that with -addr :8090 -hub :8091 it said
// ws://[::]:8091/ws, where no browser connects; and the hub admitted only
// pages of the app's listening address. The page now names the host the
// browser asked for, on the hub's port, and the hub admits the app's pages
// under the name it is reached by.
func TestHubURLFromHost(t *testing.T) {
	tc := startChatOn(t, "0.0.0.0:0", "0.0.0.0:0")
	_, appPort, _ := net.SplitHostPort(tc.appLn)
	_, hubPort, _ := net.SplitHostPort(tc.hubLn)
	for _, host := range []string{"localhost", "chat.example", "127.0.0.1"} {
		req, _ := http.NewRequest("GET", "http://127.0.0.1:"+appPort+"/", nil)
		req.Host = net.JoinHostPort(host, appPort)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := "ws://" + net.JoinHostPort(host, hubPort) + "/ws"
		m := regexp.MustCompile(`data-hub="([^"]*)"`).FindSubmatch(page)
		if m == nil || string(m[1]) != want {
			t.Errorf("a page asked for as %s says the hub is at %q, want %q", req.Host, m, want)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' "+want+";") {
			t.Errorf("a page asked for as %s: CSP %q does not let it connect to %s", req.Host, csp, want)
		}
		// The page's websocket, to that URL, from that page's origin.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ws, resp, err := websocket.Dial(ctx, "ws://127.0.0.1:"+hubPort+"/ws", &websocket.DialOptions{
			Host:       net.JoinHostPort(host, hubPort),
			HTTPHeader: http.Header{"Origin": {"http://" + req.Host}},
		})
		cancel()
		if err != nil {
			code := 0
			if resp != nil {
				code = resp.StatusCode
			}
			t.Errorf("the page of %s could not connect to its hub: %v (%d)", req.Host, err, code)
			continue
		}
		ws.CloseNow()
	}
	// Another site's page, or another port's, is still refused.
	for _, origin := range []string{"http://evil.example:" + appPort, "http://chat.example:1"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ws, _, err := websocket.Dial(ctx, "ws://127.0.0.1:"+hubPort+"/ws", &websocket.DialOptions{
			Host:       net.JoinHostPort("chat.example", hubPort),
			HTTPHeader: http.Header{"Origin": {origin}},
		})
		cancel()
		if err == nil {
			ws.CloseNow()
			t.Errorf("a page of %s connected to the hub", origin)
		}
	}
}
