package netstats_test

import (
	"context"
	"io"
	"net"
	"testing"

	"github.com/goappstats/appstats/internal/cputime"
	"github.com/goappstats/appstats/middleware/netstats"
	"github.com/goappstats/appstats/recording"
)

// BenchmarkEcho measures one 64-byte echo round trip over loopback TCP:
// bare, and through a netstats connection in a recorded request (PerConn
// mode: every Read and Write adds to the connection's one call; PerOp mode:
// each is a call, with a new record every 500 round trips).
func BenchmarkEcho(b *testing.B) {
	addr := echoServer(b)
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	roundTrip := func(b *testing.B, c net.Conn) {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("bare", func(b *testing.B) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		b.ReportAllocs()
		defer cputime.MeterThread(b)()
		for b.Loop() {
			roundTrip(b, c)
		}
	})
	for _, mode := range []netstats.Mode{netstats.PerConn, netstats.PerOp} {
		b.Run(mode.String(), func(b *testing.B) {
			rec := recording.New(recording.WithSinks(recording.SinkFunc(func(context.Context, []*recording.Record) error { return nil })))
			defer rec.Close(context.Background())
			ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground})
			c, err := (&netstats.Dialer{Mode: mode}).DialContext(ctx, "tcp", addr)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			n := 0
			b.ReportAllocs()
			defer cputime.MeterThread(b)()
			for b.Loop() {
				if n++; mode == netstats.PerOp && n == 500 {
					b.StopTimer()
					ar.Finish()
					ctx, ar = rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground})
					netstats.Bind(ctx, c)
					n = 0
					b.StartTimer()
				}
				roundTrip(b, c)
			}
			ar.Finish()
		})
	}
}

// BenchmarkCopyN measures io.CopyN of 1 MiB from one loopback TCP
// connection to another, as a proxy does: bare, and with both ends
// wrapped in a recorded request (PerConn). Wrapped, the destination's socket
// is handed the source's own socket, so both splice.
func BenchmarkCopyN(b *testing.B) {
	const size = 1 << 20
	from := sourceServer(b, "tcp", "127.0.0.1:0", -1)
	to, _ := sinkServer(b, "tcp", "127.0.0.1:0")
	run := func(b *testing.B, wrap func(net.Conn) net.Conn) {
		src, err := net.Dial("tcp", from)
		if err != nil {
			b.Fatal(err)
		}
		dst, err := net.Dial("tcp", to)
		if err != nil {
			b.Fatal(err)
		}
		s, d := wrap(src), wrap(dst)
		defer s.Close()
		defer d.Close()
		b.SetBytes(size)
		b.ReportAllocs()
		defer cputime.MeterThread(b)()
		for b.Loop() {
			if n, err := io.CopyN(d, s, size); n != size || err != nil {
				b.Fatalf("CopyN: %d, %v", n, err)
			}
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, func(c net.Conn) net.Conn { return c }) })
	b.Run("wrapped", func(b *testing.B) {
		rec := recording.New()
		defer rec.Close(context.Background())
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "/proxy"})
		defer ar.Finish()
		run(b, func(c net.Conn) net.Conn { return netstats.WrapConn(ctx, c, netstats.PerConn) })
	})
}
