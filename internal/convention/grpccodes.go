package convention

import "strconv"

// grpcCodeNames are the names of the gRPC status codes, as
// google.golang.org/grpc/codes spells them, by number.
var grpcCodeNames = [...]string{
	"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
	"AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
	"Unauthenticated",
}

// GRPCCodeName returns the name of a gRPC status code ("NotFound" for 5),
// or "Code(n)" for a number gRPC does not define, as codes.Code.String
// does — without importing gRPC.
func GRPCCodeName(code int) string {
	if code >= 0 && code < len(grpcCodeNames) {
		return grpcCodeNames[code]
	}
	return "Code(" + strconv.Itoa(code) + ")"
}
