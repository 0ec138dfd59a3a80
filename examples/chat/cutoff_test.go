package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestCutOffNotice: a browser whose connection ends after the first
// fragment of a message. coder/websocket v1.8.15 hands the fragment over
// as a whole message (upstream; see wsstats' TestCutOffMessage), so the
// hub handles what came: a fragment that is a whole notice passes the
// typing on, as it would have sent whole — the client chose those bytes,
// and gains nothing it could not have sent — and one that is not is a
// message record failed "not a notice". Either way the connection's
// record ends with the failed read.
func TestCutOffNotice(t *testing.T) {
	tc := startChat(t)
	other := tc.dialHub(t)
	// The dial returns once the client has the 101, maybe before the hub
	// has listed the connection: a typing passed on then misses it (CI197:
	// "read from hub: failed to get reader: context deadline exceeded").
	waitConns(t, tc, 1)
	for _, tt := range []struct {
		fragment, route, err string
	}{
		{`{"type":"typing","name":"ada"}`, "GET /ws typing", ""},
		{`{"type":"typing",`, "GET /ws text", "not a notice: unexpected end of JSON input"},
	} {
		conn, err := net.Dial("tcp", tc.hubLn)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(time.Minute)) // against a hang, not a measure
		req := "GET /ws HTTP/1.1\r\nHost: " + tc.hubLn + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: " + tc.appURL + "\r\n\r\n"
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake: %v %v", resp, err)
		}
		frame := []byte{0x01, 0x80 | byte(len(tt.fragment)), 0, 0, 0, 0} // text, not final, masked with zeros
		conn.Write(append(frame, tt.fragment...))
		conn.Close()
		msg := tc.waitRecord(t, "the cut-off message", func(r *recording.Record) bool { return r.Route == tt.route })
		if msg.Error != tt.err {
			t.Errorf("%s: its record's error %q, want %q", tt.fragment, msg.Error, tt.err)
		}
		if tt.err == "" {
			if got := readWS(t, other); got != `{"type":"typing","names":["ada"]}` {
				t.Errorf("the other browser got %q, want the typing passed on", got)
			}
		}
		tc.waitRecord(t, "the connection's end", func(r *recording.Record) bool {
			return r.Route == "GET /ws" && r.TraceID == msg.TraceID && len(r.Calls) > 0 &&
				strings.HasPrefix(r.Calls[len(r.Calls)-1].Request, "read failed: ")
		})
	}
}
