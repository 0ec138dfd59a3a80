package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestServeClosesIdleConnections: serve closes a keep-alive connection
// that asks nothing more for -idle-timeout after its last answer (without
// an idle timeout such a connection stayed open for good: ReadHeaderTimeout
// bounds only the headers of a request being read, and serve may listen
// beyond loopback). A bad -idle-timeout is refused.
func TestServeClosesIdleConnections(t *testing.T) {
	dir := dataDir(t, testRecords(1, 3))
	stdout, _, _ := background(t, "serve", "-data", dir, "-addr", "127.0.0.1:0", "-idle-timeout", "200ms")
	u, err := url.Parse(dashboardURL(t, stdout))
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /api/health HTTP/1.1\r\nHost: "+u.Host+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("api/health: %d, close %v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
	}
	// A hang guard only: serve closes the connection 200 ms after.
	c.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := io.Copy(io.Discard, br); err != nil {
		t.Fatalf("the idle connection was not closed by serve: %v", err)
	}

	for _, bad := range []string{"0s", "-1s", "soon"} {
		code, _, stderr := appstats(t, "", "serve", "-data", dir, "-addr", "127.0.0.1:0", "-idle-timeout", bad)
		if code == 0 || !strings.Contains(stderr, "idle-timeout") {
			t.Errorf("-idle-timeout %s: exit %d, %q", bad, code, stderr)
		}
	}
}
