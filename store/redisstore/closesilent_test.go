package redisstore_test

import (
	"bytes"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/store/redisstore"
)

// helloListener is a Redis that accepts connections, reads them, and
// never answers; hellos receives one value for every connection that
// sent its HELLO (go-redis's first command on a new connection).
func helloListener(t *testing.T) (addr string, hellos <-chan struct{}) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				var seen []byte
				buf := make([]byte, 4096)
				said := false
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					seen = append(seen, bytes.ToLower(buf[:n])...)
					if !said && bytes.Contains(seen, []byte("hello")) {
						said = true
						ch <- struct{}{}
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		lis.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return lis.Addr().String(), ch
}

// TestCloseWithinWriteTimeoutSilentServer: the store's own background
// question (Redis's INFO, for evictions, asked as the store starts and
// every 5 s) is bounded by WriteTimeout whatever the client's options,
// as New's is, so Close returns soon against a server that never
// answers. Before, with a client read timeout of an hour and no
// ContextTimeoutEnabled, the question (its connection's HELLO) waited the
// hour and Close with it: the suite's 30-minute timeout ended
// TestNewUnansweredWithinWriteTimeout that way.
func TestCloseWithinWriteTimeoutSilentServer(t *testing.T) {
	addr, hellos := helloListener(t)
	c := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: time.Hour, WriteTimeout: time.Hour, MaxRetries: -1})
	defer c.Close()
	s, err := redisstore.New(c, redisstore.Options{
		Prefix: "silent", FoldInterval: -1, RetentionInterval: -1,
		WriteTimeout: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	// New's question, then the eviction check's: both connections have
	// sent their HELLO, so the check is under way when Close is called.
	for i := range 2 {
		select {
		case <-hellos:
		case <-time.After(time.Minute):
			s.Close()
			t.Fatalf("%d connections said HELLO in a minute, want 2 (New's question and the eviction check)", i)
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case <-closed:
	case <-time.After(time.Minute):
		// A watchdog, far above WriteTimeout: without the bound Close
		// waits for the client's read timeout (an hour).
		c.Close() // ends the wait, so the goroutine ends with the test
		<-closed
		t.Fatal("Close still waits for an unanswered server a minute on (WriteTimeout 200ms)")
	}
}
