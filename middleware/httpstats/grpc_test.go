package httpstats_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// TestGRPCServedOverHTTP checks a gRPC server mounted as an http.Handler
// (grpc-go's Server.ServeHTTP, over h2c) behind the middleware: a call that
// fails is recorded as failed, with its gRPC status and message, though
// HTTP says 200 — the outcome is in the grpc-status trailer — and one that
// succeeds is not. Before, every such call was a success.
func TestGRPCServedOverHTTP(t *testing.T) {
	gs := grpc.NewServer()
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))
	srv := &http.Server{Handler: httpstats.NewHandler(rec, gs), Protocols: new(http.Protocols)}
	srv.Protocols.SetUnencryptedHTTP2(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	client := healthpb.NewHealthClient(cc)
	ctx := context.Background()
	if _, err := client.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatalf("Check: %v", err)
	}
	_, err = client.Check(ctx, &healthpb.HealthCheckRequest{Service: "no such service"})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("Check of an unknown service: %v, want NotFound", err)
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	recs := sink.Records()
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	want := []struct {
		code    string
		failed  bool
		message string
	}{{"OK", false, ""}, {"NOT_FOUND", true, "unknown service"}}
	for i, r := range recs {
		if r.Path != "/grpc.health.v1.Health/Check" || r.Status != http.StatusOK {
			t.Errorf("record %d: %s %d, want the Check path, HTTP 200", i, r.Path, r.Status)
		}
		var code string
		for _, a := range r.Attrs {
			if a.Key == "rpc.response.status_code" {
				code = a.Value
			}
		}
		s := r.Summary()
		if code != want[i].code || s.HasError() != want[i].failed || r.Error != want[i].message {
			t.Errorf("record %d: rpc.response.status_code %q, failed %v, error %q; want %q, %v, %q",
				i, code, s.HasError(), r.Error, want[i].code, want[i].failed, want[i].message)
		}
	}
}
