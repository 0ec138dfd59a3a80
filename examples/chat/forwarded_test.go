package main

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"
	"testing"
)

// TestForwardedHost: behind a TLS proxy on another host and port, the
// page named the hub at the host the request reached the app by (the
// proxy's upstream) on the hub's own port, where no browser reaches it:
// X-Forwarded-Host and X-Forwarded-Port were not read. From a proxy the
// operator trusts (-trusted-proxy), a valid X-Forwarded-Host (a host and
// an optional port, nothing else) now names the host; a proxy that keeps
// the app's port serves the hub on its own port as before, and a proxy on
// another port is to serve the hub on the page's own origin, at /ws.
// Invalid values, and anyone else's, are ignored.
func TestForwardedHost(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	for _, tt := range []struct {
		name    string
		trusted []netip.Prefix
		hdr     map[string]string
		want    string // the hub's URL, with APP and HUB for the chat's ports
	}{
		{"proxy on 443", trusted, map[string]string{"X-Forwarded-Host": "chat.example", "X-Forwarded-Proto": "https"}, "wss://chat.example/ws"},
		{"proxy on 8443", trusted, map[string]string{"X-Forwarded-Host": "chat.example:8443", "X-Forwarded-Proto": "https"}, "wss://chat.example:8443/ws"},
		{"X-Forwarded-Port", trusted, map[string]string{"X-Forwarded-Host": "chat.example", "X-Forwarded-Port": "8443", "X-Forwarded-Proto": "https"}, "wss://chat.example:8443/ws"},
		{"default port written", trusted, map[string]string{"X-Forwarded-Host": "chat.example", "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"}, "wss://chat.example/ws"},
		{"plain proxy on 80", trusted, map[string]string{"X-Forwarded-Host": "chat.example"}, "ws://chat.example/ws"},
		{"list: the first", trusted, map[string]string{"X-Forwarded-Host": "chat.example:8443, inner.example", "X-Forwarded-Proto": "https"}, "wss://chat.example:8443/ws"},
		{"same ports", trusted, map[string]string{"X-Forwarded-Host": "chat.example", "X-Forwarded-Port": "APP", "X-Forwarded-Proto": "https"}, "wss://chat.example:HUB/ws"},
		{"IPv6", trusted, map[string]string{"X-Forwarded-Host": "[2001:db8::1]:8443"}, "ws://[2001:db8::1]:8443/ws"},
		{"untrusted", nil, map[string]string{"X-Forwarded-Host": "chat.example:8443", "X-Forwarded-Proto": "https"}, "ws://app.internal:HUB/ws"},
		{"a path", trusted, map[string]string{"X-Forwarded-Host": "evil.example/x"}, "ws://app.internal:HUB/ws"},
		{"user info", trusted, map[string]string{"X-Forwarded-Host": "u@evil.example"}, "ws://app.internal:HUB/ws"},
		{"port out of range", trusted, map[string]string{"X-Forwarded-Host": "chat.example:99999"}, "ws://app.internal:HUB/ws"},
		{"bad X-Forwarded-Port", trusted, map[string]string{"X-Forwarded-Host": "chat.example", "X-Forwarded-Port": "8443x", "X-Forwarded-Proto": "https"}, "wss://chat.example/ws"},
		{"a quote", trusted, map[string]string{"X-Forwarded-Host": `chat.example"><script>`}, "ws://app.internal:HUB/ws"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tc := startChatWith(t, func(hc *hubConfig) { hc.trusted = tt.trusted })
			_, appPort, _ := net.SplitHostPort(tc.appLn)
			_, hubPort, _ := net.SplitHostPort(tc.hubLn)
			req, _ := http.NewRequest("GET", tc.appURL+"/", nil)
			req.Host = "app.internal:" + appPort // the proxy's upstream
			for k, v := range tt.hdr {
				req.Header.Set(k, regexp.MustCompile("APP").ReplaceAllString(v, appPort))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			want := regexp.MustCompile("HUB").ReplaceAllString(tt.want, hubPort)
			if m := regexp.MustCompile(`data-hub="([^"]*)"`).FindSubmatch(page); m == nil || string(m[1]) != want {
				t.Errorf("the page names the hub %q, want %q", m, want)
			}
		})
	}
}

// TestForwardedHostOrigin: the hub admitted the websockets of the app's
// pages under the name the hub was reached by, on the app's port; a page
// served by a proxy on another host and port (its origin
// https://chat.example:8443) was refused. Through a proxy the operator
// trusts, the hub admits the page of the origin X-Forwarded-Host names
// (the hub served on that origin, at /ws), and that host on the app's
// port; not another site's page, nor anyone's X-Forwarded-Host but a
// trusted proxy's.
func TestForwardedHostOrigin(t *testing.T) {
	tc := startChatWith(t, func(hc *hubConfig) { hc.trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32")} })
	_, appPort, _ := net.SplitHostPort(tc.appLn)
	for _, tt := range []struct {
		from, origin, fwdHost, proto string
		ok                           bool
	}{
		{"127.0.0.3", "https://chat.example:8443", "chat.example:8443", "https", true},
		{"127.0.0.3", "https://chat.example", "chat.example", "https", true},
		{"127.0.0.3", "https://chat.example:" + appPort, "chat.example:1234", "https", true}, // the same ports' page
		{"127.0.0.3", "https://evil.example:8443", "chat.example:8443", "https", false},
		{"127.0.0.3", "https://chat.example:8443", "chat.example", "https", false},
		{"127.0.0.1", "https://chat.example:8443", "chat.example:8443", "https", false}, // not trusted
		{"127.0.0.3", "https://chat.example:8443", "chat.example:8443/x", "https", false},
	} {
		ws, code, body := tc.dialFrom(t, tt.from, http.Header{"Origin": {tt.origin}, "X-Forwarded-Host": {tt.fwdHost}, "X-Forwarded-Proto": {tt.proto}})
		if (ws != nil) != tt.ok {
			t.Errorf("from %s, Origin %s, X-Forwarded-Host %s: %d %q; want admitted %v", tt.from, tt.origin, tt.fwdHost, code, body, tt.ok)
		}
		if ws != nil {
			ws.CloseNow()
		}
	}
}

// TestForwardedForPort: a proxy that writes the client's address with its
// port in X-Forwarded-For ("203.0.113.1:52000", "[2001:db8::1]:52000", as
// some load balancers do) had every client counted under the proxy's own
// address (the entry was no IP address, so the header was ignored): the
// 33rd browser behind it was refused with 429. The client's address is
// now the entry's, its port left out.
func TestForwardedForPort(t *testing.T) {
	tc := startChatWith(t, func(hc *hubConfig) {
		hc.maxPerIP = 1
		hc.trusted = []netip.Prefix{netip.MustParsePrefix("127.0.0.3/32")}
	})
	for _, client := range []string{"203.0.113.1:52000", "203.0.113.2:52001", "[2001:db8::1]:52002"} {
		if ws, code, body := tc.dialFrom(t, "127.0.0.3", http.Header{"X-Forwarded-For": {"198.51.100.7, " + client}}); ws == nil {
			t.Errorf("client %s through the trusted proxy: %d %q, want it counted as a client of its own", client, code, body)
		}
	}
	if ws, code, _ := tc.dialFrom(t, "127.0.0.3", http.Header{"X-Forwarded-For": {"203.0.113.1:52003"}}); ws != nil || code != http.StatusTooManyRequests {
		t.Errorf("a second connection of 203.0.113.1, from another port: %d, want 429", code)
	}
	// From anyone else, no more believed than before.
	tc.dialFrom(t, "127.0.0.1", nil)
	if ws, code, _ := tc.dialFrom(t, "127.0.0.1", http.Header{"X-Forwarded-For": {"203.0.113.9:1"}}); ws != nil || code != http.StatusTooManyRequests {
		t.Errorf("a second connection of an untrusted client naming another address: %d, want 429", code)
	}
}

// TestForwardedForHostile: X-Forwarded-For entries a proxy or a client may
// write that are no address ("unknown", an obfuscated "_hidden", a port
// with spaces, brackets round IPv4, a port out of range) make the header
// not believed (the proxy's own address counts); a zone is kept off the
// key (clientKey's prefix drops it); 10,000 entries take one pass. (A pin:
// this held on land71.)
func TestForwardedForHostile(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		xff  string
		want string // "" for not believed
	}{
		{"unknown", ""},
		{"_hidden", ""},
		{"203.0.113.1, unknown", ""},
		{"203.0.113.1 :80", ""},
		{"[203.0.113.1]:80", ""},
		{"203.0.113.1:99999", ""},
		{"[2001:db8::1]x", ""},
		{"", ""},
		{"fe80::1%eth0", "fe80::1%eth0"},
		{"[fe80::1%eth0]:80", "fe80::1%eth0"},
		{"[::ffff:203.0.113.1]:80", "203.0.113.1"},
		{"198.51.100.7, 203.0.113.1:52000, 10.0.0.2", "203.0.113.1"},
		{strings.Repeat("10.0.0.1, ", 10000) + "203.0.113.1", "203.0.113.1"},
		{"203.0.113.1, " + strings.Repeat("10.0.0.1, ", 10000) + "10.0.0.2", "203.0.113.1"},
	} {
		ip, ok := forwardedFor(http.Header{"X-Forwarded-For": {tc.xff}}, proxies)
		got := ""
		if ok {
			got = ip.String()
		}
		if got != tc.want {
			name := tc.xff
			if len(name) > 60 {
				name = name[:60] + "…"
			}
			t.Errorf("X-Forwarded-For %q: %q, want %q", name, got, tc.want)
		}
	}
	// Zones apart, one key: a link-local client is one host's /64.
	a, _ := netip.MustParseAddr("fe80::1%eth0").Prefix(64)
	b, _ := netip.MustParseAddr("fe80::1%eth1").Prefix(64)
	if a != b {
		t.Errorf("keys of fe80::1 by zone differ: %v, %v", a, b)
	}
}
