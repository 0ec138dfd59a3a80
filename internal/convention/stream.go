package convention

import "strconv"

// Systems of the long-lived connections appstats' adapters record: the
// messaging.system of their records, and the service of the calls that send
// to them.
const (
	SystemWebSocket = "websocket"
	SystemSSE       = "sse"
)

// WebSocketMessageType names a websocket message by its opcode (RFC 6455,
// the value of both coder/websocket's and gorilla/websocket's message type
// constants): "text" (1), "binary" (2), else "opcode N".
func WebSocketMessageType(opcode int) string {
	switch opcode {
	case 1:
		return "text"
	case 2:
		return "binary"
	}
	return "opcode " + strconv.Itoa(opcode)
}

// WebSocketConnect is the detail of a websocket connection's "connect"
// event: its negotiated subprotocol, if any.
func WebSocketConnect(subprotocol string) string {
	if subprotocol == "" {
		return ""
	}
	return "subprotocol " + subprotocol
}

// CloseDetail describes how a connection closed, for the detail of its
// record's "close" event: "closed by the client: 1001 going away" (by is
// "client" or "server"; a reason may be empty).
func CloseDetail(by string, code int, reason string) string {
	s := "closed by the " + by + ": " + strconv.Itoa(code)
	if reason != "" {
		s += " " + reason
	}
	return s
}

// The values of KeySpanKind.
const (
	SpanKindInternal = "internal"
	SpanKindProducer = "producer"
)

// MessagingSend is the messaging.operation.type (and name) of a message
// sent, as OpenTelemetry's messaging conventions name it.
const MessagingSend = "send"
