package redisstore

import (
	"context"
	"strconv"
	"strings"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// Subscribe calls fn for every write to the store — by this process or any
// other with the same prefix — with the number of records written and the
// newest one's ID, and with n == 0 after a Clear, until ctx ends (it
// returns ctx's error) or the store is closed (it returns
// [store.ErrClosed]). Writes are announced by the transaction that stores
// them, so fn finds them stored. fn runs on Subscribe's goroutine and
// should not block for long. If Redis goes away the subscription is
// renewed when it returns; writes made meanwhile are not announced.
//
// A dashboard of a fleet uses it to refresh when any instance records
// something: pass [github.com/goappstats/appstats/ui.Live.Announce].
func (s *Store) Subscribe(ctx context.Context, fn func(n int, latest recording.ID)) error {
	if err := s.rlock(); err != nil {
		return err
	}
	ps := s.rdb.Subscribe(ctx, s.k.events())
	s.mu.RUnlock()
	defer ps.Close()
	ch := ps.Channel()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.stop:
			return store.ErrClosed
		case m, ok := <-ch:
			if !ok {
				return store.ErrClosed
			}
			n, latest, ok := parseEvent(m.Payload)
			if ok {
				fn(n, latest)
			}
		}
	}
}

// parseEvent parses "n id" (a write) or "0" (a clear).
func parseEvent(p string) (int, recording.ID, bool) {
	ns, ids, _ := strings.Cut(p, " ")
	n, err := strconv.Atoi(ns)
	if err != nil || n < 0 {
		return 0, recording.ID{}, false
	}
	if n == 0 {
		return 0, recording.ID{}, true
	}
	id, err := recording.ParseID(ids)
	return n, id, err == nil
}
