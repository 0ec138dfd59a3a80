package otelexport

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"golang.org/x/net/http/httpguts"
	"google.golang.org/grpc"

	"github.com/goappstats/appstats/internal/redact"
)

// NewOTLPHTTP returns an [Exporter] that sends records as OTLP/HTTP
// (protobuf) to a collector. The endpoint and the rest of the transport are
// configured by the standard OTEL_EXPORTER_OTLP_* (and
// OTEL_EXPORTER_OTLP_TRACES_*) environment variables, by default
// https://localhost:4318/v1/traces; options given with [WithHTTPOptions] win
// over them. No connection is made until the first export. An endpoint in
// the environment that does not parse as a URL, or OTLP headers that do
// not parse (an entry with no '=', a key that is not a header name, a
// value whose '%' escapes nothing), is an error that shows neither the
// endpoint's password nor a header's value: the OTLP exporter would log
// them, secrets and all, through OpenTelemetry's global logger (stderr by
// default), and go on without them.
//
// [Exporter.Close] closes the connections the exporter's requests went
// over, which otlptracehttp would otherwise keep in its pool, idle, for
// 90 s (two goroutines each): the exporter has a transport of its own,
// not otlptracehttp's process-wide one, which other OTLP exporters of the
// process share. A client of yours given with
// [otlptracehttp.WithHTTPClient], or a transport of yours given with
// [otlptracehttp.WithProxy], is left as it is: its connections may serve
// your other requests once the exporter's are over, so they are yours to
// close.
func NewOTLPHTTP(ctx context.Context, opts ...Option) (*Exporter, error) {
	if err := checkEnv("http/protobuf"); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	// A proxy option of ours, first, gives the exporter a transport of its
	// own (otlptracehttp clones its process-wide one), whose connections
	// Close may close (see watch.proxy).
	w := newWatch()
	httpOpts := append([]otlptracehttp.Option{otlptracehttp.WithProxy(w.proxy)}, cfg.httpOpts...)
	exp, err := otlptracehttp.New(ctx, httpOpts...)
	if err != nil {
		return nil, fmt.Errorf("otelexport: otlp/http exporter: %w", err)
	}
	return New(exp, append(withEnvTimeout(cfg, opts), withWatch(w))...), nil
}

// NewOTLPGRPC returns an [Exporter] that sends records as OTLP/gRPC to a
// collector. The endpoint and the rest of the transport are configured by the
// standard OTEL_EXPORTER_OTLP_* (and OTEL_EXPORTER_OTLP_TRACES_*) environment
// variables, by default localhost:4317 with TLS; options given with
// [WithGRPCOptions] win over them. The connection is made lazily. An
// endpoint or OTLP headers in the environment that do not parse are an
// error, as for [NewOTLPHTTP].
//
// While the collector is down, the connection is tried again at least every
// 5 s, ±20% (gRPC's own backoff grows to 2 minutes, which spans
// queued through a long outage would wait after the collector is back).
// The exporter's own dial options, this bound and an interceptor that
// notes the headers given in code with [otlptracegrpc.WithHeaders] (to
// hide their values from the errors logged, see [WithLogger]), come
// before those of an [otlptracegrpc.WithDialOption] of yours (the last,
// as otlptracegrpc keeps): yours are chained after them, not put in their
// place, so that a [grpc.WithConnectParams] of yours sets the backoff,
// and an interceptor of yours runs as well as the exporter's.
//
// A connection of yours, given with [otlptracegrpc.WithGRPCConn], is
// used as it is: the exporter adds nothing to it (its dial options are
// set when it is made), so neither the bound on the wait between
// attempts to connect (the connection's own backoff applies: gRPC's
// default grows to 2 minutes, unless you dialled it with
// [grpc.WithConnectParams]) nor the exporter's interceptor is on it. The
// values of the OTLP headers (the environment's, and those given with
// [otlptracegrpc.WithHeaders]) are hidden all the same, read from the
// OTLP exporter when it is made; a collector's Retry-After then counts
// from the end of the export it refused rather than from its answer.
// Close leaves the connection open: it is yours to close.
func NewOTLPGRPC(ctx context.Context, opts ...Option) (*Exporter, error) {
	if err := checkEnv("grpc"); err != nil {
		return nil, err
	}
	cfg := newConfig(opts)
	w := newWatch()
	own := []grpc.DialOption{reconnectBound(), grpc.WithChainUnaryInterceptor(w.unary)}
	// otlptracegrpc keeps the last WithDialOption: the exporter's, with
	// the user's after them, is put last.
	grpcOpts := append(slices.Clip(cfg.grpcOpts),
		otlptracegrpc.WithDialOption(append(own, userDialOptions(cfg.grpcOpts)...)...))
	exp, err := otlptracegrpc.New(ctx, grpcOpts...)
	if err != nil {
		return nil, fmt.Errorf("otelexport: otlp/grpc exporter: %w", err)
	}
	// Hidden from the start, whatever connection the exports go over: the
	// interceptor is not on a connection of the user's (WithGRPCConn).
	for _, v := range sentHeaders(exp) {
		w.addSecret(v)
	}
	return New(exp, append(withEnvTimeout(cfg, opts), withWatch(w))...), nil
}

// sentHeaders returns the values of the headers (gRPC metadata) that
// exp, an OTLP/gRPC exporter, sends with every export: those of the
// environment and those given in code with [otlptracegrpc.WithHeaders].
// otlptracegrpc keeps them in its client's unexported metadata field,
// read here by reflection (without applying any option a second time);
// TestGRPCConnHeadersHidden fails if that changes. The values are
// noted by the exporter's interceptor as well, on a connection the
// exporter makes.
func sentHeaders(exp any) (values []string) {
	defer func() {
		if recover() != nil {
			values = nil
		}
	}()
	v := reflect.ValueOf(exp)
	// *otlptrace.Exporter, its client (an interface), *otlptracegrpc.client.
	for _, step := range []string{"client", ""} {
		if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
			return nil
		}
		v = v.Elem()
		if step == "" {
			break
		}
		if v = v.FieldByName(step); v.Kind() != reflect.Interface || v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	md := v.FieldByName("metadata")
	if md.Kind() != reflect.Map {
		return nil
	}
	for it := md.MapRange(); it.Next(); {
		if k, vs := it.Key(), it.Value(); k.Kind() == reflect.String && !slices.Contains(ownHeaders, k.String()) && vs.Kind() == reflect.Slice {
			for i := range vs.Len() {
				if s := vs.Index(i); s.Kind() == reflect.String {
					values = append(values, s.String())
				}
			}
		}
	}
	return values
}

// userDialOptions returns the dial options of the last
// otlptracegrpc.WithDialOption among opts, the one otlptracegrpc would
// keep, or nil. otlptracegrpc offers no way to read them: each option is
// applied, by reflection, to an empty configuration (its exported
// GRPCOption's ApplyGRPCOption), and the DialOptions it sets read back;
// TestUserDialOptionKeepsHeadersHidden fails if that changes. An option
// that cannot be read so is taken as setting none.
func userDialOptions(opts []otlptracegrpc.Option) []grpc.DialOption {
	var found []grpc.DialOption
	for _, o := range opts {
		if d, ok := dialOptionsOf(o); ok {
			found = d
		}
	}
	return found
}

// dialOptionsOf returns the dial options o sets, and whether it sets
// some (an otlptracegrpc.WithDialOption), nil ones left out. Only the
// options otlptracegrpc makes for gRPC alone (otlpconfig's grpcOption:
// WithDialOption, WithGRPCConn, WithReconnectionPeriod, …) are applied,
// not the generic ones, which otlptracegrpc.New applies already: a
// malformed WithEndpointURL logs its error when applied, and was logged
// twice.
func dialOptionsOf(o otlptracegrpc.Option) (d []grpc.DialOption, ok bool) {
	defer func() {
		if recover() != nil {
			d, ok = nil, false
		}
	}()
	v := reflect.ValueOf(o)
	if !v.IsValid() || v.Kind() != reflect.Struct {
		return nil, false
	}
	f := v.FieldByName("GRPCOption")
	if !f.IsValid() || f.Kind() != reflect.Interface || f.IsNil() {
		return nil, false
	}
	if t := f.Elem().Type(); t.Kind() != reflect.Pointer || t.Elem().Name() != "grpcOption" {
		return nil, false
	}
	m := f.MethodByName("ApplyGRPCOption")
	if !m.IsValid() || m.Type().NumIn() != 1 || m.Type().NumOut() != 1 {
		return nil, false
	}
	out := m.Call([]reflect.Value{reflect.New(m.Type().In(0)).Elem()})[0]
	if out.Kind() != reflect.Struct {
		return nil, false
	}
	df := out.FieldByName("DialOptions")
	if !df.IsValid() || df.IsNil() || !df.CanInterface() {
		return nil, false
	}
	d, ok = df.Interface().([]grpc.DialOption)
	if !ok || d == nil {
		return nil, false
	}
	return appendNonNil([]grpc.DialOption{}, d), true
}

// maxReconnectDelay is the longest wait of the OTLP/gRPC exporter between two
// attempts to connect to its collector, before gRPC's jitter of ±20%.
const maxReconnectDelay = 5 * time.Second

// reconnectBound bounds gRPC's connect backoff by maxReconnectDelay, and
// sets nothing else: grpc.WithConnectParams would also set the minimum
// connect timeout, over an otlptracegrpc.WithReconnectionPeriod (which
// otlptracegrpc places before the dial options).
func reconnectBound() grpc.DialOption {
	//lint:ignore SA1019 the one dial option that sets the backoff alone; supported throughout gRPC 1.x.
	return grpc.WithBackoffMaxDelay(maxReconnectDelay)
}

// withEnvTimeout returns opts, and, unless they set the export timeout,
// the OTLP timeout of the environment as the Exporter's bound of each
// export: the OTLP exporter bounds its exports (retries included) by it,
// and a shorter bound around them would cut a longer timeout set for a slow
// collector.
func withEnvTimeout(cfg config, opts []Option) []Option {
	if cfg.timeoutSet {
		return slices.Clip(opts)
	}
	for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "OTEL_EXPORTER_OTLP_TIMEOUT"} {
		if ms, err := strconv.Atoi(strings.TrimSpace(os.Getenv(v))); err == nil && ms > 0 {
			return append(slices.Clip(opts), WithExportTimeout(time.Duration(ms)*time.Millisecond))
		}
	}
	return slices.Clip(opts)
}

// NewFromEnv returns an OTLP [Exporter] configured by the environment, as
// OpenTelemetry SDKs are: it returns (nil, nil) when neither
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT nor OTEL_EXPORTER_OTLP_ENDPOINT is set,
// or when the environment turns export off as the OpenTelemetry
// specification says (OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none);
// and otherwise an exporter using the protocol named by
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
// or "http/protobuf" (the default). Any other protocol is an error, as is
// an endpoint that does not parse as a URL (its password hidden), or
// OTLP headers that do not parse (see [NewOTLPHTTP]).
func NewFromEnv(ctx context.Context, opts ...Option) (*Exporter, error) {
	if os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" {
		return nil, nil
	}
	if exportOffByEnv() {
		return nil, nil
	}
	proto := os.Getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if proto == "" {
		proto = os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch strings.TrimSpace(proto) {
	case "", "http/protobuf":
		return NewOTLPHTTP(ctx, opts...)
	case "grpc":
		return NewOTLPGRPC(ctx, opts...)
	default:
		return nil, fmt.Errorf("otelexport: OTLP protocol %q not supported (want grpc or http/protobuf)", proto)
	}
}

// checkEnv refuses the OTLP exporter's environment variables that it would
// log, secrets and all, through OpenTelemetry's global logger (stderr by
// default) before going on without them: an endpoint that does not parse
// as a URL, and headers that do not parse. proto is the exporter's
// protocol, "grpc" or "http/protobuf". The errors name the variable, and
// show no header's value.
func checkEnv(proto string) error {
	// An endpoint that does not parse would be logged, password and all,
	// and the SDK's default endpoint used instead (localhost, whatever
	// host the value names); a password that holds an unescaped '#', '?'
	// or '/' parses as a host:port, where the exporter would send
	// (redact.Parse).
	like := "http://host:4318"
	if proto == "grpc" {
		like = "http://host:4317"
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"} {
		if v := os.Getenv(name); v != "" {
			if _, ok := redact.Parse(v); !ok {
				return fmt.Errorf("otelexport: %s=%q is not a URL like %s (with its scheme)", name, redact.URL(v), like)
			}
		}
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"} {
		if err := checkHeaders(os.Getenv(name)); err != nil {
			return fmt.Errorf("otelexport: %s: %w (the value is not shown)", name, err)
		}
	}
	return nil
}

// checkHeaders reports the first entry of v, a list of OTLP headers
// (key=value pairs, comma-separated, values percent-encoded), that the
// OTLP exporters would log and drop: one with no '=', a key that is not a
// header name, or a value that does not decode. It names the entry by its
// place and, when it is a header name, its key; a blank entry (a trailing
// comma) is let through.
func checkHeaders(v string) error {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	i := 0
	for entry := range strings.SplitSeq(v, ",") {
		i++
		if strings.TrimSpace(entry) == "" {
			continue
		}
		key, value, ok := strings.Cut(entry, "=")
		key = strings.TrimSpace(key)
		switch {
		case !ok:
			return fmt.Errorf("header %d is not key=value (a ':' for '=', say)", i)
		case !httpguts.ValidHeaderFieldName(key):
			return fmt.Errorf("the key of header %d is not a header name", i)
		}
		if _, err := url.PathUnescape(value); err != nil {
			return fmt.Errorf("the value of header %d (%s) is not percent-encoded: a '%%' not followed by two hex digits", i, key)
		}
	}
	return nil
}

// exportOffByEnv reports whether the environment turns trace export off:
// OTEL_SDK_DISABLED is "true" (in any case, the specification's only true
// value), or OTEL_TRACES_EXPORTER names "none" and no exporter besides (SDKs
// ignore a "none" listed with others).
func exportOffByEnv() bool {
	if strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true") {
		return true
	}
	none := false
	for e := range strings.SplitSeq(os.Getenv("OTEL_TRACES_EXPORTER"), ",") {
		switch strings.TrimSpace(e) {
		case "":
		case "none":
			none = true
		default:
			return false
		}
	}
	return none
}
