package convention_test

import (
	"net/url"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

func TestHTTPCallName(t *testing.T) {
	tests := []struct {
		method, host, port, path string
		want                     string
	}{
		{"GET", "api.example.com", "", "/users/42", "GET api.example.com/users/{id}"},
		{"GET", "127.0.0.1", "8080", "/users/42/orders/7", "GET 127.0.0.1:8080/users/{id}/orders/{id}"},
		{"GET", "api.example.com", "80", "/x", "GET api.example.com/x"},  // http's default port
		{"GET", "api.example.com", "443", "/x", "GET api.example.com/x"}, // https's default port
		{"GET", "api.example.com", "8443", "/x", "GET api.example.com:8443/x"},
		{"PUT", "API.Example.COM", "", "/Users", "PUT api.example.com/Users"}, // hosts are case-insensitive, paths are not
		{"", "h", "", "/x", "GET h/x"},                                        // net/http's default method
		{"GET", "h", "", "", "GET h/"},
		{"GET", "::1", "8080", "/x", "GET [::1]:8080/x"},
		{"GET", "[::1]", "8080", "/x", "GET [::1]:8080/x"}, // brackets given or not
		{"GET", "::1", "", "/x", "GET [::1]/x"},
		{"GET", "2001:DB8::1", "443", "/x", "GET [2001:db8::1]/x"},
		{"GET", "fe80::1%eth0", "9000", "/", "GET [fe80::1%eth0]:9000/"},
		{"GET", "", "", "/users/42", "GET /users/{id}"},
		{"DELETE", "h", "", "/a/550e8400-e29b-41d4-a716-446655440000", "DELETE h/a/{id}"},
		{"GET", "h", "", "/day/2024-01-02/report2024.pdf", "GET h/day/{id}/report2024.pdf"},
	}
	for _, tt := range tests {
		if got := convention.HTTPCallName(tt.method, tt.host, tt.port, tt.path); got != tt.want {
			t.Errorf("HTTPCallName(%q, %q, %q, %q) = %q, want %q", tt.method, tt.host, tt.port, tt.path, got, tt.want)
		}
	}
}

func TestHTTPURLCallName(t *testing.T) {
	tests := []struct{ method, url, want string }{
		{"GET", "http://127.0.0.1:34567/users/42?x=1", "GET 127.0.0.1:34567/users/{id}"},
		{"GET", "https://api.example.com/users/42", "GET api.example.com/users/{id}"},
		{"GET", "https://api.example.com:443/users/42", "GET api.example.com/users/{id}"},
		{"GET", "http://api.example.com:80/", "GET api.example.com/"},
		{"GET", "http://api.example.com", "GET api.example.com/"},
		{"POST", "http://[::1]:8080/items/7", "POST [::1]:8080/items/{id}"},
		{"POST", "http://[::1]/items", "POST [::1]/items"},
		{"GET", "http://user:secret@h:81/a%20b/9", "GET h:81/a b/{id}"}, // no userinfo; the unescaped path
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := convention.HTTPURLCallName(tt.method, u); got != tt.want {
			t.Errorf("HTTPURLCallName(%q, %s) = %q, want %q", tt.method, tt.url, got, tt.want)
		}
	}
}

func TestParseHTTPCallName(t *testing.T) {
	tests := []struct{ name, method, host, port, path string }{
		{"GET api.example.com/users/{id}", "GET", "api.example.com", "", "/users/{id}"},
		{"GET 127.0.0.1:8080/x", "GET", "127.0.0.1", "8080", "/x"},
		{"GET [::1]:8080/x", "GET", "::1", "8080", "/x"},
		{"GET [::1]/x", "GET", "::1", "", "/x"},
		{"GET ::1/x", "GET", "::1", "", "/x"}, // unbracketed IPv6, as a hand-made name may have it
		{"GET h", "GET", "h", "", ""},
		{"GET /x", "GET", "", "", "/x"},
		{"GET", "GET", "", "", ""},
		{"", "", "", "", ""},
	}
	for _, tt := range tests {
		m, h, p, path := convention.ParseHTTPCallName(tt.name)
		if m != tt.method || h != tt.host || p != tt.port || path != tt.path {
			t.Errorf("ParseHTTPCallName(%q) = %q %q %q %q, want %q %q %q %q", tt.name, m, h, p, path, tt.method, tt.host, tt.port, tt.path)
		}
	}
	// Every name HTTPCallName makes parses back to the parts it was made of.
	for _, parts := range [][4]string{{"GET", "h", "8080", "/x"}, {"POST", "::1", "9", "/a/{id}"}, {"GET", "h", "", "/"}, {"GET", "::1", "", "/"}} {
		name := convention.HTTPCallName(parts[0], parts[1], parts[2], parts[3])
		m, h, p, path := convention.ParseHTTPCallName(name)
		if [4]string{m, h, p, path} != parts {
			t.Errorf("ParseHTTPCallName(%q) = %q, want %q", name, [4]string{m, h, p, path}, parts)
		}
	}
}

func TestHTTPServerPort(t *testing.T) {
	tests := []struct{ scheme, port, want string }{
		{"http", "", "80"}, {"https", "", "443"}, {"HTTPS", "", "443"}, {"ws", "", "80"}, {"wss", "", "443"},
		{"http", "8080", "8080"}, {"https", "80", "80"}, {"", "", ""}, {"ftp", "", ""},
	}
	for _, tt := range tests {
		if got := convention.HTTPServerPort(tt.scheme, tt.port); got != tt.want {
			t.Errorf("HTTPServerPort(%q, %q) = %q, want %q", tt.scheme, tt.port, got, tt.want)
		}
	}
}

func TestNewHTTPCall(t *testing.T) {
	rules := convention.NewRules([]string{"token"}, false)
	u, _ := url.Parse("https://user:pw@[2001:db8::1]/users/42?token=abc&q=1")
	hc := convention.NewHTTPCall("", u, rules)
	want := convention.HTTPCall{
		Request:       "GET https://[REDACTED]@[2001:db8::1]/users/42?token=[REDACTED]&q=1",
		Method:        "GET",
		ServerAddress: "2001:db8::1",
		ServerPort:    "443",
		URLFull:       "https://[REDACTED]@[2001:db8::1]/users/42?token=[REDACTED]&q=1",
	}
	if hc != want {
		t.Errorf("NewHTTPCall = %+v, want %+v", hc, want)
	}
	if u.User == nil || u.RawQuery != "token=abc&q=1" {
		t.Errorf("NewHTTPCall changed its URL: %s", u)
	}
	type attr struct{ Key, Value string }
	got := convention.AppendHTTPAttrs([]attr{{"x", "y"}}, hc)
	wantAttrs := []attr{{"x", "y"}, {"http.request.method", "GET"}, {"server.address", "2001:db8::1"},
		{"server.port", "443"}, {"url.full", want.URLFull}}
	if len(got) != len(wantAttrs) {
		t.Fatalf("AppendHTTPAttrs = %v, want %v", got, wantAttrs)
	}
	for i := range got {
		if got[i] != wantAttrs[i] {
			t.Errorf("AppendHTTPAttrs[%d] = %v, want %v", i, got[i], wantAttrs[i])
		}
	}
	// Without a known port, server.port is left out.
	u, _ = url.Parse("//h/x")
	if got := convention.AppendHTTPAttrs([]attr(nil), convention.NewHTTPCall("GET", u, nil)); len(got) != 3 || got[2].Key != "url.full" {
		t.Errorf("AppendHTTPAttrs without a port = %v", got)
	}
}

func TestNormalizePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "/",
		"/":                           "/",
		"/users":                      "/users",
		"/users/42":                   "/users/{id}",
		"/users/42/":                  "/users/{id}/",
		"/users/42/orders/7":          "/users/{id}/orders/{id}",
		"/v2/items":                   "/v2/items",
		"/a/5f3c1e2b9a8d7c6b5a4f3e2d": "/a/{id}",
		"/a/550e8400-e29b-41d4-a716-446655440000": "/a/{id}",
		"/a/550E8400E29B41D4A716446655440000":     "/a/{id}",
		"/day/2024-01-02":                         "/day/{id}",
		"/day/2024_01_02":                         "/day/{id}",
		"/file/report2024.pdf":                    "/file/report2024.pdf",
		"/short/abc1":                             "/short/abc1",
		"users/42":                                "users/{id}",
	} {
		if got := convention.NormalizePath(in); got != want {
			t.Errorf("NormalizePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGRPCCallName(t *testing.T) {
	tests := []struct{ service, method, want string }{
		{"", "/pkg.Users/Get", "/pkg.Users/Get"},                 // gRPC's own full method
		{"", "pkg.Users/Get", "/pkg.Users/Get"},                  // newer rpc.method, otelgrpc's span name
		{"ignored", "pkg.Users/Get", "/pkg.Users/Get"},           // a full method wins over a service
		{"pkg.Users", "Get", "/pkg.Users/Get"},                   // older rpc.service and rpc.method
		{"", "Get", "/Get"},                                      // no slash: a method of no service
		{"", "/Get", "/Get"},                                     //
		{"grpc.health.v1.Health", "", "/grpc.health.v1.Health/"}, // a service without a method
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := convention.GRPCCallName(tt.service, tt.method); got != tt.want {
			t.Errorf("GRPCCallName(%q, %q) = %q, want %q", tt.service, tt.method, got, tt.want)
		}
	}
}

func TestSplitGRPCMethod(t *testing.T) {
	tests := []struct{ full, service, method string }{
		{"/pkg.Users/Get", "pkg.Users", "Get"},
		{"pkg.Users/Get", "pkg.Users", "Get"},
		{"/grpc.health.v1.Health/Check", "grpc.health.v1.Health", "Check"},
		{"/a/b/c", "a/b", "c"}, // at the last slash
		{"Check", "", "Check"}, // without a slash: a method of no service
		{"/Check", "", "Check"},
		{"/pkg.Users/", "pkg.Users", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		svc, m := convention.SplitGRPCMethod(tt.full)
		if svc != tt.service || m != tt.method {
			t.Errorf("SplitGRPCMethod(%q) = %q, %q; want %q, %q", tt.full, svc, m, tt.service, tt.method)
		}
		// A name GRPCCallName makes of the parts splits back into them.
		if tt.method != "" {
			if svc, m := convention.SplitGRPCMethod(convention.GRPCCallName(tt.service, tt.method)); svc != tt.service || m != tt.method {
				t.Errorf("SplitGRPCMethod(GRPCCallName(%q, %q)) = %q, %q", tt.service, tt.method, svc, m)
			}
		}
	}
	if got := convention.GRPCSpanName("/pkg.Users/Get"); got != "pkg.Users/Get" {
		t.Errorf("GRPCSpanName = %q", got)
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct{ in, host, port string }{
		{"127.0.0.1:50051", "127.0.0.1", "50051"},
		{"[::1]:50051", "::1", "50051"},
		{"example.com:443", "example.com", "443"},
		{"example.com", "example.com", ""},
		{"/tmp/grpc.sock", "/tmp/grpc.sock", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if h, p := convention.SplitHostPort(tt.in); h != tt.host || p != tt.port {
			t.Errorf("SplitHostPort(%q) = %q, %q; want %q, %q", tt.in, h, p, tt.host, tt.port)
		}
	}
}

func BenchmarkHTTPURLCallName(b *testing.B) {
	u, _ := url.Parse("http://api.example.com:8080/users/list")
	b.ReportAllocs()
	for b.Loop() {
		convention.HTTPURLCallName("GET", u)
	}
}
