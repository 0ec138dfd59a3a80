package secretcorpus

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "github.com/lib/pq"              // registers "postgres"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	testgrpc "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	_ "modernc.org/sqlite" // registers "sqlite"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/middleware/grpcstats"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/sqlstats"
	"github.com/goappstats/appstats/otelexport"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/badgerstore"
	"github.com/goappstats/appstats/ui"
)

// corpus collects the secrets sent through the application, and the benign
// names and values that must stay readable.
type corpus struct {
	mu      sync.Mutex
	secrets []item // must appear nowhere
	benign  []item // must appear in the API, as written
}

// An item is one input of the corpus: where it went, and the text to look
// for.
type item struct{ where, text string }

// secret notes a secret sent through the application and returns it. A
// secret noted again (a handler run twice, as net/http's client retries a
// GET whose connection a panic closed) counts once.
func (c *corpus) secret(where, s string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, it := range c.secrets {
		if it.text == s {
			return s
		}
	}
	c.secrets = append(c.secrets, item{where, s})
	return s
}

// readable notes a text that the API must show as it is.
func (c *corpus) readable(where, s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.benign = append(c.benign, item{where, s})
}

// Secret-looking values, each used once: the corpus checks every one.
var (
	jwtPath    = jwt("path")
	jwtQuery   = jwt("query")
	jwtHeader  = jwt("header")
	jwtOutPath = jwt("outpath")
)

// jwt returns a well-formed (unsigned) JSON Web Token whose subject is sub.
func jwt(sub string) string {
	enc := func(s string) string {
		return strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(
			base64Std(s)), "=")
	}
	return enc(`{"alg":"HS256","typ":"JWT"}`) + "." + enc(`{"sub":"`+sub+`","iat":1732000000}`) + ".c2lnbmF0dXJlLWZvci0" + sub
}

func base64Std(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var b strings.Builder
	for i := 0; i < len(s); i += 3 {
		var n uint32
		k := min(3, len(s)-i)
		for j := 0; j < 3; j++ {
			n <<= 8
			if j < k {
				n |= uint32(s[i+j])
			}
		}
		for j := 0; j < 4; j++ {
			if j <= k {
				b.WriteByte(alphabet[(n>>(18-6*j))&63])
			} else {
				b.WriteByte('=')
			}
		}
	}
	return b.String()
}

// TestCorpus sends the corpus through the application and checks what was
// stored.
func TestCorpus(t *testing.T) {
	dir := t.TempDir()
	st, err := badgerstore.Open(dir, badgerstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spans := &keptSpans{}
	ex := otelexport.New(spans)
	rec := recording.New(recording.WithSinks(st, ex), recording.WithBatch(16, 10*time.Millisecond))
	c := &corpus{}

	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	client := &http.Client{Transport: httpstats.NewTransport(nil)}

	gs, cc := startGRPC(t, rec)
	grpcClient := testgrpc.NewTestServiceClient(cc)

	lite := openSQLite(t)
	pg, pgDSN := openPostgres(t)
	my := sql.OpenDB(sqlstats.WrapConnector(myConnector{}, sqlstats.WithSystem("mysql"), sqlstats.WithArgs(true)))
	defer my.Close()
	// The same stub, of no known dialect: its statements are read as
	// every dialect would read them.
	unknown := sql.OpenDB(sqlstats.WrapConnector(myConnector{}, sqlstats.WithArgs(true)))
	defer unknown.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("/panic", func(w http.ResponseWriter, r *http.Request) {
		panic("bad input '" + c.secret("panic value, quoted", "panicquotedsecret") + "'")
	})
	mux.HandleFunc("/panic-headers", func(w http.ResponseWriter, r *http.Request) {
		// A panic value that prints the request's headers, as fmt writes a
		// map: Authorization:[Bearer …].
		panic(fmt.Sprintf("unauthorized: %v", r.Header))
	})
	mux.HandleFunc("/panic-struct", func(w http.ResponseWriter, r *http.Request) {
		// A configuration printed with %+v: fmt quotes none of its strings.
		type creds struct{ User, Password, Note string }
		panic(fmt.Sprintf("bad config %+v", &creds{User: "bob", Password: c.secret("panic value: a struct printed with %+v",
			"structpw "+"words stay secret"), Note: "n"}))
	})
	mux.HandleFunc("/panic-map", func(w http.ResponseWriter, r *http.Request) {
		panic(fmt.Errorf("login failed: %v", map[string]string{"password": c.secret("panic value: a map printed with %v", "mappwval7"), "user": "bob"}))
	})
	mux.HandleFunc("/panic-unnamed", func(w http.ResponseWriter, r *http.Request) {
		// A struct as a panic's value: fmt.Sprint prints it with %v,
		// without its fields' names.
		type login struct{ User, Password, Role string }
		panic(login{"bob", c.secret("panic value: a struct printed with %v, no names", "panicunnamed7"), "admin"})
	})
	mux.HandleFunc("/panic-cookie", func(w http.ResponseWriter, r *http.Request) {
		// An error that quotes the request's Cookie header line.
		panic("session lookup failed for Cookie: " + r.Header.Get("Cookie"))
	})
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		outgoingHTTP(t, ctx, c, client, backend.URL)
		grpcCalls(ctx, c, grpcClient)
		sqliteCalls(t, ctx, c, lite)
		postgresCalls(t, ctx, c, pg)
		wrongPasswords(t, ctx, c, pg, pgDSN)
		roleErrors(t, ctx, c, pgDSN)
		mysqlCalls(ctx, c, my)
		unknownCalls(ctx, c, unknown)
		echoedDSNs(ctx, c)
		textCalls(ctx, c)
		calls46(ctx, c, client, backend.URL, lite)
		calls47(ctx, c, client, backend.URL, lite)
		io.WriteString(w, "done")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello") })
	app := httptest.NewUnstartedServer(httpstats.NewHandler(rec, mux, httpstats.WithHeaders(true)))
	app.Config.ErrorLog = log.New(io.Discard, "", 0) // the panicking handler's panic is logged by net/http
	app.Start()
	defer app.Close()

	incomingHTTP(t, c, app.URL)

	// Everything is stored; then the API is read, and the store closed.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gs.Stop()
	cc.Close()
	if err := rec.Close(ctx); err != nil {
		t.Fatalf("recorder close: %v", err)
	}
	if err := ex.Close(ctx); err != nil {
		t.Fatalf("exporter close: %v", err)
	}
	api := readAPI(t, st)
	others := map[string][]byte{"the exported spans": spans.text(t), "the dashboard's pages": readPages(t, st)}
	if err := st.Close(); err != nil {
		t.Fatalf("store close: %v", err)
	}
	files := readFiles(t, dir)

	var leakedAPI, leakedFiles, hidden []string
	for _, s := range c.secrets {
		if strings.Contains(api, s.text) {
			leakedAPI = append(leakedAPI, s.where+": "+s.text)
		}
		if bytes.Contains(files, []byte(s.text)) {
			leakedFiles = append(leakedFiles, s.where+": "+s.text)
		}
		for name, out := range others {
			if bytes.Contains(out, []byte(s.text)) {
				t.Errorf("leaked in %s: %s: %s", name, s.where, s.text)
			}
		}
	}
	for _, b := range c.benign {
		if !strings.Contains(api, b.text) {
			hidden = append(hidden, b.where+": "+b.text)
		}
	}
	t.Logf("corpus: %d secrets: %d leaked in the API, %d in the data directory; %d benign: %d wrongly hidden",
		len(c.secrets), len(leakedAPI), len(leakedFiles), len(c.benign), len(hidden))
	if len(c.secrets) < 50 || len(c.benign) < 20 {
		t.Errorf("the corpus is too small: %d secrets, %d benign", len(c.secrets), len(c.benign))
	}
	for _, s := range leakedAPI {
		t.Errorf("leaked in the API: %s", s)
	}
	for _, s := range leakedFiles {
		t.Errorf("leaked in the data directory: %s", s)
	}
	for _, s := range hidden {
		t.Errorf("wrongly hidden: %s", s)
	}
	if os.Getenv("SECRETCORPUS_DUMP") != "" { // to look at what the API shows
		os.WriteFile(os.Getenv("SECRETCORPUS_DUMP"), []byte(api), 0o644)
	}
}

// incomingHTTP sends requests to the application: secrets in query
// parameters, headers and path segments, and benign names around them.
func incomingHTTP(t *testing.T, c *corpus, base string) {
	t.Helper()
	get := func(path string, hdr map[string]string) {
		t.Helper()
		req, err := http.NewRequest("GET", base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			if strings.HasPrefix(path, "/panic") {
				return // the connection is closed by the panic
			}
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	// Query parameters hidden by their names.
	q := url.Values{}
	for _, name := range []string{"pass", "pw", "passphrase", "pin", "private", "ssn", "email", "credit_card",
		"token", "api_key", "access_token", "session_id", "signature", "otp", "cvv", "password", "secret", "auth", "apiKey"} {
		q.Set(name, c.secret("query parameter "+name, "zz"+strings.ReplaceAll(name, "_", "")+"val"))
	}
	benign := map[string]string{"keyword": "golang", "author": "ann", "country_code": "fr", "design": "flat",
		"monkey": "banana", "page": "2", "sort": "desc", "id": "550e8400-e29b-41d4-a716-446655440000",
		"ts": "2024-01-02", "hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "order": "100042"}
	for k, v := range benign {
		q.Set(k, v)
		c.readable("query parameter "+k, k+"="+v)
	}
	get("/search?"+q.Encode(), map[string]string{"User-Agent": "corpus-agent/1.0", "X-Request-Id": "req-12345", "Accept-Language": "fr-CH"})
	c.readable("header User-Agent", `"corpus-agent/1.0"`)
	c.readable("header X-Request-Id", `"req-12345"`)
	c.readable("header Accept-Language", `"fr-CH"`)

	// Query values that look secret, whatever their names.
	q = url.Values{}
	q.Set("ref", c.secret("query value: a JWT", jwtQuery))
	q.Set("n", c.secret("query value: a card number", "4111111111111111"))
	q.Set("contact", c.secret("query value: an e-mail address", "corpus.person@example.org"))
	q.Set("k", c.secret("query value: a random token", "Zx81kQ2mP9vL3nR7tY5wB1cD"))
	get("/lookup?"+q.Encode(), nil)

	// URLs nested in query values, raw and encoded.
	get("/go?next=http://nestuser:"+c.secret("nested URL password", "nestpwsecret")+"@host.example/?token="+
		c.secret("nested URL token", "nesttokensecret"), nil)
	get("/go?u="+url.QueryEscape("http://h.example/cb?password="+c.secret("encoded nested URL password", "encnestedsecret")+"&lang=en"), nil)
	// URLs nested in a path, their user information hidden whole: an
	// empty user (Redis' form), a user and a password, several levels, and
	// in a query value's path.
	get("/proxy/redis://:"+c.secret("path: a nested Redis URL's password after an empty user", "nestredispw7")+"@cache:6379/0", nil)
	get("/proxy/https://"+c.secret("path: a nested URL's user", "nestpathuser")+":"+
		c.secret("path: a nested URL's password", "nestpathpw8")+"@h2.example/x", nil)
	get("/proxy/https://h2.example/r/rediss://:"+c.secret("path: a URL nested two levels, its password", "nest2levelpw")+"@cache/0", nil)
	get("/go?next=https://h2.example/r/redis://:"+c.secret("query value: a URL's path's nested URL password", "nestqpathpw")+"@cache:6379", nil)

	// Headers hidden by their names, and values found in other headers.
	get("/profile", map[string]string{
		"X-Pass":         c.secret("header X-Pass", "hdrpassval"),
		"X-Bearer":       c.secret("header X-Bearer", "hdrbearerval"),
		"X-Client-Cert":  c.secret("header X-Client-Cert", "hdrcertval"),
		"Authorization":  "Basic " + c.secret("header Authorization", "aGRyYXV0aHZhbA=="),
		"Cookie":         "sid=" + c.secret("header Cookie", "hdrcookieval"),
		"X-Api-Key":      c.secret("header X-Api-Key", "hdrapikeyval"),
		"X-Original-URL": "/reset?token=" + c.secret("header X-Original-URL's token", "hdrurltokenval") + "&step=2",
		"Referer":        "https://app.example/x?sig=" + c.secret("header Referer's sig", "hdrrefsigval"),
		"X-Debug":        c.secret("header value: a JWT", jwtHeader),
		"X-Note":         "paid with " + c.secret("header value: a card number", "6011000000000004"),
		// Azure's API keys.
		"Ocp-Apim-Subscription-Key": c.secret("header Ocp-Apim-Subscription-Key", "hdrapimval"),
		"X-Functions-Key":           c.secret("header X-Functions-Key", "hdrfunctionsval"),
	})
	c.readable("header X-Original-URL, its other parameter", "step=2")

	// A header value cut at its byte cap (1 KiB) inside a URL's password,
	// before the "@" that would show it is one.
	get("/upstream", map[string]string{
		"X-Upstream": strings.Repeat("c", 1000) + " http://svc:" + c.secret("header value cut inside a URL's password", "hdrcutpw") + "SECRET0123456789@db.internal/"})

	// Path segments that look like tokens.
	get("/reset/"+c.secret("path segment: a JWT", jwtPath), nil)
	get("/verify/"+c.secret("path segment: a random token", "q8Vd2LkP0sXr7YwZ3nTbHc5JmGfA1eUiKo9NpQzR"), nil)
	get("/cards/"+c.secret("path segment: a card number", "340000000000009"), nil)
	get("/users/"+c.secret("path segment: an e-mail address", "path.person@example.com")+"/profile", nil)
	get("/users/42/orders/550e8400-e29b-41d4-a716-446655440000", nil)
	c.readable("path with a numeric id and a UUID", "/users/42/orders/550e8400-e29b-41d4-a716-446655440000")

	// An OAuth 2.0 redirect: the authorization code is secret, the state
	// not; and counts of tokens are no tokens.
	get("/oauth/cb?code="+c.secret("query parameter code: an OAuth authorization code", "e72e16c7e42f292c6912")+
		"&state=af0ifjsldkj&max_tokens=100", nil)
	c.readable("query parameter state", "state=af0ifjsldkj")
	c.readable("query parameter max_tokens", "max_tokens=100")
	get("/password_reset/done", nil)
	c.readable("path with a secret word", "/password_reset/done")

	get("/panic", nil)
	get("/panic-struct", nil)
	get("/panic-map", nil)
	get("/panic-unnamed", nil)
	get("/panic-cookie", map[string]string{"Cookie": "theme=dark; sid=" + c.secret("panic value: a Cookie header line", "cookieLineVal9")})
	get("/panic-headers", map[string]string{
		"Authorization": "Bearer " + c.secret("panic value: headers printed, a bearer token", "pnc_9.B5f-4.1JqM")})
	incoming46(c, get)
	incoming47(c, get)
	get("/work", nil)
}

// textCalls records calls by hand, as an application wraps a client
// appstats has no wrapper for, whose errors and attributes hold secrets
// written without a name the rules know at once: structs printed with %v,
// passwords that are plain words, secret names spelt with Unicode's
// look-alikes, connection strings of Oracle, JDBC, MongoDB and ODBC; and
// counts of tokens, which must stay readable.
func textCalls(ctx context.Context, c *corpus) {
	fail := func(service, method, msg string) {
		recording.StartCall(ctx, service, method).End(errors.New(msg))
	}
	type login struct{ User, Password string }
	fail("auth", "Login", fmt.Sprintf("login %v: denied", login{"bob", c.secret("error: a struct printed with %v after a login word", "unnamedloginpw")}))
	fail("config", "Load", "db:\n  user: bob\n  password: correct horse "+c.secret("error: a YAML password of plain words", "corpusstaple")+"\n  host: h")
	fail("config", "Load", "bad secret: "+c.secret("error: secret: a plain word", "swordfishcorpus"))
	fail("redis", "AUTH", "ERR AUTH "+c.secret("error: Redis AUTH with a plain-word password", "corpusredisword")+" failed")
	fail("config", "Load", "ｐａｓｓｗｏｒｄ="+c.secret("error: a fullwidth secret name", "fullwidthpw9"))
	fail("config", "Load", "invalid pass\u00adword="+c.secret("error: a secret name with a soft hyphen", "softhyphenpw9"))
	fail("oracle", "Connect", "ORA-12154: cannot connect scott/"+c.secret("error: an Oracle connect string", "oracletigerpw")+"@orcl")
	fail("oracle", "Connect", "dial jdbc:oracle:thin:scott/"+c.secret("error: a JDBC Oracle URL", "jdbcoraclepw")+"@//db:1521/svc refused")
	fail("mssql", "Connect", "dial jdbc:sqlserver://db:1433;user=sa;password="+c.secret("error: a JDBC SQL Server URL's property", "jdbcmssqlpw")+";encrypt=true")
	fail("mongo", "Connect", "dial mongodb+srv://app:"+c.secret("error: a MongoDB SRV URL", "mongosrvpw")+"@cluster0.example.net/db")
	fail("odbc", "Connect", "Driver={ODBC Driver 18};Server=db;Uid=sa;Pwd={"+c.secret("error: an ODBC password in braces", "odbc brace;pw")+"};")
	fail("odbc", "Connect", "Server=db;User ID=sa;Password="+c.secret("error: an ADO.NET password of two words, the first", "adonetword1")+" "+
		c.secret("error: an ADO.NET password of two words, the second", "adonetword2")+";Encrypt=true")
	fail("s3", "Get", "403 for Authorization: AWS AKIDCORPUSEXAMPLE:"+c.secret("error: an AWS signature V2 after its key id", "awsV2sigCorpus7")+" at 12:00")
	fail("azure", "Get", "403 for Authorization: SharedKey corpusacct:"+c.secret("error: an Azure SharedKey signature", "sharedKeySigCorpus7"))
	// Azure's key headers, which hold no secret word, quoted in texts;
	// a Bearer credential after a tab (review 40).
	fail("apim", "Get", "401 for Ocp-Apim-Subscription-Key: "+c.secret("error: an Ocp-Apim-Subscription-Key header line", "apimLineCorpus7"))
	fail("functions", "Post", "403 for X-Functions-Key: "+c.secret("error: an X-Functions-Key header line", "funcKeyCorpus7")+" at 12:00")
	fail("api", "Get", "401 for Authorization: Bearer\t"+c.secret("error: a Bearer credential after a tab", "tabBearerCorpus7"))
	fail("auth", "Check", "password: too short")
	c.readable("error: prose after a secret name", "password: too short")
	fail("auth", "Status", "{200 OK} from golang.org/x/net@v0.30.0")
	c.readable("error: ordinary %v output and a module version", "{200 OK} from golang.org/x/net@v0.30.0")

	llm := recording.StartCall(ctx, "llm", "chat")
	llm.SetAttr("api.tokens", "12")
	llm.SetAttr("gen_ai.usage.input_tokens", "1200")
	llm.SetAttr("ｐａｓｓｗｏｒｄ", c.secret("attribute with a fullwidth secret name", "fullwidthattr"))
	llm.SetAttr("batch.tokens", c.secret("attribute: a card number under a count's name", "5105105105105100"))
	llm.End(nil)
	c.readable("attribute api.tokens, a count", `{"key":"api.tokens","value":"12"}`)
	c.readable("attribute gen_ai.usage.input_tokens, a count", `{"key":"gen_ai.usage.input_tokens","value":"1200"}`)
}

// outgoingHTTP makes HTTP calls through the recording transport: secrets in
// the URL's query, user information, fragment and path, and in an error.
func outgoingHTTP(t *testing.T, ctx context.Context, c *corpus, client *http.Client, base string) {
	do := func(raw string) {
		req, err := http.NewRequestWithContext(ctx, "GET", raw, nil)
		if err != nil {
			t.Error(err)
			return
		}
		resp, err := client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	do(base + "/api/items?api_key=" + c.secret("outgoing URL api_key", "outapikeyval") + "&q=golang")
	c.readable("outgoing URL, a benign parameter", "&q=golang")
	u, _ := url.Parse(base)
	do(u.Scheme + "://outuser:" + c.secret("outgoing URL password", "outpwval") + "@" + u.Host + "/x")
	do(base + "/cb#access_token=" + c.secret("outgoing URL fragment token", "outfragval"))
	// An API key under its usual name, key, in hexadecimal (which alone
	// reads as a hash), in a query and in a fragment.
	do(base + "/maps?key=" + c.secret("outgoing URL key: a hexadecimal API key", "3c6e0b8a9c15224a8228b9a98ca1531d") + "&zoom=3")
	do(base + "/maps#key=" + c.secret("outgoing URL fragment key", "outfragkeyval"))
	c.readable("outgoing URL, a parameter after key", "&zoom=3")
	// Azure API Management's subscription key in the query (review 40).
	do(base + "/apim?subscription-key=" + c.secret("outgoing URL subscription-key", "apimqueryval") + "&zoom=4")
	c.readable("outgoing URL, a parameter after subscription-key", "&zoom=4")
	do(base + "/v/" + c.secret("outgoing URL path: a JWT", jwtOutPath))
	// A refused connection: the error quotes the URL.
	do("http://127.0.0.1:1/lookup?token=" + c.secret("outgoing error: the URL quoted", "outerrval"))
}

// grpcServer answers EmptyCall, and UnaryCall with the status it is asked
// for.
type grpcServer struct {
	testgrpc.UnimplementedTestServiceServer
}

func (grpcServer) EmptyCall(context.Context, *testgrpc.Empty) (*testgrpc.Empty, error) {
	return &testgrpc.Empty{}, nil
}

func (grpcServer) UnaryCall(_ context.Context, req *testgrpc.SimpleRequest) (*testgrpc.SimpleResponse, error) {
	if st := req.GetResponseStatus(); st.GetCode() != 0 {
		return nil, status.Error(codes.Code(st.GetCode()), st.GetMessage())
	}
	return &testgrpc.SimpleResponse{}, nil
}

func startGRPC(t *testing.T, rec *recording.Recorder) (*grpc.Server, *grpc.ClientConn) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.StatsHandler(grpcstats.NewServerHandler(rec)))
	testgrpc.RegisterTestServiceServer(gs, grpcServer{})
	go gs.Serve(lis)
	cc, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(grpcstats.NewClientHandler()))
	if err != nil {
		t.Fatal(err)
	}
	return gs, cc
}

// grpcCalls makes gRPC calls with secrets in their metadata and in a status
// message.
func grpcCalls(ctx context.Context, c *corpus, client testgrpc.TestServiceClient) {
	md := metadata.Pairs(
		"authorization", "Bearer "+c.secret("gRPC metadata authorization", "grpcbearerval"),
		"x-pass", c.secret("gRPC metadata x-pass", "grpcpassval"),
		"x-session-token", c.secret("gRPC metadata x-session-token", "grpcsessionval"),
		"x-client-cert", c.secret("gRPC metadata x-client-cert", "grpccertval"),
		"x-user", c.secret("gRPC metadata value: an e-mail address", "grpc.user@example.com"),
		"key1", "value1",
	)
	c.readable("gRPC metadata key1", `"key1":["value1"]`)
	c.readable("gRPC metadata :authority", `":authority":["127.0.0.1:`)
	c.readable("gRPC method", "/grpc.testing.TestService/UnaryCall")
	mctx := metadata.NewOutgoingContext(ctx, md)
	client.EmptyCall(mctx, &testgrpc.Empty{})
	client.UnaryCall(mctx, &testgrpc.SimpleRequest{ResponseStatus: &testgrpc.EchoStatus{
		Code: int32(codes.NotFound), Message: "user '" + c.secret("gRPC status message, quoted", "grpcerrval") + "' not found"}})
	client.UnaryCall(mctx, &testgrpc.SimpleRequest{ResponseStatus: &testgrpc.EchoStatus{
		Code: int32(codes.Unauthenticated), Message: "rejected Authorization: Bearer " + c.secret("gRPC status message: a bearer token", "grpc_9.B5f-4.1JqM")}})
	client.UnaryCall(mctx, &testgrpc.SimpleRequest{ResponseStatus: &testgrpc.EchoStatus{
		Code: int32(codes.Unauthenticated), Message: "bad credentials: Basic " + c.secret("gRPC status message: basic credentials", "Z3JwYzpvcGVu")}})
}

func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sqlstats.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "app.db"), sqlstats.WithArgs(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		"CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, note BLOB, password TEXT)",
		"INSERT INTO users (name) VALUES ('ann')",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// sqliteCalls runs statements with literals of every SQLite kind, an error
// that quotes one, and arguments, on a real SQLite database.
func sqliteCalls(t *testing.T, ctx context.Context, c *corpus, db *sql.DB) {
	exec := func(q string, args ...any) {
		if _, err := db.ExecContext(ctx, q, args...); err != nil && !strings.Contains(q, "sqliteerr") {
			t.Errorf("%s: %v", q, err)
		}
	}
	exec("SELECT count(*) FROM users WHERE name = '" + c.secret("SQLite string", "sqlitestrval") + "'")
	exec(`SELECT count(*) FROM "users" WHERE name = "` + c.secret("SQLite double-quoted string", "sqlitedqval") + `"`)
	exec("SELECT count(*) FROM users WHERE note = X'" + c.secret("SQLite blob", "C0FFEE15BEEF") + "'")
	exec("SELECT count(*) FROM users /* " + c.secret("SQLite comment", "sqlitecommentval") + " */ WHERE id = " +
		c.secret("SQLite number", "8675309121"))
	exec("-- " + c.secret("SQLite line comment", "sqlitelineval") + "\nSELECT 1")
	exec("UPDATE users SET name = 'x' WHERE password = '" + c.secret("SQLite string compared to a password", "sqlitepwval") + "'")
	exec("SELECT 1 WHERE 'x' '" + c.secret("SQLite error: near the quoted literal", "sqliteerrval") + "'")
	// An encryption key (SQLCipher, SEE) as a bare word, which SQLite
	// takes as the pragma's value (round 41); modernc.org/sqlite ignores
	// a pragma it does not know.
	exec("PRAGMA key = " + c.secret("SQLite key pragma without quotes", "sqlitekeypw"))
	exec("PRAGMA main.rekey = " + c.secret("SQLite rekey pragma without quotes", "sqliterekeypw"))
	// Review 41: a key pragma after another statement of the text, and
	// its name quoted.
	exec("SELECT 1; PRAGMA key = " + c.secret("SQLite key pragma after another statement", "sqlitesecondkeypw"))
	exec(`PRAGMA "key" = ` + c.secret("SQLite key pragma, its name quoted", "sqlitequotedkeypw"))
	// A statement after an ATTACH is not read as its KEY clause.
	exec("ATTACH ':memory:' AS corpusk; CREATE TABLE corpusk.kv (key TEXT); SELECT key FROM corpusk.kv")
	c.readable("SQLite: a statement after ATTACH", "ATTACH ? AS corpusk; CREATE TABLE corpusk.kv (key TEXT); SELECT key FROM corpusk.kv")
	exec("SELECT count(*) FROM users WHERE name = :ssn", sql.Named("ssn", c.secret("SQLite argument :ssn", "argssnval")))
	exec("SELECT count(*) FROM users WHERE name = ? OR name = ? OR name = ?",
		c.secret("SQLite positional argument: a card number", "5500000000000004"),
		c.secret("SQLite positional argument: an e-mail address", "arg.person@example.net"), "ann")
	exec("SELECT count(*) FROM users WHERE note = ?",
		c.secret("SQLite positional argument: a base64 key with '/' and '+'", "Zx81kQ2mP9vL/3nR7tY5wB1cD+h7Pq0aLm3XyVb"))
	c.readable("SQLite statement", "SELECT count(*) FROM users WHERE name = ?")
	c.readable("SQLite call name", `"SELECT users"`)
	c.readable("SQLite benign argument", `\"ann\"`)
}

// openPostgres starts a PostgreSQL server and opens it through pgx. Like
// every test of the project that needs a server, the corpus is skipped when
// PostgreSQL's binaries are missing, unless APPSTATS_REQUIRE_SERVERS=1.
func openPostgres(t *testing.T) (*sql.DB, string) {
	t.Helper()
	dsn := testservers.StartPostgres(t)
	db, err := sqlstats.Open("pgx", dsn, sqlstats.WithArgs(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
}

// wrongPasswords connects to the PostgreSQL server with a wrong password,
// through pgx and lib/pq, with the DSN as a URL and as key=value pairs: the
// drivers' errors, recorded, must not quote it. The server trusts every
// connection (testservers); here it is told to ask the role "corpus" for a
// password.
func wrongPasswords(t *testing.T, ctx context.Context, c *corpus, admin *sql.DB, dsn string) {
	t.Helper()
	var hba string
	if err := admin.QueryRowContext(ctx, "SELECT current_setting('hba_file')").Scan(&hba); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE ROLE corpus LOGIN PASSWORD 'corpus-right-pw'",
		"COPY (SELECT 'host all corpus 127.0.0.1/32 scram-sha-256' UNION ALL SELECT 'host all all 127.0.0.1/32 trust' " +
			"UNION ALL SELECT 'local all all trust') TO '" + hba + "'",
		"SELECT pg_reload_conf()",
	} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, drv := range []string{"pgx", "postgres"} {
		for _, d := range []string{
			"postgres://corpus:" + c.secret("DSN URL password, "+drv, "dsnurlpw"+drv) + "@" + u.Host + "/postgres?sslmode=disable",
			"host=" + u.Hostname() + " port=" + u.Port() + " user=corpus password=" + c.secret("DSN key=value password, "+drv, "dsnkvpw"+drv) +
				" dbname=postgres sslmode=disable",
			"postgres://corpus:" + c.secret("DSN URL password cut by a #, "+drv, "dsncut"+drv) + "#x@" + u.Host + "/postgres?sslmode=disable",
		} {
			db, err := sqlstats.Open(drv, d)
			if err != nil {
				continue // refused at once: nothing recorded
			}
			if err := db.PingContext(ctx); err == nil {
				t.Errorf("%s: a wrong password was accepted", drv)
			}
			db.QueryContext(ctx, "SELECT 1")
			db.Close()
		}
	}
}

// roleErrors runs, through pgx and lib/pq, statements that set a
// password and fail on the server: a role that exists already, options
// that conflict, a syntax error after the password, a DO block whose
// CREATE ROLE fails (PostgreSQL's CONTEXT, pgx's PgError.Where and lib/pq's
// Error.Where, quote that statement). Neither the statement nor the error
// may carry the password into a record or an exported span.
func roleErrors(t *testing.T, ctx context.Context, c *corpus, dsn string) {
	t.Helper()
	for _, drv := range []string{"pgx", "postgres"} {
		db, err := sqlstats.Open(drv, dsn)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range []string{
			"CREATE ROLE corpusdup PASSWORD '" + c.secret("PostgreSQL CREATE ROLE password, "+drv, "pgrolefirstpw"+drv) + "'",
			"CREATE ROLE corpusdup PASSWORD '" + c.secret("PostgreSQL duplicate role's password, "+drv, "pgroledup"+drv) + "'",
			"CREATE ROLE corpusdup2 PASSWORD 'x' PASSWORD '" + c.secret("PostgreSQL conflicting password, "+drv, "pgroleconflict"+drv) + "'",
			"CREATE ROLE corpusdup3 PASSWORD 'x' '" + c.secret("PostgreSQL password in a syntax error, "+drv, "pgrolesyntax"+drv) + "'",
			"CREATE ROLE corpusdup4 PASSWORD '" + c.secret("PostgreSQL password before a bad VALID UNTIL, "+drv, "pgrolevalid"+drv) + "' VALID UNTIL 'never'",
			"DO $$ BEGIN CREATE ROLE corpusdup PASSWORD '" + c.secret("PostgreSQL DO block's duplicate role's password, "+drv, "pgroledo"+drv) + "'; END $$",
			"DO $$ BEGIN EXECUTE 'CREATE ROLE corpusdup PASSWORD ''" + c.secret("PostgreSQL EXECUTE's duplicate role's password, "+drv, "pgroleexec"+drv) + "'''; END $$",
		} {
			_, err := db.ExecContext(ctx, q)
			if i == 0 && drv == "pgx" && err != nil {
				t.Errorf("%s: %v", drv, err)
			} else if i > 0 && err == nil {
				t.Errorf("%s: %q succeeded", drv, q)
			}
		}
		db.Close()
	}
}

// postgresCalls runs statements with literals of every PostgreSQL kind, and
// an error that quotes one, on a real PostgreSQL.
func postgresCalls(t *testing.T, ctx context.Context, c *corpus, db *sql.DB) {
	query := func(q string) {
		rows, err := db.QueryContext(ctx, q)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			rows.Close()
		}
		if err != nil && !strings.Contains(q, "pgerr") {
			t.Errorf("%s: %v", q, err)
		}
	}
	query(`SELECT E'pw\'` + c.secret("PostgreSQL escape string", "pgescapeval") + `'`)
	query(`SELECT $$` + c.secret("PostgreSQL dollar-quoted string", "pgdollarval") + `$$`)
	query(`SELECT $tag$` + c.secret("PostgreSQL tagged dollar-quoted string", "pgtagval") + ` $$ $tag$`)
	query(`SELECT ARRAY['` + c.secret("PostgreSQL array element", "pgarrayval") + `', 'card-4111']`)
	query(`SELECT 1 /* a /* nested */ ` + c.secret("PostgreSQL nested comment", "pgnestedval") + ` */`)
	query(`SELECT U&'` + c.secret("PostgreSQL Unicode string", "pgunicodeval") + `'`)
	query(`SELECT '` + c.secret("PostgreSQL error: the rejected value quoted", "pgerrval") + `'::int`)
	// A password without quotes: a syntax error, which quotes it.
	query(`ALTER ROLE appstats PASSWORD ` + c.secret("PostgreSQL password without quotes", "pgerrbarepw"))
	// The whole run of tokens up to white space (review 40).
	query(`ALTER ROLE appstats PASSWORD pgerrrunhead!` + c.secret("PostgreSQL password without quotes, after a sign", "pgerrruntail"))
	// A user mapping's option without quotes (round 41): a syntax
	// error, which quotes it.
	query(`ALTER USER MAPPING FOR pgerrnobody SERVER pgerrnoserver OPTIONS (SET password ` + c.secret("PostgreSQL user mapping password without quotes", "pgerrmappingpw") + `)`)
	// Round 42: a DO block and a function's body that hold a password
	// without quotes; the server's error quotes it. (Round 43: such a
	// body in PL/pgSQL is read as code, its password hidden as in any
	// body.)
	query(`DO $$ BEGIN ALTER ROLE pgerrnobody PASSWORD ` + c.secret("PostgreSQL DO block's password without quotes", "pgdobarepw") + `; END $$`)
	query(`CREATE FUNCTION pgerrf() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN ALTER ROLE pgerrnobody PASSWORD ` +
		c.secret("PostgreSQL function body's password without quotes", "pgfuncbarepw") + `; END $f$; SELECT pgerrf()`)
	c.readable("PostgreSQL statement", "SELECT ?::int")
}

// mysqlCalls runs MySQL statements through a MySQL-dialect driver.
func mysqlCalls(ctx context.Context, c *corpus, db *sql.DB) {
	query := func(q string) {
		if rows, err := db.QueryContext(ctx, q); err == nil {
			rows.Close()
		}
	}
	query(`SELECT * FROM t WHERE n = 'O\'` + c.secret("MySQL string after an escaped quote", "mysqlbrienval") +
		`' AND password = '` + c.secret("MySQL string after a backslash-escaped one", "mysqlpwval") + `'`)
	// A backslash may or may not escape (NO_BACKSLASH_ESCAPES), so all
	// after the first string above is hidden; a quote doubled is read one
	// way only, and what follows its string stays readable.
	query(`SELECT * FROM t WHERE n = 'O''` + c.secret("MySQL string after a doubled quote", "mysqldoubledval") +
		`' AND password = '` + c.secret("MySQL string after a doubled-quote one", "mysqlpw2val") + `'`)
	query(`SELECT 1 # ` + c.secret("MySQL # comment", "mysqlhashval"))
	// MySQL runs an executable comment's content as code: its quote
	// opens a string that runs past the "*/".
	query(`SELECT 1 /*! 'a */ , ` + c.secret("MySQL after an executable comment's quote", "mysqlexecval") + `, ' */`)
	query(`SELECT * FROM t WHERE n = "` + c.secret("MySQL double-quoted string", "mysqldqval") + `"`)
	query(`SELECT * FROM t WHERE n = 'mysqlerr` + c.secret("MySQL error: near the quoted literal", "mysqlerrval") + `'`)
	c.readable("MySQL statement", "SELECT * FROM t WHERE n = ? AND password = ?")
	// Passwords written without quotes, in each place one stands
	// (review 40), and statements that name no password.
	query(`CREATE USER bob IDENTIFIED WITH caching_sha2_password BY ` + c.secret("MySQL password without quotes after a plugin", "mysqlpluginpw"))
	query(`SET PASSWORD FOR bob = ` + c.secret("MySQL SET PASSWORD without quotes", "mysqlsetpw"))
	query(`GRANT ALL ON db.* TO bob IDENTIFIED BY ` + c.secret("MySQL GRANT password without quotes", "mysqlgrantpw"))
	query(`CHANGE MASTER TO MASTER_HOST = 'h', MASTER_PASSWORD = ` + c.secret("MySQL MASTER_PASSWORD without quotes", "mysqlmasterpw"))
	query(`CHANGE REPLICATION SOURCE TO SOURCE_PASSWORD=` + c.secret("MySQL SOURCE_PASSWORD without quotes", "mysqlsourcepw"))
	query(`ALTER USER bob IDENTIFIED BY mysqlrunhead-` + c.secret("MySQL password without quotes, after a sign", "mysqlruntail"))
	// Round 41: a foreign server's options, the current password
	// after REPLACE, MariaDB's PASSWORD(…).
	query(`CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (USER 'u', PASSWORD ` + c.secret("MySQL CREATE SERVER password without quotes", "mysqlserverpw") + `)`)
	query(`ALTER USER bob IDENTIFIED BY 'x' REPLACE ` + c.secret("MySQL REPLACE current password without quotes", "mysqlreplacepw"))
	query(`SET PASSWORD FOR bob = PASSWORD(` + c.secret("MariaDB PASSWORD() without quotes", "mariadbpwfunc") + `)`)
	// Review 41: a password statement after another statement.
	query(`SELECT 1; ALTER USER bob IDENTIFIED BY ` + c.secret("MySQL password without quotes after another statement", "mysqlsecondpw"))
	// Round 42: a password statement inside a stored procedure's,
	// trigger's or event's body; a password after an executable
	// comment that stands where it does.
	query(`CREATE PROCEDURE corpusp() BEGIN ALTER USER bob IDENTIFIED BY ` + c.secret("MySQL password without quotes in a procedure's body", "mysqlprocpw") + `; END`)
	query(`CREATE TRIGGER corpust BEFORE INSERT ON t FOR EACH ROW SET PASSWORD FOR bob = ` + c.secret("MySQL password without quotes in a trigger's body", "mysqltrigpw"))
	query(`CREATE EVENT corpuse ON SCHEDULE EVERY 1 DAY DO GRANT ALL ON *.* TO bob IDENTIFIED BY ` + c.secret("MySQL password without quotes in an event's body", "mysqleventpw"))
	query(`DO $$ BEGIN ALTER USER bob PASSWORD ` + c.secret("MySQL reading of a DO block's password without quotes", "mysqldopw") + `; END $$`)
	query(`ALTER USER bob IDENTIFIED BY /*!80000 x */ ` + c.secret("MySQL password after an executable comment where it stands", "mysqlafterexecpw"))
	// Review 42: MariaDB's SET STATEMENT … FOR <statement>, and
	// CLONE INSTANCE … IDENTIFIED BY.
	query(`SET STATEMENT max_statement_time=60 FOR ALTER USER bob IDENTIFIED BY ` + c.secret("MariaDB password without quotes in SET STATEMENT … FOR", "mariadbsetstmtpw"))
	query(`SET STATEMENT max_statement_time=60 FOR CHANGE MASTER TO MASTER_PASSWORD = ` + c.secret("MariaDB MASTER_PASSWORD without quotes in SET STATEMENT … FOR", "mariadbsetstmtmasterpw"))
	query(`CLONE INSTANCE FROM bob@donor:3306 IDENTIFIED BY ` + c.secret("MySQL CLONE INSTANCE password without quotes", "mysqlclonepw"))
	// Round 43: a body's UPDATE … SET password = … is a column's, kept
	// readable, with the secret beside it hidden.
	query(`CREATE PROCEDURE corpusq(IN pw TEXT) BEGIN UPDATE corpususers SET password = pw WHERE id = 7; ALTER USER bob IDENTIFIED BY ` +
		c.secret("MySQL password without quotes in a body after an UPDATE … SET password", "mysqlbodyafterupdatepw") + `; END`)
	c.readable("MySQL: a body's UPDATE … SET password = pw", "BEGIN UPDATE corpususers SET password = pw WHERE id = ?; ALTER USER bob IDENTIFIED BY ?; END")
	query(`ALTER TABLE user ADD COLUMN password VARCHAR(255)`)
	c.readable("MySQL: a table named user, a column named password", "ALTER TABLE user ADD COLUMN password VARCHAR(?)")
	query(`CREATE USER corpusbob IDENTIFIED BY RANDOM PASSWORD`)
	c.readable("MySQL: IDENTIFIED BY RANDOM PASSWORD", "CREATE USER corpusbob IDENTIFIED BY RANDOM PASSWORD")
}

// unknownCalls runs statements through the MySQL-dialect stub as a
// driver of no known dialect.
func unknownCalls(ctx context.Context, c *corpus, db *sql.DB) {
	query := func(q string) {
		if rows, err := db.QueryContext(ctx, q); err == nil {
			rows.Close()
		}
	}
	// MySQL's # comment inside what PostgreSQL reads as a quoted
	// identifier (and SQLite as a bracketed one).
	query("SELECT a FROM t #[\"\nWHERE b = c #" + c.secret("unknown dialect: a # comment in PostgreSQL's quoted identifier", "unknownhashval") + "\"]\n")
	query("SELECT /*!40001 SQL_NO_CACHE */ name FROM unknown_hinted")
	query("set password for bob=" + c.secret("unknown dialect: SET PASSWORD without quotes", "unknownsetpw"))
	query("SELECT 1; PRAGMA key = " + c.secret("unknown dialect: a key pragma after another statement", "unknownsecondkeypw"))
	c.readable("unknown dialect: MySQL's hint kept", "SELECT /*! SQL_NO_CACHE */ name FROM unknown_hinted")
}

// echoedDSNs connects through drivers whose errors echo their data
// source names without quotes, as some drivers' do: key=value pairs with
// quoted values holding spaces and "=", a backslash-escaped space, an
// sslpassword, options, a URL with an encoded password and secret query
// parameters, a MySQL DSN.
func echoedDSNs(ctx context.Context, c *corpus) {
	for _, e := range []struct{ system, dsn string }{
		{"postgresql", "host=db user=bob password='two words " + c.secret("echoed DSN: a quoted key=value password with spaces", "echoquotedpw9") + "' dbname=shop"},
		{"postgresql", "host=db user=bob password='a=b " + c.secret("echoed DSN: a quoted key=value password with =", "echoeqpw9") + "=c' dbname=shop"},
		{"postgresql", `host=db user=bob password=hun\ ` + c.secret("echoed DSN: a password's backslash-escaped space", "echoescapedpw9") + " dbname=shop"},
		{"postgresql", "host=db sslpassword=" + c.secret("echoed DSN: sslpassword", "echosslpw9") + " dbname=shop"},
		{"postgresql", "host=db options='-c password=" + c.secret("echoed DSN: a password in options", "echooptpw9") + "' dbname=shop"},
		{"postgresql", "postgres://bob:" + c.secret("echoed DSN: a URL's encoded password", "echourl%40pw9") + "@db/shop?sslpassword=" +
			c.secret("echoed DSN: a URL's sslpassword", "echourlssl9") + "&password=" + c.secret("echoed DSN: a URL's password parameter", "echourlqpw9")},
		{"mysql", "bob:" + c.secret("echoed DSN: a MySQL DSN's password", "echomypw9") + "@tcp(db:3306)/shop"},
		// Round 43: passwords with white space, "@", ":", "/", "(",
		// as go-sql-driver/mysql and libpq read them.
		{"mysql", "bob:two " + c.secret("echoed DSN: a MySQL password after a space", "echomyspacepw9") + "@tcp(db:3306)/shop"},
		{"mysql", "bob:a@b:c/d(e " + c.secret("echoed DSN: a MySQL password with @ : / ( and a space", "echomyoddpw9") + "@unix(/tmp/my.sock)/shop"},
		{"postgresql", "postgres://bob:two " + c.secret("echoed DSN: a URL's password after a space", "echourlspacepw9") + "@db/shop"},
		{"postgresql", "postgres://db/shop?password=two " + c.secret("echoed DSN: a URL's password parameter after a space", "echourlqspacepw9") + "&sslmode=disable"},
		// Round 44: passwords that begin with digits and white space
		// or a ":" (read as a clock time's, a line number's, a port's),
		// a Redis URL's password after an empty user, pgx's quoted
		// values with an escaped quote.
		{"mysql", "bob:12 " + c.secret("echoed DSN: a MySQL password of digits, a space and more", "echomydigitpw9") + "@tcp(127.0.0.1:3306)/shop"},
		{"mysql", "bob:12:34 " + c.secret("echoed DSN: a MySQL password of digits, a colon and more", "echomyclockpw9") + "@unix(/tmp/my.sock)/shop?parseTime=true"},
		{"mysql", "bob:p@ss " + c.secret("echoed DSN: a MySQL password with @ and a space, no net", "echomynonetpw9") + "@/shop?loc=UTC"},
		{"postgresql", "postgres://bob:12 " + c.secret("echoed DSN: a URL's password of digits and a space", "echourldigitpw9") + "@db:5432/shop"},
		{"postgresql", `host=db user=bob password='it\'s ` + c.secret("echoed DSN: a quoted key=value password with an escaped quote", "echoescquotepw9") + `' dbname=shop`},
		{"redis", "redis://:two " + c.secret("echoed DSN: a Redis URL's password after an empty user", "echoredispw9") + "@db:6379/0"},
		{"redis", "rediss://default:12 " + c.secret("echoed DSN: a Redis URL's password of digits and a space", "echoredisdigitpw9") + "@db:6379"},
	} {
		db := sql.OpenDB(sqlstats.WrapConnector(echoConnector{e.dsn}, sqlstats.WithSystem(e.system)))
		db.PingContext(ctx)
		db.Close()
	}
}

// echoConnector is a driver that fails to connect, its error holding its
// data source name as it is.
type echoConnector struct{ dsn string }

func (e echoConnector) Connect(context.Context) (driver.Conn, error) {
	return nil, errors.New("cannot connect to " + e.dsn + ": connection refused")
}
func (echoConnector) Driver() driver.Driver { return myDriver{} }

// myConnector is a database/sql driver that answers every query with no
// rows, and with MySQL's syntax error (which quotes the statement from where
// it failed) for a query holding "mysqlerr": a MySQL-dialect driver for the
// statements above, where no MySQL server can run.
type myConnector struct{}

func (myConnector) Connect(context.Context) (driver.Conn, error) { return myConn{}, nil }
func (myConnector) Driver() driver.Driver                        { return myDriver{} }

type myDriver struct{}

func (myDriver) Open(string) (driver.Conn, error) { return myConn{}, nil }

type myConn struct{}

func (myConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("mysql stub: no prepare") }
func (myConn) Close() error                        { return nil }
func (myConn) Begin() (driver.Tx, error)           { return nil, errors.New("mysql stub: no transactions") }

func (myConn) QueryContext(_ context.Context, q string, _ []driver.NamedValue) (driver.Rows, error) {
	if i := strings.Index(q, "mysqlerr"); i >= 0 {
		return nil, fmt.Errorf("Error 1064 (42000): You have an error in your SQL syntax; check the manual that "+
			"corresponds to your MySQL server version for the right syntax to use near '%s' at line 1", strings.TrimSuffix(q[i:], "'"))
	}
	return noRows{}, nil
}

type noRows struct{}

func (noRows) Columns() []string         { return nil }
func (noRows) Close() error              { return nil }
func (noRows) Next([]driver.Value) error { return io.EOF }

// readAPI reads every record through the dashboard's JSON API — the list,
// each full record, the statistics — and returns it all as compact JSON.
func readAPI(t *testing.T, st *badgerstore.Store) string {
	t.Helper()
	srv := httptest.NewServer(ui.NewHandler(st))
	defer srv.Close()
	get := func(path string) []byte {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s %v", path, resp.StatusCode, body, err)
		}
		return body
	}
	var out bytes.Buffer
	compact := func(body []byte) {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("API answer is not JSON: %v", err)
		}
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		enc.Encode(v)
	}
	var ids []string
	for before := ""; ; {
		body := get("/stats/api/records?limit=100" + before)
		compact(body)
		var page struct {
			Records []struct {
				ID string `json:"id"`
			} `json:"records"`
			Next string `json:"next"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			ids = append(ids, r.ID)
		}
		if page.Next == "" {
			break
		}
		before = "&before=" + url.QueryEscape(page.Next)
	}
	if len(ids) < 10 {
		t.Fatalf("the API lists %d records", len(ids))
	}
	sort.Strings(ids)
	for _, id := range ids {
		compact(get("/stats/api/records/" + id))
	}
	compact(get("/stats/api/stats?window=24h"))
	return out.String()
}

// keptSpans is an OpenTelemetry span exporter that keeps what it is given.
type keptSpans struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (k *keptSpans) ExportSpans(_ context.Context, s []sdktrace.ReadOnlySpan) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.spans = append(k.spans, s...)
	return nil
}

func (k *keptSpans) Shutdown(context.Context) error { return nil }

// text returns the spans kept as JSON: names, attributes, events, status,
// links and resources.
func (k *keptSpans) text(t *testing.T) []byte {
	t.Helper()
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.spans) < 10 {
		t.Fatalf("%d spans exported", len(k.spans))
	}
	b, err := json.Marshal(tracetest.SpanStubsFromReadOnlySpans(k.spans))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readPages returns the HTML of the dashboard, of its statistics and of
// every record's details page.
func readPages(t *testing.T, st *badgerstore.Store) []byte {
	t.Helper()
	srv := httptest.NewServer(ui.NewHandler(st))
	defer srv.Close()
	get := func(path string) []byte {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return body
	}
	out := append(get("/stats/"), get("/stats/part/stats")...)
	n := 0
	for before := ""; ; {
		var page struct {
			Records []struct {
				ID string `json:"id"`
			} `json:"records"`
			Next string `json:"next"`
		}
		if err := json.Unmarshal(get("/stats/api/records?limit=100"+before), &page); err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Records {
			out = append(out, get("/stats/records/"+r.ID)...)
			n++
		}
		if page.Next == "" {
			break
		}
		before = "&before=" + url.QueryEscape(page.Next)
	}
	if n < 10 {
		t.Fatalf("%d details pages", n)
	}
	return out
}

// readFiles returns the bytes of every file under dir.
func readFiles(t *testing.T, dir string) []byte {
	t.Helper()
	var all bytes.Buffer
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		all.Write(b)
		all.WriteByte(0)
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || all.Len() < 1024 {
		t.Fatalf("the data directory holds %d files, %d bytes", n, all.Len())
	}
	return all.Bytes()
}
