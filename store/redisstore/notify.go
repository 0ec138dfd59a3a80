package redisstore

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

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
// renewed when it returns; writes made meanwhile are not announced, and
// the log (once per cause) and [Store.Health]'s Detail say why live
// updates stopped (Redis away, or refusing: a password changed, say). If
// Redis refuses the subscription (an ACL user without the channel),
// Subscribe logs it, [Store.Health] says so, and it subscribes again every
// few minutes, so that live updates come back once the channel is
// granted.
//
// A dashboard of a fleet uses it to refresh when any instance records
// something: pass [github.com/goappstats/appstats/ui.Live.Announce].
func (s *Store) Subscribe(ctx context.Context, fn func(n int, latest recording.ID)) error {
	if err := s.rlock(); err != nil {
		return err
	}
	ps := s.rdb.Subscribe(ctx, s.k.events())
	s.mu.RUnlock()
	// Closing ps ends a receive that waits: on Close, or when ctx ends.
	done := make(chan struct{})
	defer close(done)
	// This subscription's failure, if any, is its own: another Subscribe
	// succeeding or ending leaves it said.
	sub := new(subState)
	defer func() {
		// A failure this subscription noted ends with it.
		s.subMu.Lock()
		delete(s.subErrs, sub)
		s.subMu.Unlock()
	}()
	go func() {
		select {
		case <-s.stop:
		case <-ctx.Done():
		case <-done:
		}
		ps.Close()
	}()
	// While Redis is away, each receive dials again: back off, so that
	// go-redis's log line for each failed dial stays rare.
	var backoff time.Duration
	for {
		msg, err := ps.ReceiveTimeout(ctx, subscribeIdle)
		select {
		case <-s.stop:
			return store.ErrClosed
		default:
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			ps.Ping(ctx) // an idle subscription: check it is alive
			continue
		case noPerm(err):
			// The ACL user may not subscribe (Open checks it; a store
			// made by New does not, and ACLs change): Health and the log
			// say so, and the subscription is asked again a reprobe
			// later, in case the channel has been granted.
			s.refusedSubscribe(err)
			select {
			case <-time.After(time.Duration(s.reprobe.Load())):
			case <-ctx.Done():
				continue
			case <-s.stop:
				continue
			}
			if err := ps.Subscribe(ctx, s.k.events()); err != nil && ctx.Err() == nil {
				s.log.Warn("redisstore: subscribing again", "channel", s.k.events(), "err", err)
			}
			continue
		case err != nil:
			// Redis away, or refusing (a password changed, a replica
			// promoted): said once per cause, in the log and in Health,
			// not once a retry.
			s.subscribeFailed(sub, err)
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			case <-s.stop:
			}
			continue
		}
		backoff = 0
		s.subscribed(sub)
		if sub, ok := msg.(*redis.Subscription); ok && sub.Kind == "subscribe" && s.noSubscribe.Swap(false) {
			s.log.Warn("redisstore: live updates again: the user may subscribe to the channel", "channel", s.k.events())
		}
		if m, ok := msg.(*redis.Message); ok {
			if n, latest, ok := parseEvent(m.Payload); ok {
				fn(n, latest)
			}
		}
	}
}

// A subState is one Subscribe call's, the key of its failure in
// Store.subErrs.
type subState struct{ _ byte }

// subscribeFailed notes that subscription sub's receive failed (other
// than refused by the ACL, or idle): the log says so once per cause (a
// message unlike its last one's), and Health's Detail while it lasts.
func (s *Store) subscribeFailed(sub *subState, err error) {
	msg := err.Error()
	s.subMu.Lock()
	was, failing := s.subErrs[sub]
	same := was.msg == msg
	if s.subErrs == nil {
		s.subErrs = make(map[*subState]subFailure)
	}
	if !failing {
		was.since = time.Now()
	}
	s.subErrs[sub] = subFailure{msg: msg, since: was.since}
	s.subMu.Unlock()
	if !same {
		s.log.Warn("redisstore: no live updates: subscribing to the channel fails, retrying", "channel", s.k.events(), "err", msg)
	}
}

// subscribed notes that subscription sub received something: a failure
// subscribeFailed noted for it is over.
func (s *Store) subscribed(sub *subState) {
	s.subMu.Lock()
	was, ok := s.subErrs[sub]
	delete(s.subErrs, sub)
	s.subMu.Unlock()
	if ok {
		s.log.Warn("redisstore: live updates again: subscribed to the channel", "channel", s.k.events(), "after", was.msg)
	}
}

// A subFailure is a failing subscription's last error, and since when it
// has been failing.
type subFailure struct {
	msg   string
	since time.Time
}

// subErr returns the failure of a failing subscription (the same message
// for all of them, as a rule: they share Redis; else the least, so that
// Health says one steadily), or "", and since when the subscriptions
// failing have been (the latest start of their failures).
func (s *Store) subErr() (string, time.Time) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	first := ""
	var since time.Time
	for _, f := range s.subErrs {
		if first == "" || f.msg < first {
			first = f.msg
		}
		if f.since.After(since) {
			since = f.since
		}
	}
	return first, since
}

// subscribeIdle is how long a subscription waits for a message before it
// pings the server.
const subscribeIdle = 30 * time.Second

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
