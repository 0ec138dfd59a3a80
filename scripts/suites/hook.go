//go:build ignore

// This file joins package appstatsharness only in the "recorded" run, through
// go build's -overlay, with context.go patched so that context.Background and
// context.TODO ask backgroundValue: every context of the suite's process then
// carries an appstats record, so that every call the suite makes through the
// wrappers is recorded (a record is finished and a new one started every
// rotateEvery calls).
package appstatsharness

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/goappstats/appstats/recording"
)

const rotateEvery = 200

// nilCtx is a context with no values, below the record's context (its parent
// must not be context.Background, which would ask the hook again).
type nilCtx struct{}

func (nilCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (nilCtx) Done() <-chan struct{}       { return nil }
func (nilCtx) Err() error                  { return nil }
func (nilCtx) Value(any) any               { return nil }

type hook struct {
	rec   *recording.Recorder
	mu    sync.Mutex // held while rotating; TryLock, as recording may ask the hook again
	n     atomic.Int64
	cur   atomic.Pointer[context.Context]
	ar    *recording.ActiveRecord
	calls atomic.Int64 // calls recorded in finished records
	recs  atomic.Int64
}

// rotate finishes the current record and starts a new one.
func (h *hook) rotate() {
	if h.ar != nil {
		h.ar.Finish()
	}
	var ctx context.Context
	ctx, h.ar = h.rec.StartRecord(nilCtx{}, recording.RequestInfo{Kind: recording.KindBackground, Path: "/suite"})
	ctx = recording.NewContext(ctx, h.ar)
	h.cur.Store(&ctx)
}

func (h *hook) value(key any) any {
	if h.n.Add(1)%rotateEvery == 0 && h.mu.TryLock() {
		h.rotate()
		h.mu.Unlock()
	}
	cur := h.cur.Load()
	if cur == nil {
		return nil
	}
	return (*cur).Value(key)
}

func init() {
	h := &hook{}
	out := os.Getenv("APPSTATS_SUITE_CALLS")
	h.rec = recording.New(recording.WithSinks(recording.SinkFunc(func(_ context.Context, rs []*recording.Record) error {
		for _, r := range rs {
			h.calls.Add(int64(len(r.Calls)))
			h.recs.Add(1)
		}
		if out != "" {
			os.WriteFile(out, fmt.Appendf(nil, "%d records, %d calls\n", h.recs.Load(), h.calls.Load()), 0o644)
		}
		return nil
	})))
	h.mu.Lock()
	h.rotate()
	h.mu.Unlock()
	context.SetBackgroundValue(h.value)
}
