package convention_test

import (
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/goappstats/appstats/internal/convention"
)

// The names are gRPC's own.
func TestGRPCCodeName(t *testing.T) {
	for n := -1; n <= 20; n++ {
		want := codes.Code(uint32(n)).String()
		if n < 0 {
			want = "Code(-1)"
		}
		if got := convention.GRPCCodeName(n); got != want {
			t.Errorf("GRPCCodeName(%d) = %q, want %q", n, got, want)
		}
	}
}
