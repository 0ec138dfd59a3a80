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
