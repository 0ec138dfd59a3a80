package netstats_test

import (
	"context"
	"net"
	"testing"

	"github.com/goappstats/appstats/middleware/netstats"
)

// TestNilResolver checks that a nil *Resolver resolves as a nil
// *net.Resolver does, with net.DefaultResolver, rather than panicking.
func TestNilResolver(t *testing.T) {
	var bare *net.Resolver
	want, werr := bare.LookupHost(context.Background(), "localhost")
	var r *netstats.Resolver
	var got []string
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("LookupHost on a nil *Resolver panicked: %v", p)
			}
		}()
		got, err = r.LookupHost(context.Background(), "localhost")
	}()
	if (err == nil) != (werr == nil) || len(got) != len(want) {
		t.Errorf("LookupHost: %v, %v; a nil *net.Resolver: %v, %v", got, err, want, werr)
	}
}
