package convention

import "net/textproto"

// CanonicalHeaderKey is [textproto.CanonicalMIMEHeaderKey] (and so
// [net/http.CanonicalHeaderKey]) without its allocation for the
// propagation fields set on every outgoing call: traceparent, tracestate
// and baggage.
func CanonicalHeaderKey(key string) string {
	switch key {
	case "traceparent":
		return "Traceparent"
	case "tracestate":
		return "Tracestate"
	case "baggage":
		return "Baggage"
	}
	return textproto.CanonicalMIMEHeaderKey(key)
}
