package netstats_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/goappstats/appstats/middleware/netstats"
	"github.com/goappstats/appstats/recording"
)

// printCalls is a sink that prints each record's calls.
func printCalls(_ context.Context, recs []*recording.Record) error {
	for _, r := range recs {
		fmt.Println(r.Path)
		for _, c := range r.Calls {
			if c.Method == "conn tcp" {
				fmt.Printf("  %s %s: sent %d, received %d bytes\n", c.Service, c.Method, c.RequestSize, c.ResponseSize)
			} else {
				fmt.Printf("  %s %s\n", c.Service, c.Method)
			}
		}
	}
	return nil
}

// startEcho serves one connection, echoing what it reads.
func startEcho() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	return ln
}

func Example() {
	ln := startEcho()
	defer ln.Close()
	rec := recording.New(recording.WithSinks(recording.SinkFunc(printCalls)))

	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "/ping"})
	d := &netstats.Dialer{} // PerConn mode: one call per connection
	conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	io.WriteString(conn, "ping")
	io.ReadFull(conn, make([]byte, 4))
	conn.Close()
	ar.Finish()
	rec.Close(context.Background())
	// Output:
	// /ping
	//   net dial tcp
	//   net conn tcp: sent 4, received 4 bytes
}

// A connection kept across requests, such as one held by a client library,
// is bound to each request that uses it.
func ExampleBind() {
	ln := startEcho()
	defer ln.Close()
	rec := recording.New(recording.WithSinks(recording.SinkFunc(printCalls)))

	// Dialed once, outside any request.
	conn, err := (&netstats.Dialer{}).Dial("tcp", ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	for _, path := range []string{"/first", "/second"} {
		ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: path})
		netstats.Bind(ctx, conn)
		io.WriteString(conn, path)
		io.ReadFull(conn, make([]byte, len(path)))
		netstats.Bind(context.Background(), conn) // done with it: ends the request's call
		ar.Finish()
	}
	rec.Close(context.Background())
	// Output:
	// /first
	//   net conn tcp: sent 6, received 6 bytes
	// /second
	//   net conn tcp: sent 7, received 7 bytes
}

func ExampleResolver() {
	rec := recording.New(recording.WithSinks(recording.SinkFunc(printCalls)))
	r := &netstats.Resolver{} // net.DefaultResolver
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "/lookup"})
	r.LookupHost(ctx, "localhost")
	ar.Finish()
	rec.Close(context.Background())
	// Output:
	// /lookup
	//   dns lookup host
}
