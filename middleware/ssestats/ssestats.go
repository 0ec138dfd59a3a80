// Package ssestats serves server-sent events (text/event-stream) recorded
// event by event: an event produced under [Stream.StartEvent] becomes a
// record of its own (kind "message", method "SEND", route the stream's
// route and the event's name, the calls made while producing it), in the
// stream's trace; the stream's record keeps its connect and close events
// and counts events and bytes, and is listed as running while the stream
// is open. See [recording.Stream]. It needs only the standard library.
//
// Mount the handler behind the HTTP middleware (middleware/httpstats, or
// appstats.Middleware) as any other:
//
//	mux.HandleFunc("GET /prices", func(w http.ResponseWriter, r *http.Request) {
//		s, err := ssestats.New(w, r)
//		if err != nil {
//			http.Error(w, err.Error(), http.StatusInternalServerError)
//			return
//		}
//		defer s.Close()
//		for {
//			select {
//			case <-r.Context().Done():
//				return // the client went away: recorded as the close
//			case <-tick.C:
//			}
//			ctx, ev := s.StartEvent(r.Context(), "price")
//			price, err := quotes.Price(ctx) // a call of the event's record
//			if err == nil {
//				err = s.Send(ctx, ssestats.Event{Name: "price", Data: price})
//			}
//			ev.End(err)
//		}
//	})
//
// Events sent from other requests — a broadcast — are calls of those
// requests' records, counted on the stream ([Stream.Send]). Exported with
// package otelexport, every event sent is a PRODUCER span, as
// OpenTelemetry's messaging conventions make a send: an event of the
// stream's own record a span "send GET /prices" under the stream's SERVER
// span (one PRODUCER an event: the write of an event produced under
// [Stream.StartEvent] is an INTERNAL child of the event's span, beside the
// calls made producing it), an event sent for another record that record's
// call, a PRODUCER span named the same way ("send GET /prices"; the call
// is "sse send price" on the dashboard), with messaging.system,
// messaging.operation.type "send", messaging.destination.name the stream's
// route and appstats.message.type the event's name).
package ssestats

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/recording"
)

// ErrBadField is returned by [Stream.Send] for an event whose ID or name
// holds a line break or a NUL, which the event stream format cannot carry.
var ErrBadField = errors.New("ssestats: an event's id and name must not hold a line break or NUL")

// An Option configures [New].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct{ route string }

// WithRoute sets the stream's route, the first part of its events' routes.
// The default is r.Pattern, as net/http's ServeMux sets it ("GET /prices"),
// else the request's normalized path.
func WithRoute(route string) Option {
	return optionFunc(func(c *config) { c.route = route })
}

// An Event is one server-sent event.
type Event struct {
	ID    string        // the "id" field, sent when not empty
	Name  string        // the "event" field; empty is the default type, "message"
	Data  string        // the "data" field, a line per line of Data
	Retry time.Duration // the "retry" field, sent when positive, in milliseconds rounded up
}

// name is the event's type in the event stream format.
func (ev *Event) name() string {
	if ev.Name == "" {
		return "message"
	}
	return ev.Name
}

// A Stream is an event stream being served. Its methods are safe for
// concurrent use.
type Stream struct {
	w   http.ResponseWriter
	rc  *http.ResponseController
	req context.Context // the request's context: done when the client goes away
	s   *recording.Stream

	mu  sync.Mutex // serializes writes
	buf []byte     // the frame being written, under mu
}

// New starts an event stream on w, the response to r: it sends the headers
// (Content-Type: text/event-stream, Cache-Control: no-cache) with status
// 200 and flushes them, and records the stream as [recording.StartStream]
// does with the record r's context carries (the HTTP middleware's), if any.
// It fails when w cannot flush.
func New(w http.ResponseWriter, r *http.Request, opts ...Option) (*Stream, error) {
	cfg := config{route: r.Pattern}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // proxies that buffer (nginx) pass events on at once
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, fmt.Errorf("ssestats: the response cannot be flushed: %w", err)
	}
	s := recording.StartStream(r.Context(), recording.StreamInfo{System: convention.SystemSSE, Route: cfg.route})
	return &Stream{w: w, rc: rc, req: r.Context(), s: s}, nil
}

// Stream returns the recorded stream, or nil when it is not recorded.
func (s *Stream) Stream() *recording.Stream { return s.s }

// StartEvent starts the record of an event named name (empty is
// "message"), to be produced and sent with the returned context
// ([recording.Stream.StartMessage] with [recording.Send]): the calls made
// with it while the event is produced are the event's, and so is its
// [Stream.Send], whose size becomes the event's. End it with End(err).
func (s *Stream) StartEvent(ctx context.Context, name string) (context.Context, *recording.Message) {
	if name == "" {
		name = "message"
	}
	return s.s.StartMessage(ctx, recording.Send, name, -1)
}

// Send writes ev and flushes it, recorded as [recording.Stream.StartSend]
// says from what ctx carries: under [Stream.StartEvent], a part of that
// event's record; from the stream's own handler otherwise, a record of its
// own; from another recorded request (a broadcast), a call of that request;
// always counted on the stream. ctx does not bound the write: the
// response's write deadline does (see [http.ResponseController]).
func (s *Stream) Send(ctx context.Context, ev Event) error {
	if strings.ContainsAny(ev.ID, "\r\n\x00") || strings.ContainsAny(ev.Name, "\r\n\x00") {
		return ErrBadField
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = appendEvent(s.buf[:0], &ev)
	m := s.s.StartSend(ctx, ev.name(), int64(len(s.buf)))
	_, err := s.w.Write(s.buf)
	if err == nil {
		err = s.rc.Flush()
	}
	m.End(err)
	if err != nil {
		s.s.Close("write failed: " + err.Error())
	}
	return err
}

// Comment writes a comment line (": text"), which clients ignore — a
// keep-alive for proxies that close idle connections — and flushes it. It
// is not counted as an event. A text of several lines — split where a
// client splits them, at CRLF, LF or a lone CR — is written as as many
// comment lines.
func (s *Stream) Comment(text string) error {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = s.buf[:0]
	for line := range strings.Lines(text) {
		s.buf = append(append(append(s.buf, ": "...), strings.TrimSuffix(line, "\n")...), '\n')
	}
	if text == "" {
		s.buf = append(s.buf, ":\n"...)
	}
	s.buf = append(s.buf, '\n')
	_, err := s.w.Write(s.buf)
	if err == nil {
		err = s.rc.Flush()
	}
	return err
}

// Close records the end of the stream as its "close" event: "closed by the
// client" if the request's context is done (the client went away), else
// "closed by the server". The handler ends the response by returning.
func (s *Stream) Close() {
	if s.req.Err() != nil {
		s.s.Close("closed by the client")
		return
	}
	s.s.Close("closed by the server")
}

// appendEvent appends ev in the event stream format.
func appendEvent(b []byte, ev *Event) []byte {
	if ev.ID != "" {
		b = append(append(append(b, "id: "...), ev.ID...), '\n')
	}
	if ev.Name != "" {
		b = append(append(append(b, "event: "...), ev.Name...), '\n')
	}
	if ev.Retry > 0 {
		// Whole milliseconds, rounded up: a positive Retry is never 0,
		// which would ask the client to reconnect at once.
		ms := ev.Retry / time.Millisecond
		if ev.Retry%time.Millisecond != 0 {
			ms++
		}
		b = append(strconv.AppendInt(append(b, "retry: "...), int64(ms), 10), '\n')
	}
	data := strings.ReplaceAll(ev.Data, "\r\n", "\n")
	data = strings.ReplaceAll(data, "\r", "\n")
	for line := range strings.SplitSeq(data, "\n") {
		b = append(append(append(b, "data: "...), line...), '\n')
	}
	return append(b, '\n')
}
