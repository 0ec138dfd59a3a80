package ui_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/ui"
)

// TestLiveSlowClients: 500 clients ask for the live stream on the app's
// own server and never read a byte of the answer, while the recorder hands
// the Live batch after batch (a ping each 50 ms, a records event each 250
// ms a stream). The Live serves its cap of streams and refuses the others;
// the recorder's Write never waits for them (each returns, without error,
// within a bound of 10 s that only a hang passes); the app's own requests on the
// same server are answered all along; the heap grows by less than 64 KB a
// client; and once the clients hang up, every stream's goroutine is gone
// and no stream is counted.
func TestLiveSlowClients(t *testing.T) {
	const clients = 500
	const writeBound = 10 * time.Second
	l := ui.NewLive(ui.WithLiveKeepAlive(50 * time.Millisecond))
	defer l.Close()
	st, _ := newStore(t, 0)
	mux := http.NewServeMux()
	mux.Handle("/stats/", ui.NewHandler(st, ui.WithLive(l)))
	mux.HandleFunc("/app", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "app ok") })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutines := runtime.NumGoroutine()

	conns := make([]net.Conn, 0, clients)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range clients {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		conns = append(conns, c)
		if _, err := fmt.Fprintf(c, "GET /stats/events HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", host); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	waitSubscribers(t, l, ui.DefaultMaxStreams)

	// The recorder's batches, written all along, and the app's requests.
	recs := []*recording.Record{makeRecord(time.Now(), 1, "/", 200, 1)}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	writes := 0
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			// Each Write bounded (generously: a bound on a hang, not a
			// speed assert), so that one that waits for the clients fails
			// the test instead of hanging it.
			done := make(chan error, 1)
			go func() { done <- l.Write(context.Background(), recs) }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Live.Write: %v", err)
					return
				}
			case <-time.After(writeBound):
				t.Errorf("Live.Write did not return in %v: it waits for the clients", writeBound)
				return
			}
			writes++
			time.Sleep(time.Millisecond)
		}
	}()
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	for i := range 50 {
		resp, err := client.Get(srv.URL + "/app")
		if err != nil {
			t.Fatalf("app request %d: %v", i, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "app ok" {
			t.Fatalf("app request %d: %d %q", i, resp.StatusCode, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// One more stream, read: refused with the cap's 503, as the 244 unread.
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /stats/events HTTP/1.1\r\nHost: %s\r\n\r\n", host)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	c.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a stream past the cap: %d, want 503", resp.StatusCode)
	}
	tr.CloseIdleConnections()
	close(stop)
	wg.Wait()
	if writes == 0 {
		t.Fatal("no batch written")
	}

	runtime.GC()
	var during runtime.MemStats
	runtime.ReadMemStats(&during)
	if grew := int64(during.HeapInuse) - int64(before.HeapInuse); grew > clients*64<<10 {
		t.Errorf("the heap grew by %d bytes with %d clients holding streams unread, want under %d", grew, clients, clients*64<<10)
	}
	t.Logf("%d batches written; heap in use %d → %d bytes; %d goroutines → %d", writes, before.HeapInuse, during.HeapInuse, goroutines, runtime.NumGoroutine())

	for _, c := range conns {
		c.Close()
	}
	conns = nil
	waitSubscribers(t, l, 0)
	deadline := time.Now().Add(browsertest.Patience)
	for runtime.NumGoroutine() > goroutines {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after the clients hung up, %d before them", runtime.NumGoroutine(), goroutines)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
