package httpstats_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/goappstats/appstats/middleware/httpstats"
)

// tapWriter counts the bytes a hijacked connection's bufio.Writer sends.
type tapWriter struct {
	c net.Conn
	n *atomic.Int64
}

func (t tapWriter) Write(p []byte) (int, error) { t.n.Add(int64(len(p))); return t.c.Write(p) }

// tapHijacker is a writer of other middleware below appstats whose Hijack
// returns the connection and a ReadWriter whose Writer goes through its
// own tap (a byte meter, a logger) before the connection.
type tapHijacker struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w tapHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return c, brw, err
	}
	return c, bufio.NewReadWriter(brw.Reader, bufio.NewWriter(tapWriter{c, w.n})), nil
}

// TestHijackWatchKeepsHijackersWriter: the bytes a handler writes through
// the hijack's ReadWriter go where the Hijacker below made them go.
func TestHijackWatchKeepsHijackersWriter(t *testing.T) {
	rec, _ := newRecorder(t)
	var tapped atomic.Int64
	mw := httpstats.NewHandler(rec, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
	}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mw.ServeHTTP(tapHijacker{w, &tapped}, r)
	}))
	defer srv.Close()
	c := dialUpgrade(t, srv)
	line, _ := bufio.NewReader(c).ReadString('\n')
	if line != "HTTP/1.1 101 Switching Protocols\r\n" {
		t.Fatalf("client read %q", line)
	}
	if tapped.Load() == 0 {
		t.Errorf("the Hijacker's own writer passed 0 bytes: appstats redirected the handler's bytes past it (Reset to the bare conn)")
	}
}
