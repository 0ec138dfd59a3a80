package testservers

import (
	"net"
	"sync"
	"testing"
)

// Listen starts a server on a loopback port that hands each connection it
// accepts to handle, in the one goroutine that accepts them (the next is
// accepted once handle returns), and returns its address (host:port). The
// listener is closed, and its goroutine has returned, when t ends; the
// connections are handle's to close.
func Listen(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	}()
	t.Cleanup(func() {
		lis.Close()
		<-done
	})
	return lis.Addr().String()
}

// Silent starts a server on a loopback port that accepts connections and
// never reads from them nor answers — a collector, a Redis or any peer
// that hangs — and returns its address (host:port). The listener and the
// connections it accepted are closed, and its goroutine has returned, when
// t ends.
func Silent(t testing.TB) string {
	t.Helper()
	var mu sync.Mutex
	var conns []net.Conn
	// Registered before Listen's: run after it, once no more connections
	// are accepted.
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return Listen(t, func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	})
}
