package main

import (
	"context"
	"testing"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/memstore"
)

// The probes embed the store.Store interface, so that they offer no more
// than it and the methods they declare (memstore itself keeps traces).
type plain struct{ store.Store }

type withTraces struct{ store.Store }

func (withTraces) ExecTrace(context.Context, recording.ID) ([]byte, error) {
	return []byte("trace"), nil
}

type withHealth struct{ store.Store }

func (withHealth) Health() store.Health {
	return store.Health{State: store.StateUnavailable, Detail: "probe"}
}

type withBoth struct{ withTraces }

func (withBoth) Health() store.Health {
	return store.Health{State: store.StateUnavailable, Detail: "probe"}
}

// TestReadOnlyKeepsInterfaces: the read-only store serve puts in front of
// the data directory's store refuses writes and offers the dashboard what
// the store offers, neither more nor less: its execution traces
// (store.ExecTraceStore) and its health (store.HealthReporter: damaged
// entries skipped, Redis down), which the health panel shows.
func TestReadOnlyKeepsInterfaces(t *testing.T) {
	mem := memstore.New(0)
	defer mem.Close()
	for _, c := range []struct {
		name           string
		st             store.Store
		traces, health bool
	}{
		{"neither", plain{mem}, false, false},
		{"traces", withTraces{mem}, true, false},
		{"health", withHealth{mem}, false, true},
		{"both", withBoth{withTraces{mem}}, true, true},
	} {
		ro := readOnlyOf(c.st)
		if err := ro.Write(context.Background(), nil); err != errReadOnly {
			t.Errorf("%s: Write returned %v, want %v", c.name, err, errReadOnly)
		}
		if err := ro.Clear(context.Background()); err != errReadOnly {
			t.Errorf("%s: Clear returned %v, want %v", c.name, err, errReadOnly)
		}
		ts, ok := ro.(store.ExecTraceStore)
		if ok != c.traces {
			t.Errorf("%s: an ExecTraceStore: %v, want %v", c.name, ok, c.traces)
		} else if ok {
			if b, err := ts.ExecTrace(context.Background(), recording.ID{}); err != nil || string(b) != "trace" {
				t.Errorf("%s: ExecTrace %q, %v; want the store's", c.name, b, err)
			}
		}
		hr, ok := ro.(store.HealthReporter)
		if ok != c.health {
			t.Errorf("%s: a HealthReporter: %v, want %v", c.name, ok, c.health)
		} else if ok {
			if h := hr.Health(); h.Detail != "probe" {
				t.Errorf("%s: Health %+v; want the store's", c.name, h)
			}
		}
	}
}
