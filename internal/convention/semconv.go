package convention

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Values of OpenTelemetry semantic-convention attributes that appstats
// writes, as in semconv v1.43.0. (This package imports only the standard
// library; package otelexport's tests hold these to the semconv package.)
const (
	Other         = "_OTHER" // http.request.method, rpc.method and error.type of a value outside the known set
	RPCSystemGRPC = "grpc"   // rpc.system.name of gRPC
	AnswerSep     = ","      // separates the addresses of a recorded dns.answers
)

// HTTPMethod returns the http.request.method of a request sent with method,
// and its http.request.method_original when that differs: a method the
// conventions know (GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE,
// PATCH, QUERY) is itself; one that is only in another case ("get") is
// that method, with the original; any other ("PURGE") is "_OTHER", with the
// original. An empty method is GET, as in net/http.
func HTTPMethod(method string) (name, original string) {
	if method == "" {
		return "GET", ""
	}
	if knownHTTPMethod(method) {
		return method, ""
	}
	if up := strings.ToUpper(method); knownHTTPMethod(up) {
		return up, method
	}
	return Other, method
}

func knownHTTPMethod(m string) bool {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY":
		return true
	}
	return false
}

// HTTPProtocolVersion returns the network.protocol.version of an HTTP
// message of version major.minor, as net/http reports it (ProtoMajor,
// ProtoMinor): "1.0", "1.1", and "2" or "3" for the versions that have no
// minor one. Zero versions give "".
func HTTPProtocolVersion(major, minor int) string {
	if major == 1 && minor == 1 {
		// The usual one, in a function small enough to be inlined
		// where it is called for every request.
		return "1.1"
	}
	return httpProtocolVersion(major, minor)
}

func httpProtocolVersion(major, minor int) string {
	switch {
	case major <= 0:
		return ""
	case major == 2 && minor == 0: // the usual ones, without building a string
		return "2"
	case major == 1 && minor == 0:
		return "1.0"
	case major >= 2 && minor == 0:
		return strconv.Itoa(major)
	}
	return strconv.Itoa(major) + "." + strconv.Itoa(minor)
}

// grpcStatusNames are the names gRPC gives its status codes
// (https://grpc.github.io/grpc/core/md_doc_statuscodes.html), by code.
var grpcStatusNames = [...]string{
	"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
	"ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
	"UNAUTHENTICATED",
}

// GRPCStatusName returns the rpc.response.status_code of a gRPC status
// code: its name as gRPC spells it, "OK", "NOT_FOUND", …; a code gRPC does
// not define is "CODE(17)", as otelgrpc writes it.
func GRPCStatusName(code int) string {
	if code >= 0 && code < len(grpcStatusNames) {
		return grpcStatusNames[code]
	}
	return "CODE(" + strconv.Itoa(code) + ")"
}

// ParseGRPCStatus returns the code of a gRPC status name, as
// [GRPCStatusName] writes it ("NOT_FOUND"), or as grpc-go's String method
// does ("NotFound", "Canceled"); ok is false for anything else.
func ParseGRPCStatus(name string) (code int, ok bool) {
	flat := strings.ReplaceAll(name, "_", "")
	for c, n := range grpcStatusNames {
		if strings.EqualFold(strings.ReplaceAll(n, "_", ""), flat) {
			return c, true
		}
	}
	if strings.EqualFold(flat, "canceled") {
		return 1, true
	}
	if s, ok := strings.CutPrefix(name, "CODE("); ok && strings.HasSuffix(s, ")") {
		if n, err := strconv.Atoi(strings.TrimSuffix(s, ")")); err == nil {
			return n, true
		}
	}
	return 0, false
}

// GRPCServerFailed reports whether a server that answered an RPC with the
// gRPC status code failed, as the conventions for gRPC server spans say:
// only UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE and
// DATA_LOSS are the server's failures; the others (NOT_FOUND,
// INVALID_ARGUMENT, …) are answers to the client. On the client side every
// code but OK is a failure.
func GRPCServerFailed(code int) bool {
	switch code {
	case 2, 4, 12, 13, 14, 15:
		return true
	}
	return false
}

// ErrorType returns the error.type of err, as semconv v1.43.0's ErrorType
// does: the result of the ErrorType() string method of err or of an error
// in its chain, else the package path and name of err's type once the
// wrappers made by [fmt.Errorf] are taken off ("*net.OpError" for a
// pointer type, whose name is its element's), else "_OTHER" for a nil err.
func ErrorType(err error) string {
	if err == nil {
		return Other
	}
	var et interface{ ErrorType() string }
	if errors.As(err, &et) {
		if s := et.ErrorType(); s != "" {
			return s
		}
	}
	t := reflect.TypeOf(unwrapFmt(err))
	if pkg, name := t.PkgPath(), t.Name(); pkg != "" && name != "" {
		return pkg + "." + name
	}
	return t.String()
}

var fmtWrapType = reflect.TypeOf(fmt.Errorf("%w", errors.New("")))

// unwrapFmt takes off the wrappers fmt.Errorf makes with one %w.
func unwrapFmt(err error) error {
	for reflect.TypeOf(err) == fmtWrapType {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
	return err
}

// NetworkTransport returns the network.transport and network.type of a Go
// network name ("tcp4", "udp", "unix", as net.Dial takes them): "tcp",
// "udp" or "unix" (for unix, unixgram and unixpacket), and "ipv4" or
// "ipv6" when the name pins the IP version. A name of no transport the
// conventions know is its own transport.
func NetworkTransport(network string) (transport, typ string) {
	typ = NetworkType(network)
	switch network {
	case "tcp", "tcp4", "tcp6":
		return "tcp", typ
	case "udp", "udp4", "udp6":
		return "udp", typ
	case "unix", "unixgram", "unixpacket":
		return "unix", ""
	}
	return network, typ
}

// NetworkType returns the network.type of a Go network name that pins the
// IP version: "ipv4" for tcp4, udp4, ip4; "ipv6" for tcp6, udp6, ip6; else
// "".
func NetworkType(network string) string {
	if before, ok := strings.CutPrefix(network, "ip"); ok && (before == "4" || strings.HasPrefix(before, "4:")) {
		return "ipv4"
	}
	if before, ok := strings.CutPrefix(network, "ip"); ok && (before == "6" || strings.HasPrefix(before, "6:")) {
		return "ipv6"
	}
	switch network {
	case "tcp4", "udp4":
		return "ipv4"
	case "tcp6", "udp6":
		return "ipv6"
	}
	return ""
}

// ErrPanicked is the error of a call whose wrapped function — a database
// driver's method, a base RoundTripper, a dial — panicked: the wrapper ends
// the call with it (error.type "panic") as the panic passes on, unrecovered
// and unchanged, so that the call does not stay running in its record.
var ErrPanicked error = panickedError{}

type panickedError struct{}

func (panickedError) Error() string     { return "panicked" }
func (panickedError) ErrorType() string { return "panic" }

// EndIfPanicked ends c with [ErrPanicked] unless *done: deferred by a
// wrapper around the function it calls, with done set once the function
// has returned, it ends the call of a function that panicked. It does not
// recover: the panic goes on as it was.
func EndIfPanicked(c interface{ End(error) }, done *bool) {
	if !*done {
		c.End(ErrPanicked)
	}
}
