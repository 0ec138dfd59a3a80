package httpstats_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// hidden hides its reader's type from net/http: a body of unknown length.
type hidden struct{ io.Reader }

// TestTransportRedirectCountedBody follows a 307 with a body of unknown
// length (counted as it is sent, in the call's rare room) rewound through
// GetBody: two calls, each sized as the bytes the server read, the first
// dialing and the second on the same connection.
func TestTransportRedirectCountedBody(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.URL.Path] = len(b)
		mu.Unlock()
		if r.URL.Path == "/a" {
			http.Redirect(w, r, "/b", http.StatusTemporaryRedirect)
			return
		}
		fmt.Fprint(w, "done")
	}))
	defer srv.Close()
	body := strings.Repeat("x", 5000)
	r := recordRequest(t, nil, func(ctx context.Context, client *http.Client) {
		req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/a", hidden{strings.NewReader(body)})
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(hidden{strings.NewReader(body)}), nil }
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	})
	if got["/a"] != len(body) || got["/b"] != len(body) {
		t.Fatalf("the server read %v", got)
	}
	if len(r.Calls) != 2 {
		t.Fatalf("%d calls", len(r.Calls))
	}
	for i, c := range r.Calls {
		status := []string{"307", "200"}[i]
		if c.RequestSize != int64(len(body)) || c.Attr("http.response.status_code") != status || c.Running || c.Error != "" {
			t.Errorf("call %d: request size %d, status %s, running %v, error %q; want %d, %s", i, c.RequestSize, c.Attr("http.response.status_code"), c.Running, c.Error, len(body), status)
		}
	}
	if got := fmt.Sprint(phaseNames(r.Calls[0])); got != "[connect send wait receive]" {
		t.Errorf("first call's phases %s", got)
	}
	if got := fmt.Sprint(phaseNames(r.Calls[1])); got != "[send wait receive]" {
		t.Errorf("second call's phases %s", got)
	}
}

// TestTransportCancelledMidDial cancels a call while its dial is under
// way (connected, not yet handed to the request): the call ends with the
// error, not running, and the dial's events after its end are not noted.
func TestTransportCancelledMidDial(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	dialing := make(chan struct{}, 10)
	base := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		dialing <- struct{}{}
		<-ctx.Done()
		c.Close()
		return nil, ctx.Err()
	}}
	defer base.CloseIdleConnections()
	r := recordRequest(t, base, func(ctx context.Context, client *http.Client) {
		cctx, cancel := context.WithCancel(ctx)
		go func() { <-dialing; cancel() }()
		req, _ := http.NewRequestWithContext(cctx, "POST", "http://"+l.Addr().String()+"/x", hidden{strings.NewReader("abc")})
		_, err := client.Do(req)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err %v", err)
		}
	})
	if len(r.Calls) != 1 {
		t.Fatalf("%d calls", len(r.Calls))
	}
	c := r.Calls[0]
	if c.Error != context.Canceled.Error() || c.Running || c.RequestSize != 0 || c.Attr("http.response.status_code") != "" {
		t.Errorf("call: error %q, running %v, request size %d, status %q", c.Error, c.Running, c.RequestSize, c.Attr("http.response.status_code"))
	}
	if got := fmt.Sprint(phaseNames(c)); got != "[connect]" {
		t.Errorf("phases %s, want [connect]", got)
	}
}

// TestTransportConcurrentCallsSizes makes 40 calls at once inside one
// request over HTTP/1.1 and HTTP/2 (TLS), with bodies of known and unknown
// length and none: each call's sizes are its own and its phases lie within
// it.
func TestTransportConcurrentCallsSizes(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Got", fmt.Sprint(len(b)))
		io.WriteString(w, strings.Repeat("y", len(r.URL.Path)*10))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	for _, proto := range []string{"h1", "h2"} {
		t.Run(proto, func(t *testing.T) {
			base := srv.Client().Transport.(*http.Transport).Clone()
			base.Protocols = new(http.Protocols)
			base.Protocols.SetHTTP1(proto == "h1")
			base.Protocols.SetHTTP2(proto == "h2")
			base.TLSClientConfig.NextProtos = nil
			defer base.CloseIdleConnections()
			const n = 40
			r := recordRequest(t, base, func(ctx context.Context, client *http.Client) {
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						path := "/" + strings.Repeat("p", i+1)
						var body io.Reader
						switch i % 3 {
						case 0:
							body = hidden{strings.NewReader(strings.Repeat("b", i*7))}
						case 1:
							body = strings.NewReader(strings.Repeat("b", i*7))
						}
						method := "GET"
						if body != nil {
							method = "POST"
						}
						req, _ := http.NewRequestWithContext(ctx, method, srv.URL+path, body)
						resp, err := client.Do(req)
						if err != nil {
							t.Error(err)
							return
						}
						if want := map[string]int{"h1": 1, "h2": 2}[proto]; resp.ProtoMajor != want {
							t.Errorf("%s: HTTP/%d, want HTTP/%d", path, resp.ProtoMajor, want)
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					})
				}
				wg.Wait()
			})
			if len(r.Calls) != n {
				t.Fatalf("%d calls", len(r.Calls))
			}
			for _, c := range r.Calls {
				u := c.Attr("url.full")
				i := strings.LastIndex(u, "/")
				pl := len(u) - i - 1
				wantReq := int64(0)
				if (pl-1)%3 != 2 {
					wantReq = int64((pl - 1) * 7)
				}
				if c.RequestSize != wantReq || c.ResponseSize != int64((pl+1)*10) || c.Running || c.Error != "" {
					t.Errorf("%s: req %d (want %d) resp %d (want %d) running %v err %q", u, c.RequestSize, wantReq, c.ResponseSize, (pl+1)*10, c.Running, c.Error)
				}
				last := c.Start
				for _, p := range c.Phases {
					if p.Start < last-time.Microsecond || p.Duration < 0 || p.Start+p.Duration > c.End() {
						t.Errorf("%s: phase %s [%v +%v] call [%v %v]", u, p.Name, p.Start, p.Duration, c.Start, c.End())
					}
				}
			}
		})
	}
}
