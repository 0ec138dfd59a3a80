package wsstats_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/middleware/httpstats"
	"github.com/goappstats/appstats/middleware/wsstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

// peerRun is what the server of a peer case saw: each message it received
// (its length and hash) and the error that ended its reads.
type peerRun struct {
	got []string
	end string
	// Wrapped: the connection's record.
	conn *recording.Record
}

// runPeer serves one websocket connection on loopback, bare
// (websocket.Accept, Read) or wrapped (wsstats.Accept behind httpstats,
// Receive, as the README mounts it), with opts and the read limit, echoes
// the length of each message received (limit 0: coder/websocket's
// default), and runs client against it; it
// returns what the server saw once its handler has returned.
func runPeer(t *testing.T, wrapped bool, opts *websocket.AcceptOptions, limit int64, client func(url string)) peerRun {
	t.Helper()
	var run peerRun
	served := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(served)
		var (
			read  func() ([]byte, error)
			write func(ctx context.Context, p []byte) error
		)
		if wrapped {
			c, err := wsstats.Accept(w, r, opts)
			if err != nil {
				t.Errorf("accept: %v", err)
				return
			}
			defer c.CloseNow()
			if limit > 0 {
				c.SetReadLimit(limit)
			}
			var msg *wsstats.Message
			read = func() ([]byte, error) {
				_, m, err := c.Receive(r.Context())
				if err != nil {
					return nil, err
				}
				msg = m
				return m.Data, nil
			}
			write = func(ctx context.Context, p []byte) error {
				err := c.Write(ctx, websocket.MessageText, p)
				msg.End(err)
				return err
			}
		} else {
			c, err := websocket.Accept(w, r, opts)
			if err != nil {
				t.Errorf("accept: %v", err)
				return
			}
			defer c.CloseNow()
			if limit > 0 {
				c.SetReadLimit(limit)
			}
			read = func() ([]byte, error) {
				_, b, err := c.Read(r.Context())
				return b, err
			}
			write = func(ctx context.Context, p []byte) error { return c.Write(ctx, websocket.MessageText, p) }
		}
		for {
			b, err := read()
			if err != nil {
				run.end = fmt.Sprintf("%v (status %d)", err, websocket.CloseStatus(err))
				return
			}
			run.got = append(run.got, fmt.Sprintf("%d bytes %x", len(b), sha256.Sum256(b)))
			if err := write(r.Context(), fmt.Appendf(nil, "%d", len(b))); err != nil {
				run.end = fmt.Sprintf("write: %v", err)
				return
			}
		}
	})
	var rec *recording.Recorder
	sink := recordingtest.NewSink()
	var handler http.Handler = h
	if wrapped {
		rec = recording.New(recording.WithSinks(sink))
		mux := http.NewServeMux()
		mux.Handle("GET /ws", h)
		handler = httpstats.NewHandler(rec, mux)
	}
	srv := httptest.NewServer(handler)
	client("ws" + strings.TrimPrefix(srv.URL, "http") + "/ws")
	<-served
	srv.Close()
	if rec == nil {
		return run
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !recordingtest.WaitIdle(ctx, rec) {
		t.Error("records still in the making after the handler returned")
	}
	if err := rec.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if conns := sink.ByRoute()["GET /ws"]; len(conns) == 1 {
		run.conn = conns[0]
	} else {
		t.Fatalf("%d connection records", len(conns))
	}
	return run
}

// samePeer asserts that the server saw the same wrapped as bare, and that
// the connection's record counts the messages received and their bytes
// and ends with the close event want.
func samePeer(t *testing.T, bare, wrapped peerRun, bytesIn int64, closeEvent string) {
	t.Helper()
	if fmt.Sprint(bare.got) != fmt.Sprint(wrapped.got) || bare.end != wrapped.end {
		t.Errorf("wrapped, the server got %v and ended %q; bare %v, %q", wrapped.got, wrapped.end, bare.got, bare.end)
	}
	r := wrapped.conn
	if got, want := r.Attr(convention.KeyStreamMessagesReceived), fmt.Sprint(len(bare.got)); got != want {
		t.Errorf("messages received recorded %s, want %s", got, want)
	}
	if got, want := r.Attr(convention.KeyStreamBytesReceived), fmt.Sprint(bytesIn); got != want {
		t.Errorf("bytes received recorded %s, want %s", got, want)
	}
	if len(r.Calls) == 0 || r.Calls[len(r.Calls)-1].Method != "close" || r.Calls[len(r.Calls)-1].Request != closeEvent {
		t.Errorf("connection's calls %+v, want the close event %q last", r.Calls, closeEvent)
	}
}

// rawPeer is a websocket client that writes frames as it is told, for
// what coder/websocket's client does not send: control frames between a
// message's fragments, floods of pings.
type rawPeer struct {
	c net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, url string) *rawPeer {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(strings.TrimSuffix(url, "/ws"), "ws://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	return &rawPeer{c: c, r: r}
}

// frame writes a masked frame.
func (p *rawPeer) frame(fin bool, op byte, payload []byte) error {
	var b bytes.Buffer
	if fin {
		op |= 0x80
	}
	b.WriteByte(op)
	switch n := len(payload); {
	case n < 126:
		b.WriteByte(0x80 | byte(n))
	case n < 1<<16:
		b.WriteByte(0x80 | 126)
		binary.Write(&b, binary.BigEndian, uint16(n))
	default:
		b.WriteByte(0x80 | 127)
		binary.Write(&b, binary.BigEndian, uint64(n))
	}
	var mask [4]byte
	rand.Read(mask[:])
	b.Write(mask[:])
	for i, c := range payload {
		b.WriteByte(c ^ mask[i%4])
	}
	_, err := p.c.Write(b.Bytes())
	return err
}

// drain reads the server's frames until the connection ends, and
// returns the opcodes it saw, counted.
func (p *rawPeer) drain() map[byte]int {
	seen := map[byte]int{}
	for {
		var h [2]byte
		if _, err := io.ReadFull(p.r, h[:]); err != nil {
			return seen
		}
		n := int64(h[1] & 0x7f)
		switch n {
		case 126:
			var l uint16
			binary.Read(p.r, binary.BigEndian, &l)
			n = int64(l)
		case 127:
			binary.Read(p.r, binary.BigEndian, &n)
		}
		if _, err := io.CopyN(io.Discard, p.r, n); err != nil {
			return seen
		}
		seen[h[0]&0x0f]++
	}
}

func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// TestCloseMidMessage: a peer that sends a close frame between the
// fragments of a message (allowed: control frames may come between
// fragments) ends the connection as bare: the server's read returns the
// peer's close (1000 "bye"), the message is not received, and the
// connection's record says the client closed it.
func TestCloseMidMessage(t *testing.T) {
	client := func(url string) {
		p := dialRaw(t, url)
		defer p.c.Close()
		p.frame(true, 0x1, []byte("whole"))
		p.frame(false, 0x1, []byte("hal"))
		p.frame(true, 0x8, closePayload(1000, "bye"))
		p.drain()
	}
	bare := runPeer(t, false, nil, 0, client)
	wrapped := runPeer(t, true, nil, 0, client)
	if len(bare.got) != 1 || !strings.Contains(bare.end, "status 1000") {
		t.Fatalf("bare: got %v, ended %q", bare.got, bare.end)
	}
	samePeer(t, bare, wrapped, 5, "closed by the client: 1000 bye")
}

// TestPingFlood: a peer that sends 5,000 pings before a message and its
// close: the server answers each (coder/websocket does, under its reads),
// receives the message and the close, as bare; the record counts the one
// message, no ping.
func TestPingFlood(t *testing.T) {
	const pings = 5000
	pongs := map[bool]int{}
	client := func(wrapped bool) func(url string) {
		return func(url string) {
			p := dialRaw(t, url)
			defer p.c.Close()
			drained := make(chan map[byte]int, 1)
			go func() { drained <- p.drain() }()
			for i := range pings {
				if err := p.frame(true, 0x9, fmt.Appendf(nil, "%d", i)); err != nil {
					t.Errorf("ping %d: %v", i, err)
					break
				}
			}
			p.frame(true, 0x1, []byte("after the flood"))
			p.frame(true, 0x8, closePayload(1000, "bye"))
			pongs[wrapped] = (<-drained)[0xA]
		}
	}
	bare := runPeer(t, false, nil, 0, client(false))
	wrapped := runPeer(t, true, nil, 0, client(true))
	if len(bare.got) != 1 || pongs[false] != pings {
		t.Fatalf("bare: got %v, %d pongs, ended %q", bare.got, pongs[false], bare.end)
	}
	if pongs[true] != pongs[false] {
		t.Errorf("wrapped, %d pongs; bare %d", pongs[true], pongs[false])
	}
	samePeer(t, bare, wrapped, int64(len("after the flood")), "closed by the client: 1000 bye")
}

// TestLargeMessage: a 16 MiB message, with compression (context takeover)
// and without, to a server whose read limit allows it and to one with
// coder/websocket's default limit (32 KiB), which refuses it: the server
// gets what it gets bare (the message whole, or the limit's error and a
// close 1009), the client the same answer (refused, its write fails or
// its read gets the close, as the two race), and the record counts the
// message's bytes, or its refusal.
func TestLargeMessage(t *testing.T) {
	big := make([]byte, 16<<20)
	rand.Read(big[:1<<20]) // partly random: compression has work to do
	for _, tc := range []struct {
		name  string
		mode  websocket.CompressionMode
		limit int64
	}{
		{"no compression", websocket.CompressionDisabled, 32 << 20},
		{"compression", websocket.CompressionContextTakeover, 32 << 20},
		{"default limit", websocket.CompressionDisabled, 0},
		{"compression default limit", websocket.CompressionContextTakeover, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit := tc.limit
			if limit == 0 {
				limit = 32 << 10 // coder/websocket's default
			}
			answers := map[bool]string{}
			client := func(wrapped bool) func(url string) {
				return func(url string) {
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					defer cancel()
					c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{CompressionMode: tc.mode})
					if err != nil {
						t.Fatalf("dial: %v", err)
					}
					defer c.CloseNow()
					for _, msg := range [][]byte{[]byte("small first"), big} {
						if err := c.Write(ctx, websocket.MessageBinary, msg); err != nil {
							answers[wrapped] += fmt.Sprintf("write: status %d; ", websocket.CloseStatus(err))
							break
						}
						_, b, err := c.Read(ctx)
						if err != nil {
							answers[wrapped] += fmt.Sprintf("read: status %d; ", websocket.CloseStatus(err))
							break
						}
						answers[wrapped] += string(b) + "; "
					}
					c.Close(websocket.StatusNormalClosure, "done")
				}
			}
			opts := &websocket.AcceptOptions{CompressionMode: tc.mode}
			bare := runPeer(t, false, opts, limit, client(false))
			wrapped := runPeer(t, true, opts, limit, client(true))
			if tc.limit != 0 && answers[true] != answers[false] {
				t.Errorf("wrapped, the client got %q; bare %q", answers[true], answers[false])
			}
			// Refused, the big message's write races with the server's
			// close (1009): the client's write fails, or its read gets
			// the close, bare as wrapped.
			refused := map[string]bool{"11; write: status -1; ": true, "11; read: status 1009; ": true}
			if tc.limit == 0 && (!refused[answers[true]] || !refused[answers[false]]) {
				t.Errorf("wrapped, the client got %q; bare %q; want the small message's answer and the refusal", answers[true], answers[false])
			}
			if tc.limit != 0 {
				if len(bare.got) != 2 {
					t.Fatalf("bare: got %v, ended %q", bare.got, bare.end)
				}
				samePeer(t, bare, wrapped, int64(len("small first")+len(big)), "closed by the client: 1000 done")
				return
			}
			if len(bare.got) != 1 || !strings.Contains(bare.end, "read limited at") {
				t.Fatalf("bare: got %v, ended %q", bare.got, bare.end)
			}
			samePeer(t, bare, wrapped, int64(len("small first")), "read failed: "+strings.TrimSuffix(bare.end, " (status -1)"))
		})
	}
}
