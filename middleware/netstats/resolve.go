package netstats

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// A Resolver looks up names like its [net.Resolver] and records each lookup
// as a call "dns"/"lookup host" (or "lookup ip", "lookup mx", …) of the
// request in the lookup's context, with the name as its request, a short
// summary of the answer as its response, and the error, if any — including
// a name that does not exist. The name queried is also its
// dns.question.name attribute; the addresses a lookup of host addresses
// returns (LookupHost, LookupIP, LookupIPAddr, LookupNetIP; at most 32) its
// dns.answers, and the IP version LookupIP asks for ("ip4", "ip6") its
// network.type ("ipv4", "ipv6").
//
// The zero Resolver, and a nil *Resolver (as a nil *net.Resolver), use
// [net.DefaultResolver]. A Resolver is safe for concurrent use.
type Resolver struct {
	// Resolver resolves; nil means net.DefaultResolver.
	Resolver *net.Resolver
}

func (r *Resolver) res() *net.Resolver {
	if r != nil && r.Resolver != nil {
		return r.Resolver
	}
	return net.DefaultResolver
}

func start(ctx context.Context, method, name string) *recording.ActiveCall {
	c := recording.StartCall(ctx, ServiceDNS, method)
	if c != nil {
		c.SetRequest(name)
		c.SetAttr(convention.KeyDNSQuestionName, name)
	}
	return c
}

// end ends a lookup's call with the answer's summary (when it is not empty)
// and the number of answers as the response size.
func end(c *recording.ActiveCall, n int, summary func() string, err error) {
	if c == nil {
		return
	}
	if err == nil {
		c.SetResponse(summary())
		c.SetResponseSize(int64(n))
	}
	c.End(err)
}

// maxAnswers bounds the addresses recorded in dns.answers.
const maxAnswers = 32

// endAddrs ends the call of a lookup of addresses, as end does, and records
// the addresses (at most maxAnswers) as its dns.answers.
func endAddrs[T any](c *recording.ActiveCall, addrs []T, f func(T) string, err error) {
	if c == nil {
		return
	}
	if err == nil && len(addrs) > 0 {
		var b strings.Builder
		for i, a := range addrs[:min(len(addrs), maxAnswers)] {
			if i > 0 {
				b.WriteString(convention.AnswerSep)
			}
			b.WriteString(f(a))
		}
		c.SetAttr(convention.KeyDNSAnswers, b.String())
	}
	end(c, len(addrs), func() string { return join(addrs, f) }, err)
}

// startIP starts the call of a lookup of host's addresses of network ("ip",
// "ip4" or "ip6"), with the IP version it asks for as network.type.
func startIP(ctx context.Context, network, host string) *recording.ActiveCall {
	c := start(ctx, "lookup ip", host)
	if typ := convention.NetworkType(network); typ != "" {
		c.SetAttr(convention.KeyNetworkType, typ)
	}
	return c
}

// join joins the answers with ", " up to a few hundred bytes: the recorder
// clips summaries anyway.
func join[T any](xs []T, f func(T) string) string {
	var b strings.Builder
	for i, x := range xs {
		if b.Len() > 512 {
			b.WriteString(", …")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f(x))
	}
	return b.String()
}

func str(s string) string { return s }

// LookupHost looks up host's addresses, recorded as "lookup host".
func (r *Resolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	c := start(ctx, "lookup host", host)
	addrs, err := r.res().LookupHost(ctx, host)
	endAddrs(c, addrs, str, err)
	return addrs, err
}

// LookupIPAddr looks up host's IP addresses, recorded as "lookup ipaddr".
func (r *Resolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	c := start(ctx, "lookup ipaddr", host)
	addrs, err := r.res().LookupIPAddr(ctx, host)
	endAddrs(c, addrs, func(a net.IPAddr) string { return a.String() }, err)
	return addrs, err
}

// LookupIP looks up host's IP addresses of network ("ip", "ip4" or "ip6"),
// recorded as "lookup ip".
func (r *Resolver) LookupIP(ctx context.Context, network, host string) ([]net.IP, error) {
	c := startIP(ctx, network, host)
	ips, err := r.res().LookupIP(ctx, network, host)
	endAddrs(c, ips, net.IP.String, err)
	return ips, err
}

// LookupNetIP looks up host's addresses of network as netip.Addrs, recorded
// as "lookup ip".
func (r *Resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	c := startIP(ctx, network, host)
	ips, err := r.res().LookupNetIP(ctx, network, host)
	endAddrs(c, ips, netip.Addr.String, err)
	return ips, err
}

// LookupAddr looks up the names of an address (a reverse lookup), recorded
// as "lookup addr".
func (r *Resolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	c := start(ctx, "lookup addr", addr)
	names, err := r.res().LookupAddr(ctx, addr)
	end(c, len(names), func() string { return join(names, str) }, err)
	return names, err
}

// LookupCNAME looks up host's canonical name, recorded as "lookup cname".
func (r *Resolver) LookupCNAME(ctx context.Context, host string) (string, error) {
	c := start(ctx, "lookup cname", host)
	cname, err := r.res().LookupCNAME(ctx, host)
	end(c, 1, func() string { return cname }, err)
	return cname, err
}

// LookupSRV looks up SRV records, recorded as "lookup srv" with the name
// queried (_service._proto.name, or name alone when service and proto are
// empty) as its request. Each record is summarized as "priority weight port
// target".
func (r *Resolver) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	q := name
	if service != "" || proto != "" {
		q = "_" + service + "._" + proto + "." + name
	}
	c := start(ctx, "lookup srv", q)
	cname, srvs, err := r.res().LookupSRV(ctx, service, proto, name)
	end(c, len(srvs), func() string {
		return join(srvs, func(s *net.SRV) string {
			return strconv.Itoa(int(s.Priority)) + " " + strconv.Itoa(int(s.Weight)) + " " + strconv.Itoa(int(s.Port)) + " " + s.Target
		})
	}, err)
	return cname, srvs, err
}

// LookupTXT looks up TXT records, recorded as "lookup txt"; each record is
// summarized quoted.
func (r *Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	c := start(ctx, "lookup txt", name)
	txts, err := r.res().LookupTXT(ctx, name)
	end(c, len(txts), func() string { return join(txts, strconv.Quote) }, err)
	return txts, err
}

// LookupMX looks up MX records, recorded as "lookup mx"; each record is
// summarized as "preference host".
func (r *Resolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	c := start(ctx, "lookup mx", name)
	mxs, err := r.res().LookupMX(ctx, name)
	end(c, len(mxs), func() string {
		return join(mxs, func(m *net.MX) string { return strconv.Itoa(int(m.Pref)) + " " + m.Host })
	}, err)
	return mxs, err
}

// LookupNS looks up NS records, recorded as "lookup ns".
func (r *Resolver) LookupNS(ctx context.Context, name string) ([]*net.NS, error) {
	c := start(ctx, "lookup ns", name)
	nss, err := r.res().LookupNS(ctx, name)
	end(c, len(nss), func() string { return join(nss, func(n *net.NS) string { return n.Host }) }, err)
	return nss, err
}
