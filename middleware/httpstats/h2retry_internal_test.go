package httpstats

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/goappstats/appstats/recording"
)

// refusingH2 is a TLS server whose first connection speaks HTTP/2 by hand
// (its own framer and HPACK decoder): it refuses the first stream, after
// telling the client to open no new one (SETTINGS_MAX_CONCURRENT_STREAMS
// 0), so that net/http retries the request on a new connection, and
// answers every later stream with the traceparent its HPACK decoder got.
// Every later connection negotiates HTTP/1.1 only, and is answered by
// echoTraceparent.
type refusingH2 struct {
	srv   *httptest.Server
	conns atomic.Int32

	wmu sync.Mutex // the framer's writes
	fr  *http2.Framer

	mu       sync.Mutex
	refused  []string // the traceparents of the streams refused
	acks     int      // SETTINGS acknowledged by the client
	reopened chan struct{}
}

func newRefusingH2(t *testing.T) *refusingH2 {
	t.Helper()
	h := &refusingH2{reopened: make(chan struct{})}
	srv := httptest.NewUnstartedServer(echoTraceparent)
	srv.TLS = &tls.Config{
		NextProtos: []string{"h2", "http/1.1"},
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			if h.conns.Add(1) == 1 {
				return nil, nil // h2, the server's first choice
			}
			c := srv.TLS.Clone()
			c.GetConfigForClient = nil
			c.NextProtos = []string{"http/1.1"}
			return c, nil
		},
	}
	srv.Config.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){
		"h2": func(_ *http.Server, c *tls.Conn, _ http.Handler) { h.serve(t, c) },
	}
	srv.StartTLS()
	h.srv = srv
	t.Cleanup(srv.Close)
	return h
}

// client returns a transport that trusts the server and attempts HTTP/2:
// net/http's own, or x/net's (http2.ConfigureTransport) when xnet is set.
func (h *refusingH2) client(t *testing.T, xnet bool) *http.Transport {
	pool := x509.NewCertPool()
	pool.AddCert(h.srv.Certificate())
	base := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: !xnet}
	if xnet {
		//lint:ignore SA1019 x/net's HTTP/2 is still configured into *http.Transport by users; the reuse must hold under it
		if err := http2.ConfigureTransport(base); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(base.CloseIdleConnections)
	return base
}

// serve speaks HTTP/2 on c until the client closes it.
func (h *refusingH2) serve(t *testing.T, c *tls.Conn) {
	defer c.Close()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c, preface); err != nil || string(preface) != http2.ClientPreface {
		t.Errorf("h2 preface %q: %v", preface, err)
		return
	}
	fr := http2.NewFramer(c, c)
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	h.wmu.Lock()
	h.fr = fr
	fr.WriteSettings()
	h.wmu.Unlock()
	var hbuf bytes.Buffer
	henc := hpack.NewEncoder(&hbuf)
	streams := 0
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				h.wmu.Lock()
				fr.WriteSettingsAck()
				h.wmu.Unlock()
				continue
			}
			h.mu.Lock()
			h.acks++
			if h.acks == 3 { // the initial SETTINGS, the closing, the reopening
				close(h.reopened)
			}
			h.mu.Unlock()
		case *http2.MetaHeadersFrame:
			tp := ""
			for _, hf := range f.Fields {
				if hf.Name == "traceparent" {
					tp = hf.Value
				}
			}
			streams++
			h.wmu.Lock()
			if streams == 1 {
				h.mu.Lock()
				h.refused = append(h.refused, tp)
				h.mu.Unlock()
				// No new stream on this connection (until reopen), and
				// this one refused: the client retries elsewhere.
				fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 0})
				fr.WriteRSTStream(f.StreamID, http2.ErrCodeRefusedStream)
			} else {
				hbuf.Reset()
				henc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
				henc.WriteField(hpack.HeaderField{Name: "content-length", Value: strconv.Itoa(len(tp))})
				fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: hbuf.Bytes(), EndHeaders: true})
				fr.WriteData(f.StreamID, true, []byte(tp))
			}
			h.wmu.Unlock()
		}
	}
}

// reopen lets the client open streams on the HTTP/2 connection again,
// and returns once the client has acknowledged it.
func (h *refusingH2) reopen(t *testing.T) {
	h.wmu.Lock()
	err := h.fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100})
	h.wmu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	<-h.reopened
}

// TestHeaderMapNotReusedAfterHTTP2Attempt makes a call whose request went
// out over HTTP/2 first (the server refused the stream, and took no new
// one, so net/http retried it on a new connection) and got its response
// over HTTP/1. Its traceparent's string went into the HTTP/2 connection's
// HPACK encoder, whose dynamic table keeps it (as a map key, too) while
// the connection lives: the call's header entry must not be given back
// to be reused, and the bytes of that string must not change as later
// calls are made, over that connection again, while each gets its own
// traceparent to the server. With net/http's HTTP/2 and with x/net's
// configured into an *http.Transport.
func TestHeaderMapNotReusedAfterHTTP2Attempt(t *testing.T) {
	for _, xnet := range []bool{false, true} {
		t.Run(map[bool]string{false: "net/http", true: "x/net"}[xnet], func(t *testing.T) {
			testHeaderMapNotReusedAfterHTTP2Attempt(t, xnet)
		})
	}
}

func testHeaderMapNotReusedAfterHTTP2Attempt(t *testing.T, xnet bool) {
	h := newRefusingH2(t)
	rt := NewTransport(h.client(t, xnet))
	ctx := inRecord(t)
	req, _ := http.NewRequestWithContext(ctx, "GET", h.srv.URL+"/x", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := resp.Body.(*callState)
	if !ok {
		t.Fatalf("the body is a %T, not the call's state", resp.Body)
	}
	sent := st.out.req.Header["Traceparent"][0] // the string the HPACK encoder got
	want := strings.Clone(sent)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	h.mu.Lock()
	refused := h.refused
	h.mu.Unlock()
	if err != nil || resp.ProtoMajor != 1 || string(b) != want || len(refused) != 1 || refused[0] != want {
		t.Fatalf("the call: %v, HTTP/%d, the server got %q over HTTP/1 and refused %q over HTTP/2; want HTTP/1, %q both", err, resp.ProtoMajor, b, refused, want)
	}
	if st.out == nil {
		t.Error("the header entry of a call first sent over HTTP/2 was given back to be reused")
	}

	h.reopen(t)
	for i := range 5 {
		req, _ := http.NewRequestWithContext(ctx, "GET", h.srv.URL+"/x", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		own := strings.Clone(resp.Body.(*callState).out.req.Header.Get("Traceparent"))
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.ProtoMajor != 2 || string(b) != own || len(own) != recording.TraceparentLen {
			t.Errorf("call %d: %v, HTTP/%d, the server got traceparent %q, the call's own is %q", i+2, err, resp.ProtoMajor, b, own)
		}
	}
	if sent != want {
		t.Errorf("the traceparent the first call sent over HTTP/2 (which the connection's HPACK table keeps) now reads %q, was %q", sent, want)
	}
}
