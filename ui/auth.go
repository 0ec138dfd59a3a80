package ui

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// LocalOnly is the default authorizer: it admits a request only if
//
//   - it comes from a loopback address (127.0.0.0/8 or ::1); requests over
//     Unix sockets (no IP address) are refused;
//   - its Host names this machine: a loopback IP literal, "localhost" or a
//     name under ".localhost" (with any port). Any other name is refused,
//     so that a web page on a name its owner points at 127.0.0.1 (DNS
//     rebinding) cannot read the dashboard from a browser on this machine;
//     [WithLocalHosts] admits more names;
//   - it carries none of the headers a reverse proxy or a CDN adds, even
//     empty: Forwarded, X-Forwarded, any X-Forwarded-*,
//     X-Original-Forwarded-For, X-Real-IP, X-Client-IP, X-Cluster-Client-IP,
//     True-Client-IP, CF-Connecting-IP, Fastly-Client-IP, Via. An app behind
//     a proxy that adds one of them is closed by default, not open.
//
// A reverse proxy on the same host that adds none of these headers and
// passes the client's Host through cannot be told from a local client: its
// requests come from loopback too. Behind such a proxy, set an authorizer
// with [WithAuth] (Config.Auth for users of package appstats), such as
// [BasicAuth].
func LocalOnly(r *http.Request) bool { return localOnly(r, nil) }

// localOnly is [LocalOnly] admitting also the Host names in hosts
// (lowercase, without port or trailing dot).
func localOnly(r *http.Request, hosts map[string]bool) bool { return localRefusal(r, hosts) == "" }

// localRefusal returns why [localOnly] refuses r — each check it fails,
// said from what r carries, naming none of hosts — or "" when it admits
// it.
func localRefusal(r *http.Request, hosts map[string]bool) string {
	var why []string
	if ip, ok := remoteIP(r.RemoteAddr); !ok || !ip.Unmap().IsLoopback() {
		why = append(why, "it is not from a loopback address")
	}
	if !localHost(r.Host, hosts) {
		why = append(why, "its Host names no local host (localhost, a name under .localhost, a loopback IP or a name the operator listed)")
	}
	proxy := ""
	for name := range r.Header {
		if proxyHeader(name) && (proxy == "" || name < proxy) {
			proxy = name // the first in order: the same answer each time
		}
	}
	if proxy != "" {
		if len(proxy) > 64 {
			proxy = proxy[:64] + "…"
		}
		why = append(why, "it carries "+http.CanonicalHeaderKey(proxy)+", a header a proxy adds")
	}
	return strings.Join(why, "; ")
}

// remoteIP returns the IP address of a request's RemoteAddr; false for
// one of no IP (a Unix socket's).
func remoteIP(remote string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(host)
	return ip, err == nil
}

// proxyHeader reports whether a header name, in any case, is one that
// proxies, load balancers and CDNs add to tell the client's address or the
// hops a request went through.
func proxyHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "forwarded", "x-forwarded", "x-original-forwarded-for", "x-real-ip", "x-client-ip",
		"x-cluster-client-ip", "true-client-ip", "cf-connecting-ip", "fastly-client-ip", "via":
		return true
	}
	return strings.HasPrefix(n, "x-forwarded-")
}

// localHost reports whether a request's Host (with or without a port)
// names this machine: a loopback IP, localhost or *.localhost, or one of
// hosts.
func localHost(hostport string, hosts map[string]bool) bool {
	h := hostName(hostport)
	if h == "" {
		return false
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || hosts[h] {
		return true
	}
	ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
	return err == nil && ip.Zone() == "" && ip.Unmap().IsLoopback()
}

// hostName returns the host of a Host header or a host[:port] setting,
// lowercase, without its port or a trailing dot; an IPv6 literal is in
// brackets, as in a Host header.
func hostName(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if ip, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")); err == nil && ip.Is6() {
		return "[" + ip.String() + "]"
	}
	return h
}

// BasicAuth returns an authorizer that admits requests carrying HTTP Basic
// credentials equal to user and pass, compared in constant time. An empty
// pass admits nobody. Use it with [WithAuth]; refused requests then get a
// Basic challenge, so browsers ask for the credentials.
//
// Basic credentials travel in clear text: serve the UI over HTTPS, or only
// on a trusted network.
func BasicAuth(user, pass string) func(*http.Request) bool {
	wantUser := sha256.Sum256([]byte(user))
	wantPass := sha256.Sum256([]byte(pass))
	empty := pass == ""
	return func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		if !ok || empty {
			return false
		}
		gotUser := sha256.Sum256([]byte(u))
		gotPass := sha256.Sum256([]byte(p))
		// Both comparisons always run, so timing reveals neither.
		uok := subtle.ConstantTimeCompare(gotUser[:], wantUser[:])
		pok := subtle.ConstantTimeCompare(gotPass[:], wantPass[:])
		return uok&pok == 1
	}
}
