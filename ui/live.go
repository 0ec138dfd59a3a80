package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goappstats/appstats/recording"
)

// DefaultKeepAlive is how often a live stream sends a ping when nothing else
// happens.
const DefaultKeepAlive = 15 * time.Second

// DefaultMaxStreams is how many live streams a [Live] serves at once unless
// [WithLiveMaxStreams] says otherwise: one a dashboard open in a browser's
// tab, far more than the people who watch a service's dashboard open, and
// few enough that no client holds the server's connections and memory
// (each stream a connection, a goroutine, and tens of KiB) by opening
// streams.
const DefaultMaxStreams = 256

// Live fans out "new records" notifications to the dashboards that are open,
// over Server-Sent Events. It is a [recording.Sink]: give it to the recorder
// after the store in one [recording.Sequence], so that a dashboard told about
// new records finds them in the store (sinks given side by side are written
// concurrently):
//
//	live := ui.NewLive()
//	rec := recording.New(recording.WithSinks(recording.Sequence(st, live)))
//	h := ui.NewHandler(st, ui.WithLive(live), ui.WithRecorder(rec))
//
// Write never blocks the recorder: notifications to a subscriber that has not
// read the previous one are merged into it (the counts add up), so a slow
// dashboard costs nothing and gets one refresh for many records.
//
// A stream never holds up a graceful shutdown: the streams a server serves
// end as soon as its [http.Server.Shutdown] begins (the first stream a
// server serves registers that with [http.Server.RegisterOnShutdown]), and
// that server opens no new ones; Close ends them all.
//
// All methods are safe for concurrent use. Close ends every stream; the
// zero Live is not usable, create one with [NewLive].
type Live struct {
	keepAlive  time.Duration
	maxStreams int
	log        *slog.Logger // the Live's own problems (see WithLiveLogger)

	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
	done   chan struct{}
	// servers are the servers that served a stream, with true once their
	// shutdown has begun.
	servers map[*http.Server]bool

	notified atomic.Uint64 // records announced
	refused  atomic.Uint64 // streams refused over maxStreams
	merged   atomic.Uint64 // notifications merged into a pending one
}

// A LiveOption configures [NewLive].
type LiveOption interface{ applyLive(*Live) }

type liveOptionFunc func(*Live)

func (f liveOptionFunc) applyLive(l *Live) { f(l) }

// WithLiveKeepAlive sets how often streams send a ping when idle (default
// [DefaultKeepAlive]); dashboards reconnect when they miss three. d <= 0
// keeps the default; d is taken as 10 ms at least (a stream writes no more
// than a hundred pings a second) and 24 hours at most (a page's timer of
// three times it must be within a browser's 2³¹−1 ms, past which the
// browser fires it at once). [NewLive] logs a warning through
// [WithLiveLogger] when it cuts d to either bound.
func WithLiveKeepAlive(d time.Duration) LiveOption {
	return liveOptionFunc(func(l *Live) {
		if d > 0 {
			l.keepAlive = d // cut to its bounds by NewLive, which warns
		}
	})
}

// WithLiveLogger sets the logger for the Live's own problems: a
// [WithLiveKeepAlive] cut to its bounds, logged once by [NewLive] as a
// warning naming the option, the value given and the value used. The
// default discards everything; nil keeps it. It is the Live's own: the
// handler's [WithLogger] does not reach it.
func WithLiveLogger(logger *slog.Logger) LiveOption {
	return liveOptionFunc(func(l *Live) {
		if logger != nil {
			l.log = logger
		}
	})
}

// The bounds of a Live's keep-alive (see WithLiveKeepAlive).
const (
	minKeepAlive = 10 * time.Millisecond
	maxKeepAlive = 24 * time.Hour
)

// WithLiveMaxStreams sets how many streams a Live serves at once (default
// [DefaultMaxStreams]): more are answered 503 with Retry-After, which a
// dashboard takes as an error, retrying with backoff, and counted in
// api/health (live.refused). n <= 0 keeps the default.
func WithLiveMaxStreams(n int) LiveOption {
	return liveOptionFunc(func(l *Live) {
		if n > 0 {
			l.maxStreams = n
		}
	})
}

// NewLive returns a Live with no subscribers.
func NewLive(opts ...LiveOption) *Live {
	l := &Live{
		keepAlive:  DefaultKeepAlive,
		maxStreams: DefaultMaxStreams,
		subs:       make(map[*subscriber]struct{}),
		done:       make(chan struct{}),
		servers:    make(map[*http.Server]bool),
	}
	for _, o := range opts {
		if o != nil {
			o.applyLive(l)
		}
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	// Cut here, once every option is applied, so that the warning goes
	// to the logger whatever the options' order.
	if ka := min(max(l.keepAlive, minKeepAlive), maxKeepAlive); ka != l.keepAlive {
		l.log.Warn("ui: WithLiveKeepAlive outside [10ms, 24h], taken as the nearest bound",
			"option", "WithLiveKeepAlive", "given", l.keepAlive, "used", ka)
		l.keepAlive = ka
	}
	return l
}

type subscriber struct {
	srv  *http.Server  // the server the stream is served by; nil if unknown
	wake chan struct{} // capacity 1: a notification is pending
	kick chan struct{} // closed to end this stream

	mu        sync.Mutex
	records   int
	latest    recording.ID // the newest record told, if hasLatest
	hasLatest bool
	cleared   bool
}

var _ recording.Sink = (*Live)(nil)

// Write announces records to every subscriber without blocking.
func (l *Live) Write(_ context.Context, records []*recording.Record) error {
	if len(records) == 0 {
		return nil
	}
	l.notify(len(records), records[len(records)-1].ID, true)
	return nil
}

// Announce tells the open dashboards about n records that another process
// wrote to a shared store, the newest with ID latest; n == 0 tells them the
// store was cleared. It never blocks, as Write. A dashboard over a shared
// store (store/redisstore) calls it from the store's subscription, so that
// it refreshes when any instance of the fleet records something:
//
//	go st.Subscribe(ctx, live.Announce)
//
// n comes from outside the process, so it is not trusted: a negative n is
// dropped, and n is taken as at most 1<<30 (far more than any one write),
// so that the counts of the streams and of api/health never wrap.
func (l *Live) Announce(n int, latest recording.ID) {
	if n < 0 {
		return
	}
	n = min(n, maxAnnounced)
	l.notify(n, latest, n > 0)
}

// maxAnnounced is the largest count Announce takes from one announcement.
const maxAnnounced = 1 << 30

// BorrowsRecords reports true: Write reads the last record's ID and keeps
// no record (see [recording.Borrower]).
func (l *Live) BorrowsRecords() bool { return true }

var _ recording.Borrower = (*Live)(nil)

// notify tells every subscriber about n new records, the newest latest if
// hasLatest; n == 0 means the store was cleared. The ID is formatted only
// when an event is written (writeRecordsEvent), not for every batch.
func (l *Live) notify(n int, latest recording.ID, hasLatest bool) {
	l.notified.Add(uint64(n))
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.subs {
		s.mu.Lock()
		if n == 0 {
			s.cleared = true
		}
		s.records = min(s.records, math.MaxInt-n) + n // never wraps
		if hasLatest {
			s.latest, s.hasLatest = latest, true
		}
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
			l.merged.Add(1)
		}
	}
}

// Subscribers returns how many streams are open.
func (l *Live) Subscribers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.subs)
}

// disconnect ends every open stream but keeps l open: dashboards reconnect
// (with backoff) and carry on.
func (l *Live) disconnect() { l.endStreams(nil) }

// endStreams ends the open streams served by srv, or all of them if srv is
// nil.
func (l *Live) endStreams(srv *http.Server) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.subs {
		if srv == nil || s.srv == srv {
			close(s.kick)
			delete(l.subs, s)
		}
	}
}

// shutdown runs when srv's Shutdown begins: it ends srv's streams, which
// would otherwise keep Shutdown waiting until its deadline, and refuses new
// ones from srv.
func (l *Live) shutdown(srv *http.Server) {
	l.mu.Lock()
	l.servers[srv] = true
	l.mu.Unlock()
	l.endStreams(srv)
}

// Close ends every stream and refuses new ones; dashboards stop
// reconnecting. Calling it again does nothing.
func (l *Live) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.done)
	}
	l.mu.Unlock()
	l.disconnect()
	return nil
}

// subscribe opens a stream served by srv (nil if unknown), or returns nil
// if l is closed or srv is shutting down, and nil and full if l serves as
// many streams as it may.
func (l *Live) subscribe(srv *http.Server) (_ *subscriber, full bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, false
	}
	if srv != nil {
		down, known := l.servers[srv]
		if down {
			return nil, false
		}
		if !known {
			l.servers[srv] = false
			// The hook runs in a goroutine of its own: taking l.mu
			// there does not deadlock with this call.
			srv.RegisterOnShutdown(func() { l.shutdown(srv) })
		}
	}
	if len(l.subs) >= l.maxStreams {
		l.refused.Add(1)
		return nil, true
	}
	s := &subscriber{srv: srv, wake: make(chan struct{}, 1), kick: make(chan struct{})}
	l.subs[s] = struct{}{}
	return s, false
}

func (l *Live) unsubscribe(s *subscriber) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.subs[s]; ok {
		delete(l.subs, s)
		close(s.kick)
	}
}

// liveEvent is the data of a "records" event.
type liveEvent struct {
	Records int    `json:"records"`
	Latest  string `json:"latest,omitempty"`
	Cleared bool   `json:"cleared,omitempty"`
}

// events serves the Server-Sent Events stream of the Live.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	l := h.cfg.live
	if l == nil {
		// 204 tells EventSource not to reconnect.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	s, full := l.subscribe(srv)
	if full {
		// EventSource takes any answer but 200 and 204 as an error: the
		// dashboard retries with backoff.
		w.Header().Set("Retry-After", "10")
		h.fail(w, r, http.StatusServiceUnavailable, fmt.Sprintf(
			"too many live streams: this dashboard serves %d at once (ui.WithLiveMaxStreams); the page retries", l.maxStreams))
		return
	}
	if s == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	defer l.unsubscribe(s)

	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's WriteTimeout
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", noStore)
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	ka := l.keepAlive
	// "retry" sets EventSource's own reconnect delay; the page adds backoff.
	if _, err := fmt.Fprintf(w, "retry: 2000\nevent: hello\ndata: {\"keepalive_ms\":%d}\n\n", ka.Milliseconds()); err != nil {
		return
	}
	if rc.Flush() != nil {
		return
	}
	t := time.NewTicker(ka)
	defer t.Stop()
	// A stream sends at most one "records" event per liveEventInterval:
	// news that comes sooner waits in s, merged, for the pace timer.
	pace := time.NewTimer(time.Hour)
	pace.Stop()
	defer pace.Stop()
	var paceC <-chan time.Time // the pace timer's channel while it runs
	wake := s.wake             // nil while the pace timer runs
	var sent time.Time         // when the last "records" event went
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-s.kick:
			return
		case <-l.done:
			return
		case <-t.C:
			_, err = fmt.Fprint(w, "event: ping\ndata: {}\n\n")
		case <-wake:
			if d := liveEventInterval - time.Since(sent); d > 0 {
				pace.Reset(d)
				paceC, wake = pace.C, nil
				continue
			}
			sent, err = time.Now(), writeRecordsEvent(w, s)
		case <-paceC:
			paceC, wake = nil, s.wake
			sent, err = time.Now(), writeRecordsEvent(w, s)
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// liveEventInterval is the least time between two "records" events of one
// stream. The page refreshes at most once a second, 150 ms after news;
// under steady traffic, where the recorder's writer hands over a batch
// every few milliseconds, an event per batch would only cost the server and
// the page a write, a flush and a parse each.
const liveEventInterval = 250 * time.Millisecond

// writeRecordsEvent writes a "records" event of the news s holds, and
// empties it; it writes nothing when there is no news (the records of a
// wake-up were already told in an earlier event).
func writeRecordsEvent(w http.ResponseWriter, s *subscriber) error {
	s.mu.Lock()
	ev := liveEvent{Records: s.records, Cleared: s.cleared}
	latest, hasLatest := s.latest, s.hasLatest
	s.records, s.cleared = 0, false
	s.mu.Unlock()
	if ev.Records == 0 && !ev.Cleared {
		return nil
	}
	if hasLatest {
		ev.Latest = latest.String()
	}
	b, _ := json.Marshal(ev)
	_, err := fmt.Fprintf(w, "event: records\ndata: %s\n\n", b)
	return err
}
