package convention

import (
	"strconv"
	"strings"
)

// GRPCCodeName returns the name of a gRPC status code as
// google.golang.org/grpc/codes spells it for people ("NotFound" for 5), or
// "Code(n)" for a number gRPC does not define, as codes.Code.String does —
// without importing gRPC. It is [GRPCStatusName]'s name in camel case
// (gRPC spells CANCELLED "Canceled" there).
func GRPCCodeName(code int) string {
	if code < 0 || code >= len(grpcStatusNames) {
		return "Code(" + strconv.Itoa(code) + ")"
	}
	if code == 1 {
		return "Canceled"
	}
	if code == 0 {
		return "OK"
	}
	var b strings.Builder
	for w := range strings.SplitSeq(grpcStatusNames[code], "_") {
		b.WriteString(w[:1])
		b.WriteString(strings.ToLower(w[1:]))
	}
	return b.String()
}
