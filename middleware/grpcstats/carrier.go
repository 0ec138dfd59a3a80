package grpcstats

import (
	"context"
	"strings"
	"unsafe"

	"google.golang.org/grpc/metadata"

	"github.com/goappstats/appstats/recording"
)

// MetadataCarrier adapts gRPC metadata to a [recording.Carrier] (and so to an
// OpenTelemetry TextMapCarrier). Keys are lowercased, as gRPC requires.
type MetadataCarrier metadata.MD

var _ recording.Carrier = MetadataCarrier(nil)

// Get returns the first value of key, or "".
func (c MetadataCarrier) Get(key string) string {
	vs := metadata.MD(c).Get(key)
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// Set replaces the values of key.
func (c MetadataCarrier) Set(key, value string) { metadata.MD(c).Set(key, value) }

// Keys returns the keys present.
func (c MetadataCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// outgoingCarrier collects what a propagator injects into a call's outgoing
// metadata. Get and Keys see the metadata already in the context as well.
type outgoingCarrier struct {
	ctx context.Context
	kv  []string // key, value pairs; keys lowercased
	buf [4]string
}

func (c *outgoingCarrier) Get(key string) string {
	key = strings.ToLower(key)
	for i := len(c.kv) - 2; i >= 0; i -= 2 {
		if c.kv[i] == key {
			return c.kv[i+1]
		}
	}
	if vs := metadata.ValueFromOutgoingContext(c.ctx, key); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

func (c *outgoingCarrier) Set(key, value string) {
	key = strings.ToLower(key)
	for i := 0; i < len(c.kv); i += 2 {
		if c.kv[i] == key {
			c.kv[i+1] = value
			return
		}
	}
	c.kv = append(c.kv, key, value)
}

func (c *outgoingCarrier) Keys() []string {
	md, _ := metadata.FromOutgoingContext(c.ctx)
	keys := make([]string, 0, len(md)+len(c.kv)/2)
	for k := range md {
		keys = append(keys, k)
	}
	for i := 0; i < len(c.kv); i += 2 {
		if _, ok := md[c.kv[i]]; !ok {
			keys = append(keys, c.kv[i])
		}
	}
	return keys
}

// inject writes tc into ctx's outgoing metadata through p. Fields the context
// already carries (set by the application or by other instrumentation) are
// replaced, not duplicated: a receiver reads the first value. The W3C
// propagator's traceparent is formatted into buf when it is not nil, and
// the value shares its bytes rather than a string of its own: buf must be
// written by nothing else, ever (a call's state, never reused, holds it).
func inject(ctx context.Context, p recording.Propagator, tc recording.TraceContext, buf *[recording.TraceparentLen]byte) context.Context {
	if _, w3c := p.(recording.W3CPropagator); w3c && tc.State == "" {
		if !tc.IsValid() {
			return ctx // W3CPropagator.Inject writes nothing
		}
		// The default, without the carrier's allocation.
		var tp string
		if buf != nil {
			b := recording.AppendTraceparent(buf[:0], tc)
			tp = unsafe.String(unsafe.SliceData(b), len(b))
		} else {
			tp = recording.FormatTraceparent(tc)
		}
		if len(metadata.ValueFromOutgoingContext(ctx, "traceparent")) == 0 {
			return metadata.AppendToOutgoingContext(ctx, "traceparent", tp)
		}
		md, _ := metadata.FromOutgoingContext(ctx)
		md.Set("traceparent", tp)
		return metadata.NewOutgoingContext(ctx, md)
	}
	c := outgoingCarrier{ctx: ctx}
	c.kv = c.buf[:0]
	p.Inject(ctx, tc, &c)
	if len(c.kv) == 0 {
		return ctx
	}
	for i := 0; i < len(c.kv); i += 2 {
		if len(metadata.ValueFromOutgoingContext(ctx, c.kv[i])) > 0 {
			md, _ := metadata.FromOutgoingContext(ctx)
			for j := 0; j < len(c.kv); j += 2 {
				md.Set(c.kv[j], c.kv[j+1])
			}
			return metadata.NewOutgoingContext(ctx, md)
		}
	}
	return metadata.AppendToOutgoingContext(ctx, c.kv...)
}
