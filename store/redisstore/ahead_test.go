package redisstore_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// timeHook moves Redis's answer to TIME by shift, or refuses TIME as an
// ACL would when refuse is set.
type timeHook struct {
	shift  time.Duration
	refuse bool
	asked  atomic.Int64
}

func (h *timeHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *timeHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		tc, ok := cmd.(*redis.TimeCmd)
		if !ok {
			return next(ctx, cmd)
		}
		h.asked.Add(1)
		if h.refuse {
			err := redis.Error(proto("NOPERM this user has no permissions to run the 'time' command"))
			cmd.SetErr(err)
			return err
		}
		err := next(ctx, cmd)
		if err == nil {
			tc.SetVal(tc.Val().Add(h.shift))
		}
		return err
	}
}
func (h *timeHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// proto is a Redis error reply, as go-redis returns it.
type proto string

func (e proto) Error() string { return string(e) }
func (proto) RedisError()     {}

// Records that start more than MaxAhead after Redis's clock are stored
// shifted back by this host's lead on Redis's clock, so that they are
// listed in order and not lost, and the store says so: WriteStats counts
// them (Ahead), LastError and Health's Detail name the offset, and Health
// stays ok (the store keeps what it is given). Records within MaxAhead
// are stored as they are, and so is every record when Redis's clock is
// ahead of the host's, or when the user may not ask Redis for its time.
// Before, the records were dropped (every one of them, when Redis's clock
// was behind the fleet's by more than MaxAhead).
func TestRecordsFromTheFuture(t *testing.T) {
	r := testservers.StartRedis(t)
	ctx := context.Background()

	t.Run("redis behind", func(t *testing.T) {
		hook := &timeHook{shift: -2 * time.Hour}
		s := openAt(t, "redis://"+r.Addr, redisstore.Options{FoldInterval: -1, RetentionInterval: -1})
		s.Client().AddHook(hook)
		now := time.Now()
		recs := storetest.Records(1, now.Add(-time.Minute), time.Millisecond, 10)
		if err := s.Write(ctx, recs); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if hook.asked.Load() == 0 {
			t.Fatal("the store never asked Redis for its time")
		}
		ws := s.WriteStats()
		if ws.Written != 10 || ws.Dropped != 0 || ws.Ahead != 10 || ws.Down || !strings.Contains(ws.LastError, "shifted") {
			t.Errorf("WriteStats = %+v; want 10 written and shifted, none dropped, LastError saying so", ws)
		}
		h := s.Health()
		if h.State != store.StateOK || !strings.Contains(h.Detail, "ahead of Redis") {
			t.Errorf("Health = %+v; want ok, with a Detail naming the offset", h)
		}
		// The offset is measured over a round trip to Redis (a loaded
		// machine's may take a while): about 2h, said to the second.
		if m := regexp.MustCompile(`clock is (\S+) ahead`).FindStringSubmatch(h.Detail); m == nil {
			t.Errorf("Health's Detail %q names no offset", h.Detail)
		} else if d, err := time.ParseDuration(m[1]); err != nil || d%time.Second != 0 || d < 2*time.Hour-time.Minute || d > 2*time.Hour+time.Minute {
			t.Errorf("Health's Detail names the offset %q (%v); want about 2h, in whole seconds", m[1], err)
		}
		p, err := s.List(ctx, store.Query{Limit: 100})
		if err != nil || len(p.Records) != 10 {
			t.Fatalf("List = %d records, %v; want 10", len(p.Records), err)
		}
		for i, rec := range p.Records {
			want := recs[len(recs)-1-i].Start.Add(-2 * time.Hour)
			if d := rec.Start.Sub(want); d < -time.Minute || d > time.Minute {
				t.Errorf("record %d starts at %v, want about %v (shifted back by Redis's offset)", i, rec.Start, want)
			}
		}
		if recs[0].Start.Before(now.Add(-2 * time.Minute)) {
			t.Errorf("the caller's record was changed: %v", recs[0].Start)
		}
	})

	t.Run("host ahead", func(t *testing.T) {
		// Redis's clock is the host's; records 24 hours ahead (the
		// record's own time) are stored at Redis's time, the others as
		// they are.
		s := openAt(t, "redis://"+r.Addr, redisstore.Options{FoldInterval: -1, RetentionInterval: -1})
		now := time.Now()
		recs := append(storetest.Records(1, now.Add(-time.Minute), time.Millisecond, 10),
			storetest.Records(2, now.Add(24*time.Hour), time.Millisecond, 10)...)
		recs = append(recs, storetest.Records(3, now.Add(redisstore.MaxAhead/2), time.Millisecond, 1)...)
		if err := s.Write(ctx, recs); err != nil {
			t.Errorf("Write = %v", err)
		}
		if ws := s.WriteStats(); ws.Written != 21 || ws.Dropped != 0 || ws.Ahead != 10 || ws.Down {
			t.Errorf("WriteStats = %+v; want 21 written, 10 of them shifted, none dropped", ws)
		}
		p, err := s.List(ctx, store.Query{Limit: 100})
		if err != nil || len(p.Records) != 21 {
			t.Fatalf("List = %d records, %v; want 21", len(p.Records), err)
		}
		if top := p.Records[0].Start; top.After(time.Now().Add(redisstore.MaxAhead)) {
			t.Errorf("List's first record starts at %v, from the future", top)
		}
	})

	t.Run("redis ahead", func(t *testing.T) {
		hook := &timeHook{shift: 2 * time.Hour}
		s := openAt(t, "redis://"+r.Addr, redisstore.Options{FoldInterval: -1, RetentionInterval: -1})
		s.Client().AddHook(hook)
		recs := storetest.Records(1, time.Now().Add(-time.Minute), time.Millisecond, 10)
		if err := s.Write(ctx, recs); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if ws := s.WriteStats(); ws.Written != 10 || ws.Ahead != 0 {
			t.Errorf("WriteStats = %+v; want 10 written as they are", ws)
		}
		p, err := s.List(ctx, store.Query{Limit: 100})
		if err != nil || len(p.Records) != 10 || !p.Records[9].Start.Equal(recs[0].Start) {
			t.Errorf("List = %d records, %v; want 10, not shifted", len(p.Records), err)
		}
		if h := s.Health(); h.Detail != "" {
			t.Errorf("Health = %+v; want no Detail", h)
		}
	})

	t.Run("time refused", func(t *testing.T) {
		hook := &timeHook{refuse: true}
		s := openAt(t, "redis://"+r.Addr, redisstore.Options{FoldInterval: -1, RetentionInterval: -1})
		s.Client().AddHook(hook)
		recs := storetest.Records(1, time.Now().Add(time.Hour), time.Millisecond, 10)
		err := s.Write(ctx, recs)
		if err != nil || errors.Is(err, redisstore.ErrUnavailable) {
			t.Fatalf("Write with TIME refused: %v", err)
		}
		if hook.asked.Load() == 0 {
			t.Fatal("the store never asked Redis for its time")
		}
		if ws := s.WriteStats(); ws.Written != 10 || ws.Ahead != 0 || ws.Dropped != 0 {
			t.Errorf("WriteStats = %+v; want 10 written as they are (no clock to shift them by)", ws)
		}
		if p, err := s.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 10 {
			t.Errorf("List = %d records, %v; want 10", len(p.Records), err)
		}
	})
}
