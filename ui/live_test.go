package ui_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/ui"
)

type sseEvent struct {
	name, data string
}

// sseStream reads Server-Sent Events from a response body.
type sseStream struct {
	resp *http.Response
	sc   *bufio.Scanner
}

func openStream(t *testing.T, srv *httptest.Server) *sseStream {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + "/stats/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return &sseStream{resp: resp, sc: bufio.NewScanner(resp.Body)}
}

// next returns the next event, or ok == false at the end of the stream.
func (s *sseStream) next() (ev sseEvent, ok bool) {
	for s.sc.Scan() {
		line := s.sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				return ev, true
			}
		case strings.HasPrefix(line, "event: "):
			ev.name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[len("data: "):]
		}
	}
	return ev, false
}

func (s *sseStream) expect(t *testing.T, name string) sseEvent {
	t.Helper()
	for {
		ev, ok := s.next()
		if !ok {
			t.Fatalf("stream ended while waiting for %q", name)
		}
		if ev.name == name {
			return ev
		}
		if ev.name != "ping" {
			t.Fatalf("event %q while waiting for %q", ev.name, name)
		}
	}
}

func liveServer(t *testing.T, l *ui.Live) *httptest.Server {
	t.Helper()
	st, _ := newStore(t, 0)
	srv := httptest.NewServer(ui.NewHandler(st, ui.WithLive(l)))
	t.Cleanup(srv.Close)
	return srv
}

func waitSubscribers(t *testing.T, l *ui.Live, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for l.Subscribers() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers, want %d", l.Subscribers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// subscribed returns a Live, closed at the end of the test, and a stream of
// it that has had its hello and is subscribed.
func subscribed(t *testing.T) (*ui.Live, *sseStream) {
	t.Helper()
	l := ui.NewLive()
	t.Cleanup(func() { l.Close() })
	s := openStream(t, liveServer(t, l))
	s.expect(t, "hello")
	waitSubscribers(t, l, 1)
	return l, s
}

func TestLiveStream(t *testing.T) {
	l := ui.NewLive()
	defer l.Close()
	srv := liveServer(t, l)
	s := openStream(t, srv)
	hello := s.expect(t, "hello")
	if !strings.Contains(hello.data, `"keepalive_ms":15000`) {
		t.Errorf("hello = %s", hello.data)
	}
	waitSubscribers(t, l, 1)

	// Several batches: every record is counted, in one event or merged.
	var last *recording.Record
	total := 0
	for i := range 5 {
		batch := []*recording.Record{makeRecord(time.Now(), uint64(2*i), "/a", 200, 1), makeRecord(time.Now(), uint64(2*i+1), "/b", 200, 1)}
		last = batch[1]
		total += len(batch)
		if err := l.Write(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	got := 0
	for got < total {
		ev := s.expect(t, "records")
		var d struct {
			Records int    `json:"records"`
			Latest  string `json:"latest"`
		}
		if err := json.Unmarshal([]byte(ev.data), &d); err != nil {
			t.Fatal(err)
		}
		got += d.Records
		if got == total && d.Latest != last.ID.String() {
			t.Errorf("latest = %s, want %s", d.Latest, last.ID)
		}
	}
	if got != total {
		t.Errorf("announced %d records, want %d", got, total)
	}

	// Disconnecting ends the stream and keeps the Live: a new stream works.
	ui.Disconnect(l)
	for {
		if _, ok := s.next(); !ok {
			break
		}
	}
	s2 := openStream(t, srv)
	s2.expect(t, "hello")
	waitSubscribers(t, l, 1)

	// Close ends streams and refuses new ones with 204 (EventSource stops).
	l.Close()
	for {
		if _, ok := s2.next(); !ok {
			break
		}
	}
	resp, err := srv.Client().Get(srv.URL + "/stats/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("events after Close: %d, want 204", resp.StatusCode)
	}
	if err := l.Write(context.Background(), []*recording.Record{last}); err != nil {
		t.Errorf("Write after Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestLiveKeepAlive(t *testing.T) {
	l := ui.NewLive(ui.WithLiveKeepAlive(20 * time.Millisecond))
	defer l.Close()
	s := openStream(t, liveServer(t, l))
	s.expect(t, "hello")
	for range 3 {
		if ev, _ := s.next(); ev.name != "ping" {
			t.Fatalf("event %q, want ping", ev.name)
		}
	}
}

// TestLiveNeverBlocks writes many batches while subscribers do not read: the
// recorder's writer must never wait for a dashboard.
func TestLiveNeverBlocks(t *testing.T) {
	l := ui.NewLive()
	defer l.Close()
	srv := liveServer(t, l)
	for range 3 {
		openStream(t, srv) // never read
	}
	waitSubscribers(t, l, 3)
	recs := []*recording.Record{makeRecord(time.Now(), 1, "/", 200, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 200000 {
			l.Write(context.Background(), recs)
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Live.Write blocked")
	}
}

// TestLiveEventPace writes batches without pause for a while: the stream
// tells every record, in events at least LiveEventInterval apart, so that a
// busy recorder's batches (one every few milliseconds) do not each cost the
// server and the page an event.
func TestLiveEventPace(t *testing.T) {
	l, s := subscribed(t)
	const total = 400
	start := time.Now()
	go func() {
		for i := range total {
			l.Write(context.Background(), []*recording.Record{makeRecord(time.Now(), uint64(i), "/a", 200, 1)})
			time.Sleep(2 * time.Millisecond)
		}
	}()
	got, events := 0, 0
	for got < total {
		ev := s.expect(t, "records")
		var d struct {
			Records int `json:"records"`
		}
		if err := json.Unmarshal([]byte(ev.data), &d); err != nil {
			t.Fatal(err)
		}
		if d.Records <= 0 {
			t.Fatalf("event %s: no records", ev.data)
		}
		got += d.Records
		events++
	}
	if got != total {
		t.Errorf("announced %d records, want %d", got, total)
	}
	// The events were sent between start and now, at least
	// LiveEventInterval apart (a late reader only makes the span longer).
	if span := time.Since(start); time.Duration(events-1)*ui.LiveEventInterval > span {
		t.Errorf("%d events in %v; want them at least %v apart", events, span, ui.LiveEventInterval)
	}
	t.Logf("%d records in %d events", got, events)
}

// TestLiveClientGone checks that a stream ends when its client goes away.
func TestLiveClientGone(t *testing.T) {
	l, s := subscribed(t)
	s.resp.Body.Close()
	waitSubscribers(t, l, 0)
}

// Announce, for writes by other processes to a shared store, notifies as
// Write does.
func TestLiveAnnounce(t *testing.T) {
	l := ui.NewLive()
	defer l.Close()
	srv := liveServer(t, l)
	s := openStream(t, srv)
	s.expect(t, "hello")
	id := recording.ID{0x18, 15: 7}
	l.Announce(3, id)
	var got struct {
		Records int    `json:"records"`
		Latest  string `json:"latest"`
		Cleared bool   `json:"cleared"`
	}
	if err := json.Unmarshal([]byte(s.expect(t, "records").data), &got); err != nil || got.Records != 3 || got.Latest != id.String() {
		t.Fatalf("after Announce(3): %+v, %v", got, err)
	}
	l.Announce(0, recording.ID{})
	got.Cleared = false
	if err := json.Unmarshal([]byte(s.expect(t, "records").data), &got); err != nil || !got.Cleared {
		t.Fatalf("after Announce(0): %+v, %v", got, err)
	}
}

// TestLiveEndsOnServerShutdown: a graceful shutdown of the server that serves
// live streams ends them, so that Shutdown returns without a deadline (it
// waits for every connection otherwise), and that server opens no new
// stream; the Live itself stays open for others.
func TestLiveEndsOnServerShutdown(t *testing.T) {
	l := ui.NewLive()
	t.Cleanup(func() { l.Close() })
	srv := liveServer(t, l)
	other := liveServer(t, l)
	s := openStream(t, srv)
	s.expect(t, "hello")
	o := openStream(t, other)
	o.expect(t, "hello")
	waitSubscribers(t, l, 2)

	// Shutdown is given no deadline: it returns only once every
	// connection is idle or closed, so the stream must end for it to
	// return at all (were the stream held open, it would wait for good,
	// and the guard below fail).
	shut := make(chan error, 1)
	go func() { shut <- srv.Config.Shutdown(context.Background()) }()
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("Shutdown with a live stream open: %v", err)
		}
	case <-time.After(time.Minute): // a guard against a hang, not a timing
		t.Fatal("Shutdown still waiting a minute on: the live stream kept it open")
	}
	if _, ok := s.next(); ok {
		t.Error("the stream of the server shut down is still open")
	}
	waitSubscribers(t, l, 1) // the other server's stream is still open
	l.Write(context.Background(), []*recording.Record{{ID: recID(time.Now(), 1)}})
	o.expect(t, "records")
}

// TestLiveAnnounceHostile: Announce takes its count from outside the
// process (redisstore's events channel, which anyone who can publish to
// Redis can write to). On main two huge counts merged into one pending
// event wrapped the stream's counter negative, and a negative count (from
// another caller) was subtracted. A "records" event now never counts
// fewer than one record, and a negative count is dropped.
func TestLiveAnnounceHostile(t *testing.T) {
	l, s := subscribed(t)
	id := recording.ID{0x18, 15: 7}
	records := func() int {
		t.Helper()
		var got struct {
			Records int `json:"records"`
		}
		if err := json.Unmarshal([]byte(s.expect(t, "records").data), &got); err != nil {
			t.Fatal(err)
		}
		return got.Records
	}
	l.Announce(1, id)
	if n := records(); n != 1 {
		t.Fatalf("after Announce(1): records %d", n)
	}
	// Within the pace interval of that event, both wait and merge.
	l.Announce(math.MaxInt, id)
	l.Announce(math.MaxInt, id)
	if n := records(); n <= 0 {
		t.Errorf("after two hostile counts: records %d, want > 0", n)
	}
	l.Announce(-5, id)
	l.Announce(2, id)
	if n := records(); n != 2 {
		t.Errorf("after Announce(-5) and Announce(2): records %d, want 2", n)
	}
}

// TestLiveKeepAliveExtremes: the keep-alive a stream announces in its
// hello, and pings at, is the one WithLiveKeepAlive set, within [10 ms,
// 24 h]: a shorter one is taken as 10 ms (below a millisecond it was
// announced as 0, which the page reads as its default of 15 s, while the
// server pinged as fast as it could write, a core for every dashboard
// open), and a longer one as 24 h (the page's watchdog is a timer of three
// times it, and a browser fires a timer of more than 2³¹−1 ms at once: the
// page dropped its stream as soon as it had it and reconnected every
// second or so; TestBrowserLiveLongKeepAlive). One within is kept as set.
func TestLiveKeepAliveExtremes(t *testing.T) {
	for _, tc := range []struct {
		d      time.Duration
		wantMS int64
	}{
		{time.Nanosecond, 10},
		{999 * time.Microsecond, 10},
		{5 * time.Millisecond, 10},
		{2 * time.Second, 2000},
		{30 * 24 * time.Hour, 86_400_000},
		{math.MaxInt64, 86_400_000},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			l := ui.NewLive(ui.WithLiveKeepAlive(tc.d))
			defer l.Close()
			s := openStream(t, liveServer(t, l))
			var hello struct {
				KeepAliveMS int64 `json:"keepalive_ms"`
			}
			if err := json.Unmarshal([]byte(s.expect(t, "hello").data), &hello); err != nil {
				t.Fatal(err)
			}
			if hello.KeepAliveMS != tc.wantMS {
				t.Errorf("WithLiveKeepAlive(%v): keepalive_ms %d, want %d", tc.d, hello.KeepAliveMS, tc.wantMS)
			}
		})
	}
}

// TestLiveKeepAliveCutWarns: a keep-alive NewLive cuts to [10 ms, 24 h]
// is not cut silently, as the other options cut to a bound are not:
// NewLive logs one warning through WithLiveLogger naming
// WithLiveKeepAlive and the value used, whichever option comes first. A
// keep-alive within the bounds, on them, or none logs nothing.
func TestLiveKeepAliveCutWarns(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		used string // the warning's used=; "": no warning
	}{
		{time.Nanosecond, "10ms"},
		{5 * time.Millisecond, "10ms"},
		{30 * 24 * time.Hour, "24h0m0s"},
		{math.MaxInt64, "24h0m0s"},
		{10 * time.Millisecond, ""},
		{24 * time.Hour, ""},
		{2 * time.Second, ""},
		{0, ""},
		{-time.Second, ""},
	} {
		for _, loggerFirst := range []bool{false, true} {
			t.Run(fmt.Sprint(tc.d, loggerFirst), func(t *testing.T) {
				var logged strings.Builder // slog's handler writes a record at a time
				opts := []ui.LiveOption{ui.WithLiveKeepAlive(tc.d), ui.WithLiveLogger(slog.New(slog.NewTextHandler(&logged, nil)))}
				if loggerFirst {
					opts[0], opts[1] = opts[1], opts[0]
				}
				ui.NewLive(opts...).Close()
				var warns []string
				for _, line := range strings.Split(logged.String(), "\n") {
					if strings.Contains(line, "level=WARN") {
						warns = append(warns, line)
					}
				}
				switch {
				case tc.used == "" && len(warns) != 0:
					t.Errorf("WithLiveKeepAlive(%v): warnings %q; want none", tc.d, warns)
				case tc.used == "":
				case len(warns) != 1:
					t.Errorf("WithLiveKeepAlive(%v): warnings %q; want one", tc.d, warns)
				case !strings.Contains(warns[0], " option=WithLiveKeepAlive ") || !strings.Contains(warns[0]+" ", " used="+tc.used+" "):
					t.Errorf("WithLiveKeepAlive(%v): warning %q; want one naming WithLiveKeepAlive and used=%s", tc.d, warns[0], tc.used)
				}
			})
		}
	}
}

// TestLiveWriteAllocatesNothing: the recorder's writer hands Live every
// batch, so Write must cost no allocation — the newest record's ID is
// formatted only when a stream writes its event, not for every batch
// (with no stream open, never).
func TestLiveWriteAllocatesNothing(t *testing.T) {
	l := ui.NewLive()
	defer l.Close()
	recs := []*recording.Record{makeRecord(time.Now(), 1, "/", 200, 1), makeRecord(time.Now(), 2, "/", 200, 1)}
	if n := testing.AllocsPerRun(1000, func() { _ = l.Write(context.Background(), recs) }); n != 0 {
		t.Errorf("Write: %v allocations a batch, want 0", n)
	}
}
