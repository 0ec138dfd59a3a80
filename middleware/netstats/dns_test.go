package netstats_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/middleware/netstats"
	"github.com/miekg/dns"
)

// dnsServer starts a loopback UDP DNS server for a small test zone and
// returns a resolver that queries only it.
func dnsServer(t testing.TB) *net.Resolver {
	t.Helper()
	var d net.Dialer
	return resolverOf(startDNS(t), d.DialContext)
}

// resolverOf returns a resolver in Go that sends its queries to addr through
// dial.
func resolverOf(addr string, dial func(ctx context.Context, network, address string) (net.Conn, error)) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dial(ctx, network, addr)
		},
	}
}

// slowAnswer is how long startDNS's server takes to answer for slow.test.
const slowAnswer = 300 * time.Millisecond

// startDNS starts a loopback DNS server, over UDP only, for a small test
// zone and returns its address. It stops when the test ends. It answers
// SERVFAIL for servfail.test, and the addresses of slow.test (10.0.0.3)
// after slowAnswer.
func startDNS(t testing.TB) string {
	t.Helper()
	zone := map[uint16]map[string][]string{
		dns.TypeA: {
			"app.test.":   {"app.test. 60 IN A 10.0.0.1", "app.test. 60 IN A 10.0.0.2"},
			"alias.test.": {"alias.test. 60 IN CNAME app.test.", "app.test. 60 IN A 10.0.0.1", "app.test. 60 IN A 10.0.0.2"},
		},
		dns.TypeAAAA: {
			"app.test.":   {"app.test. 60 IN AAAA fd00::1"},
			"alias.test.": {"alias.test. 60 IN CNAME app.test.", "app.test. 60 IN AAAA fd00::1"},
		},
		dns.TypeCNAME: {"alias.test.": {"alias.test. 60 IN CNAME app.test."}},
		dns.TypeNone:  {"servfail.test.": nil, "slow.test.": nil},
		dns.TypeTXT:   {"txt.test.": {`txt.test. 60 IN TXT "v=spf1 -all"`, `txt.test. 60 IN TXT "hello world"`}},
		dns.TypeMX:    {"mail.test.": {"mail.test. 60 IN MX 10 mx1.test.", "mail.test. 60 IN MX 20 mx2.test."}},
		dns.TypeSRV:   {"_http._tcp.svc.test.": {"_http._tcp.svc.test. 60 IN SRV 1 5 8080 web.test."}},
		dns.TypeNS:    {"zone.test.": {"zone.test. 60 IN NS ns1.test."}},
		dns.TypePTR:   {"1.0.0.10.in-addr.arpa.": {"1.0.0.10.in-addr.arpa. 60 IN PTR app.test."}},
	}
	known := map[string]bool{}
	for _, names := range zone {
		for n := range names {
			known[n] = true
		}
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		name := strings.ToLower(q.Name)
		switch {
		case name == "servfail.test.":
			m.Rcode = dns.RcodeServerFailure
		case name == "slow.test.":
			time.Sleep(slowAnswer)
			if q.Qtype == dns.TypeA {
				r, _ := dns.NewRR("slow.test. 60 IN A 10.0.0.3")
				m.Answer = append(m.Answer, r)
			}
		case !known[name]:
			m.Rcode = dns.RcodeNameError
		}
		for _, rr := range zone[q.Qtype][name] {
			r, err := dns.NewRR(rr)
			if err != nil {
				panic(err) // the zone above is wrong
			}
			m.Answer = append(m.Answer, r)
		}
		w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: handler, NotifyStartedFunc: func() { close(started) }}
	served := make(chan error, 1)
	go func() { served <- srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() {
		srv.Shutdown()
		<-served
	})
	return pc.LocalAddr().String()
}

func TestResolver(t *testing.T) {
	r := &netstats.Resolver{Resolver: dnsServer(t)}
	rec, s, done := newRecorder(t)
	ctx, ar := start(rec, "/dns")

	type lookup struct {
		method, request, response string
		run                       func() error
		answers, networkType      string // dns.answers (as a set) and network.type
	}
	tests := []lookup{
		{"lookup host", "app.test.", "", func() error {
			addrs, err := r.LookupHost(ctx, "app.test.")
			if err == nil && len(addrs) != 3 {
				return errors.New("want 3 addresses, got " + strings.Join(addrs, " "))
			}
			return err
		}, "10.0.0.1,10.0.0.2,fd00::1", ""},
		{"lookup ip", "app.test.", "10.0.0.1, 10.0.0.2", func() error {
			_, err := r.LookupIP(ctx, "ip4", "app.test.")
			return err
		}, "10.0.0.1,10.0.0.2", "ipv4"},
		{"lookup ipaddr", "app.test.", "", func() error {
			_, err := r.LookupIPAddr(ctx, "app.test.")
			return err
		}, "10.0.0.1,10.0.0.2,fd00::1", ""},
		{"lookup ip", "app.test.", "fd00::1", func() error {
			_, err := r.LookupNetIP(ctx, "ip6", "app.test.")
			return err
		}, "fd00::1", "ipv6"},
		{"lookup cname", "alias.test.", "app.test.", func() error {
			_, err := r.LookupCNAME(ctx, "alias.test.")
			return err
		}, "", ""},
		{"lookup txt", "txt.test.", `"v=spf1 -all", "hello world"`, func() error {
			_, err := r.LookupTXT(ctx, "txt.test.")
			return err
		}, "", ""},
		{"lookup mx", "mail.test.", "10 mx1.test., 20 mx2.test.", func() error {
			_, err := r.LookupMX(ctx, "mail.test.")
			return err
		}, "", ""},
		{"lookup srv", "_http._tcp.svc.test.", "1 5 8080 web.test.", func() error {
			_, srvs, err := r.LookupSRV(ctx, "http", "tcp", "svc.test.")
			if err == nil && (len(srvs) != 1 || srvs[0].Port != 8080) {
				return errors.New("wrong SRV answer")
			}
			return err
		}, "", ""},
		{"lookup ns", "zone.test.", "ns1.test.", func() error {
			_, err := r.LookupNS(ctx, "zone.test.")
			return err
		}, "", ""},
		{"lookup addr", "10.0.0.1", "app.test.", func() error {
			_, err := r.LookupAddr(ctx, "10.0.0.1")
			return err
		}, "", ""},
	}
	for _, tt := range tests {
		if err := tt.run(); err != nil {
			t.Errorf("%s %s: %v", tt.method, tt.request, err)
		}
	}
	_, nxErr := r.LookupHost(ctx, "nope.test.")
	var dnsErr *net.DNSError
	if !errors.As(nxErr, &dnsErr) || !dnsErr.IsNotFound {
		t.Errorf("lookup of a missing name: %v", nxErr)
	}
	ar.Finish()
	done()

	rd := byPath(t, s, "/dns")
	if len(rd.Calls) != len(tests)+1 {
		t.Fatalf("calls = %q", methods(rd))
	}
	for i, tt := range tests {
		c := rd.Calls[i]
		if c.Service != "dns" || c.Method != tt.method || c.Request != tt.request || c.Error != "" {
			t.Errorf("call %d = %s %s %s (error %q), want %s %s", i, c.Service, c.Method, c.Request, c.Error, tt.method, tt.request)
		}
		if tt.response != "" && !sameSet(c.Response, tt.response) {
			t.Errorf("%s: response %q, want %q", tt.method, c.Response, tt.response)
		}
		if c.ResponseSize <= 0 {
			t.Errorf("%s: response size %d", tt.method, c.ResponseSize)
		}
		// The conventions' attributes: the name asked, the addresses
		// answered, the IP version asked for.
		if got := c.Attr("dns.question.name"); got != tt.request {
			t.Errorf("%s: dns.question.name %q, want %q", tt.method, got, tt.request)
		}
		if got := c.Attr("dns.answers"); !sameSet(strings.ReplaceAll(got, ",", ", "), strings.ReplaceAll(tt.answers, ",", ", ")) {
			t.Errorf("%s: dns.answers %q, want %q", tt.method, got, tt.answers)
		}
		if got := c.Attr("network.type"); got != tt.networkType {
			t.Errorf("%s: network.type %q, want %q", tt.method, got, tt.networkType)
		}
	}
	// LookupHost answers both families, in an order of the resolver's.
	for _, want := range []string{"10.0.0.1", "10.0.0.2", "fd00::1"} {
		if !strings.Contains(rd.Calls[0].Response, want) {
			t.Errorf("lookup host response %q lacks %s", rd.Calls[0].Response, want)
		}
	}
	nx := rd.Calls[len(tests)]
	if nx.Method != "lookup host" || nx.Request != "nope.test." || nx.Error != nxErr.Error() || !strings.Contains(nx.Error, "no such host") {
		t.Errorf("NXDOMAIN call = %+v", nx)
	}
	if sum := rd.Summary(); sum.ErrorCalls != 1 {
		t.Errorf("ErrorCalls = %d", sum.ErrorCalls)
	}
}

// sameSet reports whether two ", "-separated answer lists hold the same
// answers: the resolver may order addresses by its own rules (RFC 6724).
func sameSet(a, b string) bool {
	x, y := strings.Split(a, ", "), strings.Split(b, ", ")
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func TestResolverUnrecorded(t *testing.T) {
	r := &netstats.Resolver{Resolver: dnsServer(t)}
	addrs, err := r.LookupHost(context.Background(), "app.test.")
	if err != nil || len(addrs) != 3 {
		t.Fatal(addrs, err)
	}
	if _, err := r.LookupTXT(context.Background(), "none.test."); err == nil {
		t.Fatal("lookup of a missing name succeeded")
	}
}
