package grpcstats_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/internal/otlptest"
	"github.com/goappstats/appstats/internal/testlog"
	"github.com/goappstats/appstats/middleware/grpcstats"
)

// forwardServer is a service A whose UnaryCall calls B's with the secrets
// of outgoing in its metadata, tells held (if not nil) that B has answered
// and waits for release, then returns B's answer.
type forwardServer struct {
	testgrpc.UnimplementedTestServiceServer
	next     testgrpc.TestServiceClient
	outgoing []string
	held     chan struct{}
	release  chan struct{}
}

func (s *forwardServer) UnaryCall(ctx context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	resp, err := s.next.UnaryCall(metadata.AppendToOutgoingContext(ctx, s.outgoing...), req)
	if s.held != nil {
		s.held <- struct{}{}
		<-s.release
	}
	return resp, err
}

// The secrets of TestMetadataSecrets: each appears in what the client
// sends, and must appear nowhere appstats writes.
const (
	secAuth       = "AuthSecret7Qz"
	secCookie     = "CookieSecret7Qz"
	secAPIKey     = "ApiKeySecret7Qz"
	secBin        = "BinSecret7Qz"
	secBlob       = "BlobSecret7Qz" // under a name with no secret word: a -bin value is kept as its size
	secCustom     = "CustomBearer7Qz"
	secOutAuth    = "OutgoingAuth7Qz"
	secStatusTok  = "StatusToken7Qz"
	secStatusBear = "StatusBearer7Qz"
	secStatusKey  = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"
)

// TestMetadataSecrets: the secrets of gRPC metadata (authorization, cookie,
// x-api-key, a binary -bin value, a bearer token under a key of the
// application's own) and those of a status message reach no record, no
// dashboard page or JSON (nor the list of records in the making), no log
// line and no exported span; the other metadata and the status message
// around the secrets are kept.
func TestMetadataSecrets(t *testing.T) {
	rcv := &otlptest.Receiver{}
	collector := httptest.NewServer(rcv)
	defer collector.Close()
	logs := &testlog.Buffer{}
	as, err := appstats.Open(appstats.Config{
		InMemory: true, OTLPEndpoint: collector.URL, ServiceName: "secrets",
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer as.Close()
	rec := as.Recorder()
	ui := httptest.NewServer(as.UI())
	defer ui.Close()

	baddr, stopB := startServer(t, &testServer{}, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	bconn, bclient := dial(t, baddr, grpc.WithStatsHandler(grpcstats.NewClientHandler()),
		grpc.WithChainUnaryInterceptor(grpcstats.UnaryClientInterceptor()))
	a := &forwardServer{next: bclient, outgoing: []string{
		"authorization", "Bearer " + secOutAuth,
		"x-api-key", secOutAuth,
	}, held: make(chan struct{}), release: make(chan struct{})}
	aaddr, stopA := startServer(t, a, grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(a.release) }) }
	t.Cleanup(release) // before stopA, if the test stops early
	aconn, aclient := dial(t, aaddr)

	ctx := metadata.AppendToOutgoingContext(context.Background(),
		"authorization", "Bearer "+secAuth,
		"cookie", "sid="+secCookie,
		"x-api-key", secAPIKey,
		"x-session-bin", secBin,
		"x-blob-bin", secBlob,
		"x-upstream", "Bearer "+secCustom,
		"x-tenant", "acme-tenant")
	statusMsg := "denied: token=" + secStatusTok + "; Authorization: Bearer " + secStatusBear + "; key " + secStatusKey
	done := make(chan error, 1)
	go func() {
		_, err := aclient.UnaryCall(ctx, &testgrpc.SimpleRequest{
			ResponseStatus: &testgrpc.EchoStatus{Code: int32(codes.PermissionDenied), Message: statusMsg},
		})
		done <- err
	}()
	<-a.held // B has answered; A's record is in the making, with its call
	active := get(t, ui.URL+"/stats/api/active?calls=200")
	if !strings.Contains(active, "UnaryCall") {
		t.Errorf("the records in the making do not show A's call: %s", active)
	}
	release()
	if err := <-done; status.Code(err) != codes.PermissionDenied || !strings.Contains(err.Error(), secStatusTok) {
		t.Fatalf("UnaryCall: %v, want the status B returned", err)
	}
	aconn.Close()
	stopA()
	bconn.Close()
	stopB()
	if err := as.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}

	var list struct {
		Records []struct {
			ID string `json:"id"`
		} `json:"records"`
	}
	body := get(t, ui.URL+"/stats/api/records")
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("api/records: %v: %s", err, body)
	}
	if len(list.Records) != 2 {
		t.Fatalf("api/records lists %d records, want 2 (A's and B's): %s", len(list.Records), body)
	}
	outputs := map[string]string{"api/active": active, "api/records": body, "dashboard": get(t, ui.URL+"/stats/")}
	var recJSON string
	for _, r := range list.Records {
		j := get(t, ui.URL+"/stats/api/records/"+r.ID)
		outputs["api/records/"+r.ID] = j
		outputs["records/"+r.ID] = get(t, ui.URL+"/stats/records/"+r.ID)
		recJSON += j
	}
	// The record's other metadata, and the status message around its
	// secrets, are kept.
	for _, want := range []string{"acme-tenant", `"x-blob-bin":["(binary, 13 bytes)"]`, `"x-upstream":["Bearer [REDACTED]"]`, "denied: token="} {
		if !strings.Contains(recJSON, want) {
			t.Errorf("the records do not show %q: %s", want, recJSON)
		}
	}
	for _, rs := range rcv.ResourceSpans() {
		b, err := protojson.Marshal(rs)
		if err != nil {
			t.Fatal(err)
		}
		outputs["exported spans"] += string(b)
	}
	if n := len(rcv.Spans()); n != 3 {
		t.Errorf("%d spans exported, want 3 (A's, its call, B's)", n)
	}
	outputs["log"] = logs.String()
	for name, out := range outputs {
		for _, sec := range []string{secAuth, secCookie, secAPIKey, secBin, secBlob, secCustom, secOutAuth, secStatusTok, secStatusBear, secStatusKey} {
			if strings.Contains(out, sec) {
				t.Errorf("%s shows the secret %s: %s", name, sec, out)
			}
		}
	}
}

// get returns the body of a GET of url, which must answer 200.
func get(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s: %s", url, resp.Status, b)
	}
	return string(b)
}
