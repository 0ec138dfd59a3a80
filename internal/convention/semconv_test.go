package convention

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"testing"
)

func TestHTTPMethod(t *testing.T) {
	tests := []struct{ in, name, original string }{
		{"GET", "GET", ""},
		{"QUERY", "QUERY", ""},
		{"", "GET", ""},
		{"get", "GET", "get"},
		{"PURGE", Other, "PURGE"},
		{"purge", Other, "purge"},
	}
	for _, tt := range tests {
		if name, orig := HTTPMethod(tt.in); name != tt.name || orig != tt.original {
			t.Errorf("HTTPMethod(%q) = %q, %q; want %q, %q", tt.in, name, orig, tt.name, tt.original)
		}
	}
}

func TestHTTPProtocolVersion(t *testing.T) {
	for _, tt := range []struct {
		major, minor int
		want         string
	}{{1, 1, "1.1"}, {1, 0, "1.0"}, {2, 0, "2"}, {3, 0, "3"}, {0, 0, ""}} {
		if got := HTTPProtocolVersion(tt.major, tt.minor); got != tt.want {
			t.Errorf("HTTPProtocolVersion(%d, %d) = %q, want %q", tt.major, tt.minor, got, tt.want)
		}
	}
}

func TestGRPCStatus(t *testing.T) {
	for code, name := range map[int]string{0: "OK", 1: "CANCELLED", 5: "NOT_FOUND", 16: "UNAUTHENTICATED", 17: "CODE(17)"} {
		if got := GRPCStatusName(code); got != name {
			t.Errorf("GRPCStatusName(%d) = %q, want %q", code, got, name)
		}
		if got, ok := ParseGRPCStatus(name); !ok || got != code {
			t.Errorf("ParseGRPCStatus(%q) = %d, %v; want %d", name, got, ok, code)
		}
	}
	for name, code := range map[string]int{"NotFound": 5, "Canceled": 1, "DeadlineExceeded": 4} {
		if got, ok := ParseGRPCStatus(name); !ok || got != code {
			t.Errorf("ParseGRPCStatus(%q) = %d, %v; want %d", name, got, ok, code)
		}
	}
	if _, ok := ParseGRPCStatus("NOPE"); ok {
		t.Error("ParseGRPCStatus accepted NOPE")
	}
	var failed []string
	for c := range 17 {
		if GRPCServerFailed(c) {
			failed = append(failed, GRPCStatusName(c))
		}
	}
	if got := fmt.Sprint(failed); got != "[UNKNOWN DEADLINE_EXCEEDED UNIMPLEMENTED INTERNAL UNAVAILABLE DATA_LOSS]" {
		t.Errorf("server failures %s", got)
	}
}

func TestNetworkTransport(t *testing.T) {
	for _, tt := range []struct{ in, transport, typ string }{
		{"tcp", "tcp", ""}, {"tcp4", "tcp", "ipv4"}, {"tcp6", "tcp", "ipv6"},
		{"udp", "udp", ""}, {"udp4", "udp", "ipv4"},
		{"unix", "unix", ""}, {"unixgram", "unix", ""}, {"unixpacket", "unix", ""},
		{"ip4:icmp", "ip4:icmp", "ipv4"},
	} {
		if tr, typ := NetworkTransport(tt.in); tr != tt.transport || typ != tt.typ {
			t.Errorf("NetworkTransport(%q) = %q, %q; want %q, %q", tt.in, tr, typ, tt.transport, tt.typ)
		}
	}
	for in, want := range map[string]string{"ip4": "ipv4", "ip6": "ipv6", "ip": "", "ipx": ""} {
		if got := NetworkType(in); got != want {
			t.Errorf("NetworkType(%q) = %q, want %q", in, got, want)
		}
	}
}

type typedErr struct{}

func (typedErr) Error() string     { return "typed" }
func (typedErr) ErrorType() string { return "my.Type" }

func TestErrorType(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{nil, Other},
		{errors.New("x"), "*errors.errorString"},
		{fmt.Errorf("op: %w", fs.ErrNotExist), "*errors.errorString"},
		{&net.OpError{Op: "dial", Err: errors.New("refused")}, "*net.OpError"},
		{fmt.Errorf("wrapped: %w", typedErr{}), "my.Type"},
		{typedErr{}, "my.Type"},
	} {
		if got := ErrorType(tt.err); got != tt.want {
			t.Errorf("ErrorType(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
