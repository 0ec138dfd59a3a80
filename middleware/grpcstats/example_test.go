package grpcstats_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"sort"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/recording"
)

func Example() {
	var mu sync.Mutex
	var recs []*recording.Record
	rec := recording.New(recording.WithSinks(recording.SinkFunc(func(_ context.Context, rs []*recording.Record) error {
		mu.Lock()
		recs = append(recs, rs...)
		mu.Unlock()
		return nil
	})))

	// A server whose RPCs are recorded.
	srv := grpc.NewServer(grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	healthpb.RegisterHealthServer(srv, health.NewServer())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go srv.Serve(lis)

	// A client whose RPCs are recorded as calls of the request in their
	// context: here a background job; in a server, the request's own ctx.
	conn, err := grpc.NewClient(lis.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(grpcstats.NewClientHandler()))
	if err != nil {
		log.Fatal(err)
	}
	ctx, job := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "nightly-report"})
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		log.Fatal(err)
	}
	job.Finish()

	conn.Close()
	srv.GracefulStop() // waits for the server's RPCs, and so their records
	if err := rec.Close(context.Background()); err != nil {
		log.Fatal(err)
	}

	sort.Slice(recs, func(i, j int) bool { return recs[i].Kind < recs[j].Kind })
	server, client := recs[0], recs[1]
	fmt.Println(server.Kind, server.Path, "status", server.Status, server.Attr(grpcstats.AttrMethod), server.Attr(grpcstats.AttrStatusCode))
	for _, c := range client.Calls {
		fmt.Println(client.Kind, client.Path, "called", c.Service, c.Method, "status", c.Attr(grpcstats.AttrStatusCode))
		fmt.Println("same trace:", server.TraceID == client.TraceID, "parent is the call:", server.ParentSpanID == c.SpanID)
	}
	// Output:
	// grpc /grpc.health.v1.Health/Check status 0 grpc.health.v1.Health/Check OK
	// background nightly-report called grpc /grpc.health.v1.Health/Check status OK
	// same trace: true parent is the call: true
}
