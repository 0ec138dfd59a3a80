package otelexport_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	semconv120 "go.opentelemetry.io/otel/semconv/v1.20.0"
	semconv137 "go.opentelemetry.io/otel/semconv/v1.37.0"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	_ "modernc.org/sqlite"

	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/netstats"
	"github.com/goappstats/appstats/middleware/sqlstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// str is the string value of a semconv attribute constant, such as
// semconv.RPCSystemNameGRPC: the value the spans must carry.
func str(kv attribute.KeyValue) string { return kv.Value.AsString() }

// other is the conventions' "_OTHER" (of http.request.method, rpc.method
// and error.type alike).
var other = str(semconv.ErrorTypeOther)

// semconvKeys are the keys of semconv v1.43.0 that appstats exports. Every
// exported attribute is one of them or appstats' own, under "appstats.":
// none is made up inside a namespace of the conventions.
var semconvKeys = []attribute.Key{
	semconv.HTTPRequestMethodKey, semconv.HTTPRequestMethodOriginalKey, semconv.HTTPResponseStatusCodeKey,
	semconv.HTTPRouteKey, semconv.HTTPRequestBodySizeKey, semconv.HTTPResponseBodySizeKey,
	semconv.URLFullKey, semconv.URLPathKey, semconv.URLQueryKey, semconv.URLSchemeKey, semconv.URLTemplateKey,
	semconv.UserAgentOriginalKey, semconv.ServerAddressKey, semconv.ServerPortKey, semconv.ClientAddressKey,
	semconv.NetworkPeerAddressKey, semconv.NetworkPeerPortKey, semconv.NetworkProtocolVersionKey,
	semconv.NetworkTransportKey, semconv.NetworkTypeKey, semconv.ErrorTypeKey,
	semconv.RPCSystemNameKey, semconv.RPCMethodKey, semconv.RPCMethodOriginalKey, semconv.RPCResponseStatusCodeKey,
	semconv.DBSystemNameKey, semconv.DBQueryTextKey, semconv.DBQuerySummaryKey, semconv.DBOperationNameKey,
	semconv.DBCollectionNameKey, semconv.DBResponseReturnedRowsKey, semconv.DBResponseStatusCodeKey,
	semconv.DNSQuestionNameKey, semconv.DNSAnswersKey,
	semconv.CodeFunctionNameKey, semconv.CodeFilePathKey, semconv.CodeLineNumberKey, semconv.UserIDKey,
}

// deprecatedKeys are keys of older conventions that must not be exported.
var deprecatedKeys = []attribute.Key{
	semconv137.RPCSystemKey, semconv137.RPCServiceKey, semconv137.RPCGRPCStatusCodeKey,
	semconv120.HTTPMethodKey, semconv120.HTTPStatusCodeKey, semconv120.DBSystemKey, semconv120.DBStatementKey,
}

// shop is a demo-like service, recorded and exported to an in-process OTLP
// receiver, with real dependencies on loopback: a plain HTTP server, a
// recorded gRPC server, SQLite, a TCP echo server and the resolver.
type shop struct {
	rcv  *receiver
	rec  *recording.Recorder
	sink *recordingtest.Sink
	exp  *otelexport.Exporter
	app  *httptest.Server

	down     *httptest.Server
	received chan http.Header // the headers of the downstream's /headers requests

	grpcSrv  *grpc.Server
	grpcConn *grpc.ClientConn
	grpcAddr string
	db       *sql.DB
	echo     net.Listener

	asyncDone chan struct{} // closed when /async's late call has ended
	release   chan struct{} // ends /async's call that outlives the test's export
}

func newShop(t *testing.T) *shop {
	t.Helper()
	s := &shop{rcv: &receiver{}, sink: recordingtest.NewSink(), received: make(chan http.Header, 4),
		asyncDone: make(chan struct{}), release: make(chan struct{})}
	var err error
	s.exp, err = otelexport.NewOTLPGRPC(t.Context(), otelexport.WithServiceName("shop"),
		otelexport.WithGRPCOptions(otlptracegrpc.WithEndpoint(startGRPCReceiver(t, s.rcv)), otlptracegrpc.WithInsecure()))
	if err != nil {
		t.Fatal(err)
	}
	s.rec = recording.New(recording.WithSinks(s.sink, s.exp),
		recording.WithPropagator(otelexport.NewPropagator(nil)),
		recording.WithExclude(recording.Filter{Path: "/skip"}))

	s.down = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/headers":
			s.received <- r.Header.Clone()
		case "/missing":
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "item")
	}))
	t.Cleanup(s.down.Close)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.grpcAddr = lis.Addr().String()
	s.grpcSrv = grpc.NewServer(grpc.StatsHandler(grpcstats.NewServerHandler(s.rec)))
	healthpb.RegisterHealthServer(s.grpcSrv, health.NewServer())
	go s.grpcSrv.Serve(lis)
	t.Cleanup(s.grpcSrv.Stop)
	s.grpcConn, err = grpc.NewClient(s.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(grpcstats.NewClientHandler()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.grpcConn.Close() })

	// No WithSystem: the database system comes from the driver.
	s.db, err = sqlstats.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.db.Close() })
	for _, q := range []string{
		`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, n INTEGER)`,
		`INSERT INTO items VALUES (7, 'lamp', 0), (8, 'desk', 0)`,
	} {
		if _, err := s.db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}

	s.echo, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.echo.Close() })
	go func() {
		for {
			c, err := s.echo.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				io.WriteString(c, strings.ToUpper(line))
			}()
		}
	}()

	recorded := &http.Client{Transport: httpstats.NewTransport(nil)}
	get := func(ctx context.Context, url string) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := recorded.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /shop/{id}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if err := s.shopCalls(ctx, get); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "out of stock", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("out of lamps") })
	forward := func(w http.ResponseWriter, r *http.Request) {
		if err := get(r.Context(), s.down.URL+"/headers"); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	}
	mux.HandleFunc("GET /fwd", forward)
	mux.HandleFunc("GET /skip", forward)
	mux.HandleFunc("GET /async", func(w http.ResponseWriter, r *http.Request) {
		late := recording.StartCall(r.Context(), "queue", "publish")
		stuck := recording.StartCall(r.Context(), "queue", "drain")
		go func() {
			// After the request has ended: the server cancels its
			// context once the handler chain, the recorder's middleware
			// and its end of the record included, has returned.
			<-r.Context().Done()
			late.End(nil)
			close(s.asyncDone)
			<-s.release
			stuck.End(nil)
		}()
	})
	s.app = httptest.NewUnstartedServer(httpstats.NewHandler(s.rec, mux))
	s.app.Config.ErrorLog = log.New(io.Discard, "", 0) // the panic is expected
	s.app.Start()
	t.Cleanup(s.app.Close)
	return s
}

// client sends the test's requests, each on a connection of its own: a GET
// that broke its connection (the panic) is not retried.
var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

// shopCalls makes every kind of call: HTTP (200 and 404), gRPC (OK,
// NOT_FOUND, an unknown method), SQL (rows, an update, a failure), a
// socket and DNS lookups.
func (s *shop) shopCalls(ctx context.Context, get func(context.Context, string) error) error {
	if err := get(ctx, s.down.URL+"/items/7"); err != nil {
		return err
	}
	if err := get(ctx, s.down.URL+"/missing"); err != nil {
		return err
	}
	hc := healthpb.NewHealthClient(s.grpcConn)
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		return err
	}
	if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{Service: "warehouse"}); status.Code(err) != codes.NotFound {
		return fmt.Errorf("Check(warehouse): %v, want NotFound", err)
	}
	if err := s.grpcConn.Invoke(ctx, "/shop.Inventory/Count", &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{}); status.Code(err) != codes.Unimplemented {
		return fmt.Errorf("unknown method: %v, want Unimplemented", err)
	}
	var name string
	if err := s.db.QueryRowContext(ctx, "SELECT name FROM items WHERE id = ?", 7).Scan(&name); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, "UPDATE items SET n = n + 1"); err != nil {
		return err
	}
	if _, err := s.db.QueryContext(ctx, "SELECT * FROM missing"); err == nil {
		return fmt.Errorf("a query of a missing table succeeded")
	}
	d := netstats.Dialer{Mode: netstats.PerOp}
	conn, err := d.DialContext(ctx, "tcp4", s.echo.Addr().String())
	if err != nil {
		return err
	}
	io.WriteString(conn, "hi\n")
	bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	res := netstats.Resolver{}
	if _, err := res.LookupIP(ctx, "ip4", "localhost"); err != nil {
		return err
	}
	return nil
}

// do sends a request to the shop and returns the response's status (0 when
// the connection broke, as for a panic).
func (s *shop) do(t *testing.T, method, path string, header map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest(method, s.app.URL+path, nil)
	req.Header.Set("User-Agent", "semconv-test/1.0")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// exported is what the shop's exporter sent, with the records it sent them
// for.
type exported struct {
	spans   map[string]gotSpan
	records []*recording.Record
}

func (x *exported) record(t *testing.T, kind recording.Kind, path string) *recording.Record {
	t.Helper()
	for _, r := range x.records {
		if r.Kind == kind && r.Path == path {
			return r
		}
	}
	t.Fatalf("no %v record of %s", kind, path)
	return nil
}

// span returns the exported span of a record (call < 0) or of its call.
func (x *exported) span(t *testing.T, r *recording.Record, call int) gotSpan {
	t.Helper()
	id := r.SpanID.String()
	if call >= 0 {
		id = r.Calls[call].SpanID.String()
	}
	s, ok := x.spans[id]
	if !ok {
		t.Fatalf("%s: no span exported for %s", r.Path, id)
	}
	return s
}

// call returns the index of the first call of r with the service and method.
func call(t *testing.T, r *recording.Record, service, method string, skip int) int {
	t.Helper()
	for i, c := range r.Calls {
		if c.Service == service && c.Method == method {
			if skip == 0 {
				return i
			}
			skip--
		}
	}
	t.Fatalf("%s: no call %s %s in %v", r.Path, service, method, r.Calls)
	return -1
}

// attrs checks that span s has the attributes want (a nil value: absent).
func attrs(t *testing.T, what string, s gotSpan, want map[attribute.Key]any) {
	t.Helper()
	for k, v := range want {
		got, ok := s.Attrs[string(k)]
		switch {
		case v == nil && ok:
			t.Errorf("%s: %s = %#v, want none", what, k, got)
		case v != nil && fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", v):
			t.Errorf("%s: %s = %#v, want %#v", what, k, got, v)
		}
	}
}

func wantStatus(t *testing.T, what string, s gotSpan, code tracepb.Status_StatusCode) {
	t.Helper()
	if s.Status != code {
		t.Errorf("%s: status %v %q, want %v", what, s.Status, s.Message, code)
	}
}

// TestSemanticConventions exports demo-like traffic — HTTP server and
// client, gRPC both sides with OK, NOT_FOUND and an unknown method, SQL,
// sockets, DNS, an unknown HTTP method, a panic, a call still running at the
// request's end, an unsampled incoming request — to an in-process OTLP
// receiver, and holds what arrives to semconv v1.43.0, attribute by
// attribute.
func TestSemanticConventions(t *testing.T) {
	s := newShop(t)
	tid := recording.NewTraceID()
	caller := recording.TraceContext{TraceID: tid, SpanID: recording.NewSpanID()} // not sampled
	traffic := []struct {
		method, path string
		header       map[string]string
		want         int
	}{
		{"GET", "/shop/7?token=s3cret&page=2", nil, 200},
		{"PURGE", "/shop/7", nil, http.StatusMethodNotAllowed},
		{"GET", "/nothing/42", nil, http.StatusNotFound},
		{"GET", "/fail", nil, http.StatusServiceUnavailable},
		{"GET", "/panic", nil, 0},
		{"GET", "/async", nil, 200},
		{"GET", "/fwd", map[string]string{"traceparent": recording.FormatTraceparent(caller), "baggage": "tenant=acme"}, 200},
		// Not recorded (a filter leaves it out): the caller's context
		// passes through as it came.
		{"GET", "/skip", map[string]string{"traceparent": recording.FormatTraceparent(caller), "baggage": "tenant=acme"}, 200},
	}
	for _, tr := range traffic {
		if got := s.do(t, tr.method, tr.path, tr.header); got != tr.want {
			t.Fatalf("%s %s: status %d, want %d", tr.method, tr.path, got, tr.want)
		}
	}
	fwd, skip := <-s.received, <-s.received
	<-s.asyncDone // /async's late call has ended: its record must show it

	s.app.Close()
	s.grpcSrv.GracefulStop()
	if err := s.rec.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.exp.ForceFlush(t.Context()); err != nil {
		t.Fatal(err)
	}
	close(s.release)
	if err := s.exp.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	x := &exported{spans: s.rcv.spans(), records: s.sink.Records()}

	t.Run("sampling", func(t *testing.T) {
		// The request came with flags 00: recorded for the dashboard, but
		// not exported, and 00 went downstream, in the caller's trace.
		r := x.record(t, recording.KindHTTP, "/fwd")
		if !r.Unsampled || r.TraceID != tid || r.ParentSpanID != caller.SpanID {
			t.Errorf("record of the unsampled request: unsampled %v, trace %s parent %s", r.Unsampled, r.TraceID, r.ParentSpanID)
		}
		for _, sp := range x.spans {
			if sp.TraceID == tid.String() {
				t.Errorf("span %q of the unsampled trace exported", sp.Name)
			}
		}
		want := recording.FormatTraceparent(recording.TraceContext{TraceID: tid, SpanID: r.Calls[0].SpanID})
		if got := fwd.Get("traceparent"); got != want {
			t.Errorf("downstream got traceparent %q, want %q (flags 00 unchanged)", got, want)
		}
		if got := fwd.Get("baggage"); got != "tenant=acme" {
			t.Errorf("downstream got baggage %q", got)
		}
		if got, want := skip.Get("traceparent"), recording.FormatTraceparent(caller); got != want {
			t.Errorf("unrecorded request: downstream got traceparent %q, want the caller's %q", got, want)
		}
		if got := skip.Get("baggage"); got != "tenant=acme" {
			t.Errorf("unrecorded request: downstream got baggage %q", got)
		}
		if st := s.exp.Stats(); st.Unsampled != 1 {
			t.Errorf("exporter stats %+v, want 1 unsampled record", st)
		}
		for _, sp := range x.spans {
			// Sampled (and random, 0x02, for the traces the recorder
			// made: TestGeneratedTraceIDRandom).
			if sp.Flags&uint32(tracepb.SpanFlags_SPAN_FLAGS_TRACE_FLAGS_MASK)&1 != 1 {
				t.Errorf("span %q exported with flags %#x, want sampled", sp.Name, sp.Flags)
			}
		}
	})

	t.Run("http server", func(t *testing.T) {
		r := x.record(t, recording.KindHTTP, "/shop/7")
		sp := x.span(t, r, -1)
		if sp.Name != str(semconv.HTTPRequestMethodGet)+" /shop/{id}" {
			t.Errorf("server span name %q", sp.Name)
		}
		host, port, _ := net.SplitHostPort(r.Remote)
		attrs(t, "GET /shop/{id}", sp, map[attribute.Key]any{
			semconv.HTTPRequestMethodKey:         str(semconv.HTTPRequestMethodGet),
			semconv.HTTPRouteKey:                 "/shop/{id}",
			semconv.HTTPResponseStatusCodeKey:    int64(200),
			semconv.URLPathKey:                   "/shop/7",
			semconv.URLQueryKey:                  "token=REDACTED&page=2",
			semconv.URLSchemeKey:                 "http",
			semconv.UserAgentOriginalKey:         "semconv-test/1.0",
			semconv.NetworkProtocolVersionKey:    "1.1",
			semconv.NetworkPeerAddressKey:        host,
			semconv.NetworkPeerPortKey:           int64(mustAtoi(t, port)),
			semconv.ClientAddressKey:             host,
			semconv.ErrorTypeKey:                 nil,
			semconv.HTTPRequestMethodOriginalKey: nil,
		})
		wantStatus(t, "GET /shop/{id}", sp, tracepb.Status_STATUS_CODE_UNSET)

		// An unknown method: _OTHER, and no route the router did not give.
		purge := x.span(t, x.recordMethod(t, "PURGE"), -1)
		if purge.Name != "HTTP" {
			t.Errorf("PURGE span named %q, want HTTP", purge.Name)
		}
		attrs(t, "PURGE", purge, map[attribute.Key]any{
			semconv.HTTPRequestMethodKey:         other,
			semconv.HTTPRequestMethodOriginalKey: "PURGE",
			semconv.HTTPRouteKey:                 nil,
			semconv.HTTPResponseStatusCodeKey:    int64(http.StatusMethodNotAllowed),
		})
		wantStatus(t, "PURGE", purge, tracepb.Status_STATUS_CODE_UNSET)

		unmatched := x.span(t, x.record(t, recording.KindHTTP, "/nothing/42"), -1)
		if unmatched.Name != str(semconv.HTTPRequestMethodGet) {
			t.Errorf("unmatched request's span named %q", unmatched.Name)
		}
		attrs(t, "unmatched", unmatched, map[attribute.Key]any{semconv.HTTPRouteKey: nil, semconv.ErrorTypeKey: nil})
		wantStatus(t, "unmatched (a 4xx)", unmatched, tracepb.Status_STATUS_CODE_UNSET)

		fail := x.span(t, x.record(t, recording.KindHTTP, "/fail"), -1)
		attrs(t, "503", fail, map[attribute.Key]any{
			semconv.HTTPResponseStatusCodeKey: int64(503), semconv.ErrorTypeKey: "503",
		})
		wantStatus(t, "503", fail, tracepb.Status_STATUS_CODE_ERROR)

		// A panic sends no response: no status code.
		panicked := x.span(t, x.record(t, recording.KindHTTP, "/panic"), -1)
		attrs(t, "panic", panicked, map[attribute.Key]any{
			semconv.HTTPResponseStatusCodeKey: nil, semconv.ErrorTypeKey: "panic",
		})
		wantStatus(t, "panic", panicked, tracepb.Status_STATUS_CODE_ERROR)
		if !strings.Contains(panicked.Message, "out of lamps") {
			t.Errorf("panic span's status message %q", panicked.Message)
		}
	})

	r := x.record(t, recording.KindHTTP, "/shop/7")
	t.Run("http client", func(t *testing.T) {
		downHost, downPort, _ := net.SplitHostPort(strings.TrimPrefix(s.down.URL, "http://"))
		for _, tt := range []struct {
			path   string
			status int64
		}{{"/items/{id}", 200}, {"/missing", 404}} {
			i := call(t, r, "http", "GET "+downHost+":"+downPort+tt.path, 0)
			sp := x.span(t, r, i)
			if sp.Name != str(semconv.HTTPRequestMethodGet) {
				t.Errorf("client span named %q, want the method alone", sp.Name)
			}
			var errType any
			if tt.status >= 400 {
				errType = fmt.Sprint(tt.status)
			}
			attrs(t, "GET "+tt.path, sp, map[attribute.Key]any{
				semconv.HTTPRequestMethodKey:      str(semconv.HTTPRequestMethodGet),
				semconv.ServerAddressKey:          downHost,
				semconv.ServerPortKey:             int64(mustAtoi(t, downPort)),
				semconv.URLFullKey:                s.down.URL + strings.Replace(tt.path, "{id}", "7", 1),
				semconv.HTTPResponseStatusCodeKey: tt.status,
				semconv.ErrorTypeKey:              errType,
			})
			want := tracepb.Status_STATUS_CODE_UNSET
			if tt.status >= 400 {
				want = tracepb.Status_STATUS_CODE_ERROR // a client fails on 4xx too
			}
			wantStatus(t, "GET "+tt.path, sp, want)
		}
	})

	t.Run("grpc", func(t *testing.T) {
		check := "grpc.health.v1.Health/Check"
		host, port, _ := net.SplitHostPort(s.grpcAddr)
		for i, tt := range []struct {
			code   codes.Code
			name   string
			client tracepb.Status_StatusCode
		}{
			{codes.OK, "OK", tracepb.Status_STATUS_CODE_UNSET},
			{codes.NotFound, "NOT_FOUND", tracepb.Status_STATUS_CODE_ERROR},
		} {
			c := x.span(t, r, call(t, r, "grpc", "/"+check, i))
			if c.Name != check {
				t.Errorf("client span named %q", c.Name)
			}
			var errType any
			if tt.code != codes.OK {
				errType = tt.name
			}
			attrs(t, "client "+tt.name, c, map[attribute.Key]any{
				semconv.RPCSystemNameKey:         str(semconv.RPCSystemNameGRPC),
				semconv.RPCMethodKey:             check, // fully qualified: methods of services never merge
				semconv.RPCResponseStatusCodeKey: tt.name,
				semconv.ServerAddressKey:         host,
				semconv.ServerPortKey:            int64(mustAtoi(t, port)),
				semconv.ErrorTypeKey:             errType,
			})
			wantStatus(t, "client "+tt.name, c, tt.client)
		}
		var servers []*recording.Record
		for _, sr := range x.records {
			if sr.Kind == recording.KindGRPC {
				servers = append(servers, sr)
			}
		}
		if len(servers) != 3 {
			t.Fatalf("%d gRPC server records, want 3", len(servers))
		}
		for _, sr := range servers {
			sp := x.span(t, sr, -1)
			host, port, _ := net.SplitHostPort(sr.Remote)
			common := map[attribute.Key]any{
				semconv.RPCSystemNameKey:      str(semconv.RPCSystemNameGRPC),
				semconv.NetworkPeerAddressKey: host,
				semconv.NetworkPeerPortKey:    int64(mustAtoi(t, port)),
				semconv.ClientAddressKey:      host,
				semconv.ServerAddressKey:      "127.0.0.1",
			}
			attrs(t, "server "+sr.Path, sp, common)
			switch sr.Status {
			case int(codes.OK):
				attrs(t, "server OK", sp, map[attribute.Key]any{
					semconv.RPCMethodKey: check, semconv.RPCResponseStatusCodeKey: "OK", semconv.ErrorTypeKey: nil,
					"appstats.rpc.messages_received": int64(1), "appstats.rpc.messages_sent": int64(1),
				})
				wantStatus(t, "server OK", sp, tracepb.Status_STATUS_CODE_UNSET)
			case int(codes.NotFound):
				// An answer, not a failure of the server.
				attrs(t, "server NOT_FOUND", sp, map[attribute.Key]any{
					semconv.RPCMethodKey: check, semconv.RPCResponseStatusCodeKey: "NOT_FOUND", semconv.ErrorTypeKey: nil,
				})
				wantStatus(t, "server NOT_FOUND", sp, tracepb.Status_STATUS_CODE_UNSET)
			case int(codes.Unimplemented):
				if sp.Name != str(semconv.RPCSystemNameGRPC) {
					t.Errorf("unknown method's server span named %q, want %q", sp.Name, str(semconv.RPCSystemNameGRPC))
				}
				attrs(t, "server unknown method", sp, map[attribute.Key]any{
					semconv.RPCMethodKey:             other,
					semconv.RPCMethodOriginalKey:     "shop.Inventory/Count",
					semconv.RPCResponseStatusCodeKey: "UNIMPLEMENTED",
					semconv.ErrorTypeKey:             "UNIMPLEMENTED",
				})
				wantStatus(t, "server unknown method", sp, tracepb.Status_STATUS_CODE_ERROR)
			default:
				t.Errorf("server record of %s with status %d", sr.Path, sr.Status)
			}
		}
	})

	t.Run("sql", func(t *testing.T) {
		sel := x.span(t, r, call(t, r, "sql", "SELECT items", 0))
		if sel.Name != "SELECT items" {
			t.Errorf("query span named %q, want its summary", sel.Name)
		}
		attrs(t, "SELECT", sel, map[attribute.Key]any{
			semconv.DBSystemNameKey:           str(semconv.DBSystemNameSQLite),
			semconv.DBQuerySummaryKey:         "SELECT items",
			semconv.DBQueryTextKey:            "SELECT name FROM items WHERE id = ?",
			semconv.DBOperationNameKey:        nil,
			semconv.DBResponseReturnedRowsKey: int64(1),
			semconv.ErrorTypeKey:              nil,
		})
		upd := x.span(t, r, call(t, r, "sql", "UPDATE items", 0))
		attrs(t, "UPDATE", upd, map[attribute.Key]any{"appstats.db.affected_rows": int64(2)})
		fail := x.span(t, r, call(t, r, "sql", "SELECT missing", 0))
		code, _ := fail.Attrs[string(semconv.DBResponseStatusCodeKey)].(string)
		if code == "" || fail.Attrs[string(semconv.ErrorTypeKey)] != code {
			t.Errorf("failed query: db.response.status_code %q, error.type %v; want SQLite's code in both",
				code, fail.Attrs[string(semconv.ErrorTypeKey)])
		}
		wantStatus(t, "failed query", fail, tracepb.Status_STATUS_CODE_ERROR)
	})

	t.Run("sockets and dns", func(t *testing.T) {
		host, port, _ := net.SplitHostPort(s.echo.Addr().String())
		dial := x.span(t, r, call(t, r, "net", "dial tcp4", 0))
		attrs(t, "dial", dial, map[attribute.Key]any{
			semconv.NetworkTransportKey: str(semconv.NetworkTransportTCP),
			semconv.NetworkTypeKey:      str(semconv.NetworkTypeIPv4),
			semconv.ServerAddressKey:    host,
			semconv.ServerPortKey:       int64(mustAtoi(t, port)),
		})
		lookup := x.span(t, r, call(t, r, "dns", "lookup ip", 0))
		attrs(t, "lookup", lookup, map[attribute.Key]any{
			semconv.DNSQuestionNameKey: "localhost",
			semconv.DNSAnswersKey:      []string{"127.0.0.1"},
			semconv.NetworkTypeKey:     str(semconv.NetworkTypeIPv4),
		})
	})

	t.Run("running call", func(t *testing.T) {
		a := x.record(t, recording.KindHTTP, "/async")
		late := call(t, a, "queue", "publish", 0)
		final, ended := a.FinalCall(late)
		if !ended {
			t.Fatal("the late call has not ended")
		}
		sp := x.span(t, a, late)
		if want := uint64(a.Start.Add(final.End()).UnixNano()); sp.End != want || final.End() <= a.Duration {
			t.Errorf("late call's span ends at %d, want its true end %d (after the request's %v)", sp.End, want, a.Duration)
		}
		attrs(t, "late call", sp, map[attribute.Key]any{"appstats.call.running": true})
		stuck := x.span(t, a, call(t, a, "queue", "drain", 0))
		if want := uint64(a.Start.Add(a.Duration).UnixNano()); stuck.End != want {
			t.Errorf("call still running at export ends at %d, want the request's end %d", stuck.End, want)
		}
		attrs(t, "stuck call", stuck, map[attribute.Key]any{"appstats.call.running": true})
	})

	t.Run("every span", func(t *testing.T) {
		known := map[string]bool{}
		for _, k := range semconvKeys {
			known[string(k)] = true
		}
		for _, sp := range x.spans {
			for k := range sp.Attrs {
				if !known[k] && !strings.HasPrefix(k, "appstats.") {
					t.Errorf("span %q: attribute %s is neither semconv v1.43.0's nor under appstats.", sp.Name, k)
				}
			}
			for _, k := range deprecatedKeys {
				if v, ok := sp.Attrs[string(k)]; ok {
					t.Errorf("span %q: deprecated %s = %v", sp.Name, k, v)
				}
			}
			if slices.Contains(sp.Events, semconv.ExceptionEventName) {
				t.Errorf("span %q: an %q event, deprecated: errors are the status and error.type", sp.Name, semconv.ExceptionEventName)
			}
			if sp.Status == tracepb.Status_STATUS_CODE_ERROR && sp.Attrs[string(semconv.ErrorTypeKey)] == nil {
				t.Errorf("span %q failed without error.type", sp.Name)
			}
			if sp.Resource[string(semconv.TelemetrySDKVersionKey)] != otelexport.Version() ||
				sp.ResourceSchema != semconv.SchemaURL || sp.ScopeSchema != semconv.SchemaURL ||
				sp.ScopeVersion != otelexport.Version() {
				t.Errorf("span %q: resource %v (schema %q), scope %s %q (schema %q)", sp.Name, sp.Resource,
					sp.ResourceSchema, sp.Scope, sp.ScopeVersion, sp.ScopeSchema)
			}
		}
	})
}

func (x *exported) recordMethod(t *testing.T, method string) *recording.Record {
	t.Helper()
	for _, r := range x.records {
		if r.Method == method {
			return r
		}
	}
	t.Fatalf("no record of a %s request", method)
	return nil
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("port %q: %v", s, err)
	}
	return n
}
