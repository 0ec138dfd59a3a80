package ui

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// LocalOnly is the default authorizer: it admits a request only if it comes
// from a loopback address (127.0.0.0/8 or ::1) and carries none of the
// headers a reverse proxy adds (Forwarded, any X-Forwarded-*, X-Real-IP,
// X-Client-IP), even empty ones. An app behind a proxy on the same host is
// therefore closed by default, not open. Requests over Unix sockets (no IP
// address) are refused too.
func LocalOnly(r *http.Request) bool {
	for name := range r.Header {
		switch {
		case name == "Forwarded", name == "X-Real-Ip", name == "X-Client-Ip",
			strings.HasPrefix(name, "X-Forwarded-"):
			return false
		}
		// Non-canonical spellings (from HTTP/2 or hand-built requests).
		switch strings.ToLower(name) {
		case "forwarded", "x-real-ip", "x-client-ip":
			return false
		}
		if strings.HasPrefix(strings.ToLower(name), "x-forwarded-") {
			return false
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return ip.Unmap().IsLoopback()
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
