package main

import (
	"bufio"
	"io"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestServeBoundsRequestBodies: serve closes a connection whose request
// declared a body that does not come, after -read-timeout. Before, such a
// connection was held for good, past the headers' timeout and outside the
// idle timeout (net/http reads a body the handler left to its end before
// it answers), by anyone who could connect, with or without credentials.
// A bad -read-timeout is refused.
func TestServeBoundsRequestBodies(t *testing.T) {
	dir := dataDir(t, testRecords(1, 3))
	stdout, _, _ := background(t, "serve", "-data", dir, "-addr", "127.0.0.1:0", "-read-timeout", "200ms")
	u, err := url.Parse(dashboardURL(t, stdout))
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []string{
		"GET /api/health HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Length: 10\r\n\r\n",
		"POST /api/health HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Length: 1000\r\n\r\nx",
		"POST /clear HTTP/1.1\r\nHost: " + u.Host + "\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n",
	} {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		// A hang guard only: serve closes the connection 200 ms after.
		c.SetReadDeadline(time.Now().Add(time.Minute))
		if _, err := io.Copy(io.Discard, bufio.NewReader(c)); err != nil {
			t.Errorf("%q: the connection was not closed by serve: %v", strings.SplitN(req, "\r\n", 2)[0], err)
		}
		c.Close()
	}
	for _, bad := range []string{"0s", "-1s", "soon"} {
		code, _, stderr := appstats(t, "", "serve", "-data", dir, "-addr", "127.0.0.1:0", "-read-timeout", bad)
		if code == 0 || !strings.Contains(stderr, "read-timeout") {
			t.Errorf("-read-timeout %s: exit %d, %q", bad, code, stderr)
		}
	}
}
