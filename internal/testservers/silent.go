package testservers

import (
	"net"
	"sync"
	"testing"
)

// Silent starts a server on a loopback port that accepts connections and
// never reads from them nor answers — a collector, a Redis or any peer
// that hangs — and returns its address (host:port). The listener and the
// connections it accepted are closed, and its goroutine has returned, when
// t ends.
func Silent(t testing.TB) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		lis.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return lis.Addr().String()
}
