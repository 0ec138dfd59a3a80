package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The tests of this file hold the hub to more of what a server on the open
// internet needs (see internet_test.go).

// dialFrom connects to the hub as a page of the app would, from the local
// address ip (any of 127.0.0.0/8 is this machine's), with the headers hdr
// added; it returns the refusal's status when the hub refuses.
func (tc *testChat) dialFrom(t *testing.T, ip string, hdr http.Header) (*websocket.Conn, int, string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{
		LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)},
	}).DialContext}}
	h := http.Header{"Origin": {tc.appURL}}
	for k, v := range hdr {
		h[k] = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, resp, err := websocket.Dial(ctx, tc.app.wsURL(), &websocket.DialOptions{HTTPClient: client, HTTPHeader: h})
	if err != nil {
		if resp == nil {
			t.Fatalf("dial hub from %s: %v", ip, err)
		}
		body, _ := io.ReadAll(resp.Body)
		return nil, resp.StatusCode, string(body)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws, http.StatusSwitchingProtocols, ""
}

// TestConnLimitPerIP: one host could take every one of the hub's
// -max-conns connections, and keep every other browser out. A client
// address now holds -max-conns-per-ip at most: more are refused with 429
// and a message saying so; another address still connects, and a
// connection that ends makes room for another from its address. Behind a
// proxy the operator trusts (-trusted-proxy), the client's address is the
// one the proxy puts in X-Forwarded-For; anyone else's X-Forwarded-For is
// not believed.
func TestConnLimitPerIP(t *testing.T) {
	tc := startChatWith(t, func(hc *hubConfig) {
		hc.maxPerIP = 2
		hc.trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32")}
	})
	ws1, _, _ := tc.dialFrom(t, "127.0.0.1", nil)
	tc.dialFrom(t, "127.0.0.1", nil)
	waitConns(t, tc, 2)
	if ws, code, body := tc.dialFrom(t, "127.0.0.1", nil); ws != nil || code != http.StatusTooManyRequests || !strings.Contains(body, "-max-conns-per-ip") {
		t.Fatalf("a third connection from one address: %d %q, want 429 naming -max-conns-per-ip", code, body)
	}
	// Another address; an X-Forwarded-For of an untrusted client changes
	// nothing.
	if ws, code, body := tc.dialFrom(t, "127.0.0.1", http.Header{"X-Forwarded-For": {"198.51.100.7"}}); ws != nil || code != http.StatusTooManyRequests {
		t.Errorf("a third connection from one address, with an X-Forwarded-For of its own: %d %q, want 429", code, body)
	}
	if ws, code, body := tc.dialFrom(t, "127.0.0.2", nil); ws == nil {
		t.Errorf("a connection from another address: %d %q", code, body)
	}
	waitConns(t, tc, 3)
	ws1.Close(websocket.StatusNormalClosure, "")
	waitConns(t, tc, 2)
	if ws, code, body := tc.dialFrom(t, "127.0.0.1", nil); ws == nil {
		t.Errorf("a connection once one of its address ended: %d %q", code, body)
	}
	waitConns(t, tc, 3)
	// Through the trusted proxy: each client its own limit.
	for _, client := range []string{"203.0.113.1", "203.0.113.1", "2001:db8::1"} {
		if ws, code, body := tc.dialFrom(t, "127.0.0.3", http.Header{"X-Forwarded-For": {"198.51.100.7, " + client}}); ws == nil {
			t.Errorf("client %s through the trusted proxy: %d %q", client, code, body)
		}
	}
	if ws, code, _ := tc.dialFrom(t, "127.0.0.3", http.Header{"X-Forwarded-For": {"203.0.113.1"}}); ws != nil || code != http.StatusTooManyRequests {
		t.Errorf("a third connection of one client through the trusted proxy: %d, want 429", code)
	}
	// An IPv6 client's /64 is one address.
	if ws, code, _ := tc.dialFrom(t, "127.0.0.3", http.Header{"X-Forwarded-For": {"2001:db8::2"}}); ws == nil {
		t.Errorf("a second connection of an IPv6 /64: %d", code)
	}
	if ws, code, _ := tc.dialFrom(t, "127.0.0.3", http.Header{"X-Forwarded-For": {"2001:db8::3"}}); ws != nil || code != http.StatusTooManyRequests {
		t.Errorf("a third connection of an IPv6 /64: %d, want 429", code)
	}
	waitConns(t, tc, 7)
}

// TestPingFlood: a client could send ping frames as fast as its link
// allowed, each answered with a pong, where its messages are limited
// (TestMessageFlood). Its pings now take from the same budget as its
// messages: one that sends more than msgBurst in a row is dropped (at
// once, without a close handshake: TestPingFloodDropped).
func TestPingFlood(t *testing.T) {
	tc := startChat(t)
	ws := tc.dialHub(t)
	waitConns(t, tc, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		for range 100 {
			if ws.Ping(ctx) != nil {
				return // not answered: closed by the hub
			}
		}
	})
	if _, _, err := ws.Read(ctx); err == nil || ctx.Err() != nil {
		t.Fatalf("a client sending 100 pings at once: %v, want its connection closed", err)
	}
	ws.CloseNow() // a Ping waiting for its pong ends at once
	waitConns(t, tc, 0)
}

// TestForwardedProto: behind a proxy that serves the chat over TLS, the
// page named the hub ws://, which a browser refuses to open from an https
// page. The page now names it wss:// when the request came through a proxy
// the operator trusts (-trusted-proxy) saying X-Forwarded-Proto: https —
// never by default, nor from anyone else.
func TestForwardedProto(t *testing.T) {
	for _, tt := range []struct {
		name    string
		trusted []netip.Prefix
		proto   string
		want    string
	}{
		{"no proxy trusted", nil, "https", "ws://"},
		{"another proxy trusted", []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, "https", "ws://"},
		{"trusted", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, "https", "wss://"},
		{"trusted, plain", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, "http", "ws://"},
		{"trusted, none said", []netip.Prefix{netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("127.0.0.1/32")}, "", "ws://"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tc := startChatWith(t, func(hc *hubConfig) { hc.trusted = tt.trusted })
			req, _ := http.NewRequest("GET", tc.appURL+"/", nil)
			req.Host = "chat.example"
			if tt.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			_, hubPort, _ := net.SplitHostPort(tc.hubLn)
			want := tt.want + "chat.example:" + hubPort + "/ws"
			if m := regexp.MustCompile(`data-hub="([^"]*)"`).FindSubmatch(page); m == nil || string(m[1]) != want {
				t.Errorf("the page names the hub %q, want %q", m, want)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, " "+want+";") {
				t.Errorf("CSP %q does not let the page connect to %s", csp, want)
			}
		})
	}
}

// TestTypingCoalesced: the hub passed each typing notice on to every other
// browser, so that with every one of n browsers typing it wrote n×(n−1)
// notices each round (each browser sends one every 2 s). It now passes on
// who is typing, at most once every typingEvery for all of them, each
// browser told at most twice a round: n clients typing at once get two
// writes each, not n−1.
func TestTypingCoalesced(t *testing.T) {
	const n = 10
	tc := startChat(t)
	ws := make([]*websocket.Conn, n)
	for i := range ws {
		ws[i] = tc.dialHub(t)
	}
	waitConns(t, tc, n)
	name := func(i int) string { return string(rune('a'+i)) + "da" }
	for i, c := range ws {
		if err := c.Write(context.Background(), websocket.MessageText, []byte(`{"type":"typing","name":"`+name(i)+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	// Each reads until told of every other one (a notice names some,
	// and counts the others).
	var wg sync.WaitGroup
	got := make([]int, n)
	for i, c := range ws {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			seen := map[string]bool{} // the others named, in one notice or another
			told := 0                 // the others one notice told of, named or counted
			for len(seen) < n-1 && told < n-1 {
				_, b, err := c.Read(ctx)
				if err != nil {
					t.Errorf("client %d, told of %d others: %v", i, len(seen), err)
					return
				}
				got[i]++
				var m struct {
					Name   string
					Names  []string
					Others int
				}
				if err := json.Unmarshal(b, &m); err != nil {
					t.Errorf("client %d: %q: %v", i, b, err)
					return
				}
				told = m.Others
				for _, s := range append(m.Names, m.Name) {
					if s != "" && s != name(i) {
						seen[s] = true
						told++
					}
				}
			}
		})
	}
	wg.Wait()
	total := 0
	for _, k := range got {
		total += k
	}
	if total > 2*n {
		t.Errorf("%d clients typing at once: %d notices written (%v), want %d at most", n, total, got, 2*n)
	}
}

// TestParsePrefixes: -trusted-proxy takes IP addresses and CIDR prefixes,
// comma-separated; anything else is refused with a message naming it.
func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes(" 10.0.0.1, 192.168.1.7/16,::1,::ffff:10.0.0.2 ,")
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.0.0.2/32"),
	}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("parsePrefixes = %v, %v; want %v", got, err, want)
	}
	if got, err := parsePrefixes(""); err != nil || len(got) != 0 {
		t.Errorf("parsePrefixes(\"\") = %v, %v; want none", got, err)
	}
	for _, bad := range []string{"proxy.example", "10.0.0.1/40", "10.0.0"} {
		if _, err := parsePrefixes(bad); err == nil {
			t.Errorf("parsePrefixes(%q) took it", bad)
		}
	}
}
