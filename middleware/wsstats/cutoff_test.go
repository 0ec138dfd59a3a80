package wsstats_test

import (
	"testing"
)

// TestCutOffMessage: a peer whose connection ends in the middle of a
// message. coder/websocket v1.8.15 (the newest in the module proxy) hands
// the part read over as a whole message when the connection ends where a
// frame ends — after a first fragment, or after the header of a fragment
// whose payload never comes: its message reader takes the io.EOF of that
// read for the message's end (upstream). wsstats sees only what
// coder/websocket hands it, so it records the message as whole, as the
// server got it: one message received, its bytes, then the close that the
// failed read after it makes — after a first fragment, coder/websocket's
// "previous message not read to completion", which does not say the peer
// is gone. Cut within a payload, the read fails (io.ErrUnexpectedEOF) and
// no message is received. The test pins what both do: should
// coder/websocket mend it, the bare case fails first and says so.
func TestCutOffMessage(t *testing.T) {
	for _, tt := range []struct {
		name      string
		send      func(p *rawPeer)
		whole     bool   // coder/websocket hands the part over as a message
		bytesRead int64  // of it
		end       string // the read after it fails with
	}{
		{"after a first fragment", func(p *rawPeer) { p.frame(false, 0x1, []byte(`{"type":"typing",`)) },
			true, 17, "failed to get reader: previous message not read to completion"},
		{"after a fragment's header", func(p *rawPeer) {
			p.frame(false, 0x1, []byte(`{"type":`))
			p.c.Write([]byte{0x80, 0x80 | 10, 1, 2, 3, 4}) // a final fragment of 10 bytes, none sent
		}, true, 8, "failed to get reader: failed to read frame header: EOF"},
		{"within a payload", func(p *rawPeer) {
			p.frame(false, 0x1, []byte(`{"type":`))
			p.c.Write([]byte{0x80, 0x80 | 10, 0, 0, 0, 0, '"', 't'}) // 2 of 10 bytes
		}, false, 0, "failed to read: failed to read frame payload: unexpected EOF"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			client := func(url string) {
				p := dialRaw(t, url)
				tt.send(p)
				p.c.Close()
			}
			bare := runPeer(t, false, nil, 0, client)
			wrapped := runPeer(t, true, nil, 0, client)
			if whole := len(bare.got) == 1; whole != tt.whole || bare.end != tt.end+" (status -1)" {
				t.Fatalf("bare coder/websocket got %v, ended %q; want the cut-off part handed over as whole: %v, then %q (has coder/websocket changed?)",
					bare.got, bare.end, tt.whole, tt.end)
			}
			samePeer(t, bare, wrapped, tt.bytesRead, "read failed: "+tt.end)
		})
	}
}
