package netstats_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/middleware/netstats"
)

// netErrKind describes err as an application inspects it: its type and
// text, and what errors.Is, errors.As, os.IsTimeout and net.Error find in
// it.
func netErrKind(err error) string {
	if err == nil {
		return "<nil>"
	}
	var op *net.OpError
	var dns *net.DNSError
	var ne net.Error
	s := fmt.Sprintf("%T %q op=%v", err, err, errors.As(err, &op))
	if errors.As(err, &dns) {
		s += fmt.Sprintf(" dns notfound=%v timeout=%v temp=%v", dns.IsNotFound, dns.IsTimeout, dns.IsTemporary)
	}
	if errors.As(err, &ne) {
		s += fmt.Sprintf(" net.Error timeout=%v", ne.Timeout())
	}
	return s + fmt.Sprintf(" os.IsTimeout=%v deadline=%v canceled=%v ctxdeadline=%v enoent=%v refused=%v",
		os.IsTimeout(err), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ECONNREFUSED))
}

// errKindOnly is netErrKind without the error's text, for errors whose
// text depends on the moment a deadline passes (which of the resolver's
// attempts it ends).
func errKindOnly(err error) string {
	if err == nil {
		return "<nil>"
	}
	return strings.Replace(netErrKind(err), fmt.Sprintf(" %q", err.Error()), "", 1)
}

type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// netOutside dials and looks names up, with netstats' Dialer and Resolver
// when wrap is set and net's otherwise, and returns a transcript of the
// errors the application sees: a refused dial, a name that does not exist
// (dialed and looked up), a DNS server that does not answer, a dial
// cancelled or past its deadline while its name is resolved, unix sockets
// missing and read past a deadline, after CloseWrite and after Close.
func netOutside(t *testing.T, ctx context.Context, wrap bool) []string {
	t.Helper()
	var out []string
	logf := func(f string, a ...any) { out = append(out, fmt.Sprintf(f, a...)) }
	dnsAddr := startDNS(t)
	mkDial := func(nd *net.Dialer) dialFunc {
		if wrap {
			return (&netstats.Dialer{Dialer: nd}).DialContext
		}
		return nd.DialContext
	}
	lookupHost := func(r *net.Resolver, host string) ([]string, error) {
		if wrap {
			return (&netstats.Resolver{Resolver: r}).LookupHost(ctx, host)
		}
		return r.LookupHost(ctx, host)
	}
	res := resolverOf(dnsAddr, mkDial(&net.Dialer{}))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	_, err := mkDial(&net.Dialer{})(ctx, "tcp", closed)
	logf("refused: %s", strings.ReplaceAll(netErrKind(err), closed, "ADDR"))
	_, err = mkDial(&net.Dialer{Resolver: res})(ctx, "tcp", "nosuch.test:80")
	logf("dial notfound: %s", netErrKind(err))
	addrs, err := lookupHost(res, "nosuch.test")
	logf("lookup notfound: %v %s", addrs, netErrKind(err))
	addrs, err = lookupHost(res, "app.test")
	logf("lookup: %v %s", addrs, netErrKind(err))
	// A DNS server that does not answer.
	silent, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer silent.Close()
	sres := resolverOf(silent.LocalAddr().String(), mkDial(&net.Dialer{}))
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	if wrap {
		addrs, err = (&netstats.Resolver{Resolver: sres}).LookupHost(tctx, "app.test")
	} else {
		addrs, err = sres.LookupHost(tctx, "app.test")
	}
	cancel()
	logf("lookup silent: %v %s", addrs, errKindOnly(err))
	// A dial cancelled while its name is being resolved.
	blocked := make(chan struct{}, 4)
	bres := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		blocked <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	cctx, cancel := context.WithCancel(ctx)
	go func() { <-blocked; cancel() }()
	_, err = mkDial(&net.Dialer{Resolver: bres})(cctx, "tcp", "app.test:80")
	logf("dial cancelled mid-way: %s", netErrKind(err))
	// A dial past its deadline, or its Dialer's timeout, while resolving.
	bres2 := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	tctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = mkDial(&net.Dialer{Resolver: bres2})(tctx, "tcp", "app.test:80")
	cancel()
	logf("dial deadline mid-way: %s", errKindOnly(err))
	_, err = mkDial(&net.Dialer{Resolver: bres2, Timeout: 50 * time.Millisecond})(ctx, "tcp", "app.test:80")
	logf("dial timeout mid-way: %s", errKindOnly(err))
	// Unix sockets.
	dir := shortTempDir(t)
	_, err = mkDial(&net.Dialer{})(ctx, "unix", filepath.Join(dir, "none"))
	logf("unix missing: %s", strings.ReplaceAll(netErrKind(err), dir, "DIR"))
	ul, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	go func() {
		c, err := ul.Accept()
		if err == nil {
			c.Write([]byte("hi"))
			buf := make([]byte, 10)
			c.Read(buf)
			c.Close()
		}
	}()
	uc, err := mkDial(&net.Dialer{})(ctx, "unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	n, err := uc.Read(buf)
	logf("unix read %q %s", buf[:n], netErrKind(err))
	uc.SetReadDeadline(time.Now().Add(-time.Second))
	n, err = uc.Read(buf)
	logf("unix read past deadline %d %s", n, strings.ReplaceAll(netErrKind(err), dir, "DIR"))
	uc.SetReadDeadline(time.Time{})
	uc.(interface{ CloseWrite() error }).CloseWrite()
	n, err = uc.Read(buf)
	logf("unix read after closewrite %d %s", n, netErrKind(err))
	uc.Close()
	n, err = uc.Read(buf)
	logf("unix read after close %d %s closed=%v", n, strings.ReplaceAll(netErrKind(err), dir, "DIR"), errors.Is(err, net.ErrClosed))
	_, err = uc.Write([]byte("x"))
	logf("unix write after close %s", strings.ReplaceAll(netErrKind(err), dir, "DIR"))
	logf("close again %s", strings.ReplaceAll(netErrKind(uc.Close()), dir, "DIR"))
	return out
}

// TestErrorsAsBare checks that the errors of netstats' dials, lookups and
// connections are those of net's, with their types (*net.OpError,
// *net.DNSError and its IsNotFound and IsTimeout) and what errors.Is and
// os.IsTimeout find in them.
func TestErrorsAsBare(t *testing.T) {
	want := netOutside(t, context.Background(), false)
	rec, s, done := newRecorder(t)
	ctx, ar := start(rec, "/x")
	got := netOutside(t, ctx, true)
	ar.Finish()
	done()
	testservers.SameTranscript(t, got, want)
	if n := len(byPath(t, s, "/x").Calls); n < 10 {
		t.Errorf("only %d calls recorded", n)
	}
}
