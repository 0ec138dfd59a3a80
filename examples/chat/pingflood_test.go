package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
)

// TestPingFloodDropped: the hub closed a client that sent more pings than
// its budget with a close handshake (1008), whose wait for the client's
// close frame took coder/websocket's 5 s when the client, flooding, never
// answered. The hub has decided to drop such a client: it now closes the
// connection at once, without a close frame to wait on, recording why.
// The client here speaks the protocol by hand: it sends its pings and
// reads what the hub sends, never answering; what it reads up to the end
// of the connection holds pongs and no close frame.
func TestPingFloodDropped(t *testing.T) {
	tc := startChat(t)
	conn, err := net.Dial("tcp", tc.hubLn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute)) // against a hang, not a measure
	req := "GET /ws HTTP/1.1\r\nHost: " + tc.hubLn + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: " + tc.appURL + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	waitConns(t, tc, 1)
	ping := []byte{0x89, 0x80, 1, 2, 3, 4} // a masked ping, no payload
	for range 4 * msgBurst {
		if _, err := conn.Write(ping); err != nil {
			break // closed by the hub
		}
	}
	var opcodes []byte
	for {
		h0, err := br.ReadByte()
		if err != nil {
			if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("reading the hub's frames: %v (got opcodes %x)", err, opcodes)
			}
			break
		}
		n, err := br.ReadByte()
		if err != nil {
			break
		}
		if n&0x7f >= 126 {
			t.Fatalf("a long frame from the hub: %x %x", h0, n)
		}
		if _, err := br.Discard(int(n & 0x7f)); err != nil {
			break
		}
		opcodes = append(opcodes, h0&0x0f)
	}
	for _, op := range opcodes {
		if op == 0x8 {
			t.Fatalf("the hub sent a close frame (opcodes %x): it waits for the flooding client's answer", opcodes)
		}
	}
	waitConns(t, tc, 0)
	tc.waitRecord(t, "the flooding client's connection", func(r *recording.Record) bool {
		return r.Route == "GET /ws" && len(r.Calls) > 0 && strings.Contains(r.Calls[len(r.Calls)-1].Request, "too many pings")
	})
}
