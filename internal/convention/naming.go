package convention

import (
	"net"
	"net/url"
	"strings"
)

// Service names of the calls appstats' wrappers record (a recording.Call's
// Service). Users name their own calls freely.
const (
	ServiceHTTP = "http" // HTTP client calls: httpstats.NewTransport, bridged HTTP client spans
	ServiceGRPC = "grpc" // gRPC client calls: grpcstats, bridged gRPC spans
	ServiceSQL  = "sql"  // SQL statements: sqlstats, bridged spans of SQL databases
	ServiceNet  = "net"  // socket operations: netstats
	ServiceDNS  = "dns"  // name lookups: netstats
	ServiceOTel = "otel" // bridged spans of no known kind
)

// HTTPCallName returns the method of an HTTP client call (its service is
// [ServiceHTTP]): "GET api.example.com/users/{id}". It is the one name of
// an HTTP request, however it was recorded:
//
//   - method is the request's method; empty means "GET", as in net/http;
//   - host is the server's name or address, lowercased; an IPv6 address is
//     written in brackets ("[::1]"), whether host came with them or not;
//   - port follows the host after a colon, unless it is empty, "80" or
//     "443" (the defaults of http and https, left out so that
//     "https://h:443/" and "https://h/" name one call);
//   - path is normalized by [NormalizePath], so that /users/42 and
//     /users/43 name one call; empty means "/".
//
// Without a host the name is the method and the path ("GET /users/{id}").
func HTTPCallName(method, host, port, path string) string {
	if method == "" {
		method = "GET"
	}
	path = NormalizePath(path)
	if port == "80" || port == "443" {
		port = ""
	}
	if len(host) >= 2 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	host = strings.ToLower(host) // no allocation when it is lowercase already
	ipv6 := strings.IndexByte(host, ':') >= 0
	switch {
	case host == "":
		return method + " " + path
	case ipv6 && port != "":
		return method + " [" + host + "]:" + port + path
	case ipv6:
		return method + " [" + host + "]" + path
	case port != "":
		return method + " " + host + ":" + port + path
	}
	return method + " " + host + path
}

// HTTPURLCallName is [HTTPCallName] of a request URL: its host, its port
// and its (unescaped) path.
func HTTPURLCallName(method string, u *url.URL) string {
	return HTTPCallName(method, u.Hostname(), u.Port(), u.Path)
}

// An HTTPCall is what appstats records of an HTTP client call to a URL,
// besides its name ([HTTPURLCallName]), whichever wrapper records it:
// httpstats' transport, or otelexport's bridge from an OpenTelemetry span.
type HTTPCall struct {
	Request       string // the request summary: the method and URLFull
	Method        string // http.request.method
	ServerAddress string // server.address: the URL's host
	ServerPort    string // server.port: the URL's port, else its scheme's default
	URLFull       string // url.full: the URL, redacted
}

// A URLRedactor writes a URL out with its secrets hidden, as [Rules.URL]
// does. recording.Redaction is one.
type URLRedactor interface {
	URL(u *url.URL) string
}

// NewHTTPCall describes a call with method (empty means "GET") to u, written
// out by r (u.String() when r is nil).
func NewHTTPCall(method string, u *url.URL, r URLRedactor) HTTPCall {
	if method == "" {
		method = "GET"
	}
	s := ""
	if r != nil {
		s = r.URL(u)
	} else {
		s = u.String()
	}
	req := method + " " + s
	return HTTPCall{
		Request:       req,
		Method:        method,
		ServerAddress: u.Hostname(),
		ServerPort:    HTTPServerPort(u.Scheme, u.Port()),
		URLFull:       req[len(method)+1:], // shares the summary's bytes
	}
}

// Attr is the type of a recorded attribute, recording.Attr, which this
// package (below recording) cannot name.
type Attr interface{ ~struct{ Key, Value string } }

// AppendHTTPAttrs appends the attributes of h to dst: http.request.method,
// server.address, server.port (when known) and url.full.
func AppendHTTPAttrs[A Attr](dst []A, h HTTPCall) []A {
	dst = append(dst, A{Key: KeyHTTPRequestMethod, Value: h.Method}, A{Key: KeyServerAddress, Value: h.ServerAddress})
	if h.ServerPort != "" {
		dst = append(dst, A{Key: KeyServerPort, Value: h.ServerPort})
	}
	return append(dst, A{Key: KeyURLFull, Value: h.URLFull})
}

// ParseHTTPCallName splits a name made by [HTTPCallName] (or written by hand
// in its form) into its parts: "GET [::1]:8080/users/{id}" gives "GET",
// "::1", "8080" and "/users/{id}". A part the name lacks is empty; a name
// without a space is all method.
func ParseHTTPCallName(name string) (method, host, port, path string) {
	method, target, _ := strings.Cut(name, " ")
	authority := target
	if i := strings.IndexByte(target, '/'); i >= 0 {
		authority, path = target[:i], target[i:]
	}
	if strings.HasPrefix(authority, "[") {
		if end := strings.IndexByte(authority, ']'); end > 0 {
			host = authority[1:end]
			port = strings.TrimPrefix(authority[end+1:], ":")
			return method, host, port, path
		}
	}
	if i := strings.LastIndexByte(authority, ':'); i >= 0 && strings.IndexByte(authority, ':') == i {
		return method, authority[:i], authority[i+1:], path
	}
	return method, authority, "", path // a name, or an IPv6 address without brackets
}

// HTTPServerPort returns the port of a request to a URL with the given
// scheme and explicit port (which may be empty): the explicit port, else
// the scheme's default, "443" for https and wss and "80" for http and ws;
// else "". It is the server.port attribute of an HTTP client call.
func HTTPServerPort(scheme, port string) string {
	if port != "" {
		return port
	}
	switch strings.ToLower(scheme) {
	case "https", "wss":
		return "443"
	case "http", "ws":
		return "80"
	}
	return ""
}

// NormalizePath replaces path segments that look like identifiers —
// numbers, UUIDs, long hex strings, dates — with "{id}", so that
// /users/42/orders and /users/43/orders group as /users/{id}/orders. An
// empty path is "/". A path with no digit is returned as it is, without
// allocating.
func NormalizePath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.ContainsAny(p, "0123456789") {
		return p
	}
	var b strings.Builder
	b.Grow(len(p))
	rest := p
	for first := true; ; first = false {
		seg, tail, more := strings.Cut(rest, "/")
		if !first {
			b.WriteByte('/')
		}
		if idLike(seg) {
			b.WriteString("{id}")
		} else {
			b.WriteString(seg)
		}
		if !more {
			break
		}
		rest = tail
	}
	return b.String()
}

// idLike reports whether a path segment looks like an identifier.
func idLike(s string) bool {
	if s == "" {
		return false
	}
	digits, hex, other := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			hex++
		case c == '-' || c == '_':
		default:
			other++
		}
	}
	switch {
	case digits == len(s):
		return true // 42
	case other == 0 && digits > 0 && len(s) >= 16:
		return true // UUIDs, hashes, object IDs
	case other == 0 && digits > 0 && hex == 0 && strings.ContainsAny(s, "-_"):
		return true // 2024-01-02
	}
	return false
}

// GRPCCallName returns the method of a gRPC call (its service is
// [ServiceGRPC]): the full method "/pkg.Service/Method", the name gRPC
// itself gives a method ([google.golang.org/grpc/stats.RPCTagInfo]'s
// FullMethodName), with its leading slash.
//
// method is either a full method ("/pkg.Service/Method", or without the
// leading slash as OpenTelemetry's newer rpc.method and otelgrpc's span
// names write it), and then service is ignored, or a bare method name
// ("Method", as the older rpc.method writes it) of service
// ("pkg.Service", the older rpc.service). A bare method of no service gives
// "/Method", which [SplitGRPCMethod] reads back as a method of no service.
// Both empty give "".
func GRPCCallName(service, method string) string {
	switch {
	case strings.IndexByte(method, '/') >= 0:
		if method[0] == '/' {
			return method // no allocation for gRPC's own names
		}
		return "/" + method
	case service != "":
		return "/" + service + "/" + method
	case method != "":
		return "/" + method
	}
	return ""
}

// SplitGRPCMethod splits a gRPC full method "/pkg.Service/Method" (with or
// without its leading slash) into its service "pkg.Service" and its method
// "Method", at the last slash.
//
// A name without a slash (after the leading one) is taken as a method of no
// known service: SplitGRPCMethod("Check") and SplitGRPCMethod("/Check")
// both return ("", "Check"), so that the name is kept as rpc.method and no
// service is made up, as otelgrpc does for such names.
func SplitGRPCMethod(full string) (service, method string) {
	s := strings.TrimPrefix(full, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:]
	}
	return "", s
}

// GRPCSpanName returns the OpenTelemetry span name of a gRPC call or
// server record: the full method without its leading slash,
// "pkg.Service/Method".
func GRPCSpanName(full string) string { return strings.TrimPrefix(full, "/") }

// SplitHostPort splits an address "host:port" (an authority, a dial
// address) into the server.address and server.port attributes: "[::1]:50051"
// gives "::1" and "50051". An address without a port is all host.
func SplitHostPort(hostport string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p
	}
	return hostport, ""
}
