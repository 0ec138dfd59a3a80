package redisstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Two stores on one prefix are one store: each sees what the other
// writes, is told of it, and a Clear by one empties both.
func TestShared(t *testing.T) {
	r := testservers.StartRedis(t)
	url := "redis://" + r.Addr
	a := openAt(t, url, redisstore.Options{Prefix: "shared"})
	b := openAt(t, url, redisstore.Options{Prefix: "shared"})
	other := openAt(t, url, redisstore.Options{Prefix: "other"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type event struct {
		n      int
		latest recording.ID
	}
	events := make(chan event, 10)
	done := make(chan error, 1)
	go func() { done <- a.Subscribe(ctx, func(n int, latest recording.ID) { events <- event{n, latest} }) }()
	next := func() event {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-time.After(10 * time.Second):
			t.Fatal("no announcement")
		}
		return event{}
	}

	// Until the subscription is established, writes are not announced:
	// probe with records of two hours ago.
	for seed := uint64(100); ; seed++ {
		if err := b.Write(ctx, storetest.Records(seed, time.Now().Add(-2*time.Hour), time.Second, 1)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-events:
		case <-time.After(50 * time.Millisecond):
			continue
		}
		break
	}
	recs := storetest.Records(1, time.Now().Add(-time.Minute), time.Second, 20)
	if err := b.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.n != 20 || e.latest != recs[19].ID {
		t.Fatalf("announced %+v, want 20 records, newest %s", e, recs[19].ID)
	}
	if err := other.Write(ctx, storetest.Records(2, time.Now(), time.Second, 3)); err != nil {
		t.Fatal(err)
	}
	if got, err := a.Get(ctx, recs[3].ID); err != nil || got.Path != recs[3].Path {
		t.Fatalf("a.Get of b's record = %v, %v", got, err)
	}
	if st, err := a.Stats(ctx, store.Window{Since: time.Now().Add(-time.Hour)}); err != nil || st.Requests != 20 {
		t.Fatalf("a.Stats counts %v requests, %v; want b's 20, not the other prefix's", st.Requests, err)
	}
	if err := b.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	for e := next(); e.n != 0; e = next() {
	}
	if n, err := a.Len(ctx); n != 0 || err != nil {
		t.Errorf("a.Len after b.Clear = %d, %v", n, err)
	}
	if n, err := other.Len(ctx); n != 3 || err != nil {
		t.Errorf("another prefix after Clear: Len = %d, %v; want 3", n, err)
	}
	a.Close()
	if err := <-done; !errors.Is(err, store.ErrClosed) {
		t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
	}
}

// A record whose ID's time is not its start (made by hand, not by a
// recorder) is found through the ids hash, which retention cleans.
func TestForeignIDs(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{Prefix: "appstats-foreign", MaxRecords: 1, RetentionInterval: -1})
	old := storetest.FullRecord(time.Now().Add(-3*time.Hour), 1)
	old.ID = recording.ID{15: 1} // time zero
	recent := storetest.FullRecord(time.Now(), 2)
	recent.ID = recording.ID{15: 2}
	if err := s.Write(ctx, []*recording.Record{old, recent}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*recording.Record{old, recent} {
		if got, err := s.Get(ctx, want.ID); err != nil || got.Path != want.Path {
			t.Errorf("Get(%s) = %v, %v", want.ID, got, err)
		}
	}
	if _, err := s.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, old.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a record retention deleted = %v, want ErrNotFound", err)
	}
	c := clientOf(t, r.Addr)
	// Both records are in the ids hash (their IDs' time is 1970); the
	// deleted one's entry went with it.
	if n, err := c.HLen(ctx, "appstats-foreign:ids").Result(); err != nil || n != 1 {
		t.Errorf("ids hash holds %d entries, %v; want 1", n, err)
	}
}

// Corrupt values are skipped (List, Stats) or reported (Get), never a
// panic.
func TestCorrupt(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{Prefix: "bad", FoldInterval: -1})
	start := time.Now().Add(-10 * time.Minute).Truncate(time.Minute)
	recs := storetest.Records(1, start, time.Second, 30)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	h := start.Unix() / 3600
	tag := "{bad:" + strconv.FormatInt(h, 10) + "}:"
	c := clientOf(t, r.Addr)
	if err := c.HSet(ctx, tag+"r", string(recs[0].ID[:]), "garbage").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, recs[0].ID); !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("Get of a corrupt record = %v, want ErrCorrupt", err)
	}
	// A summary member that does not decode, among good ones.
	bad := string(make([]byte, 24)) + "xx"
	if err := c.ZAdd(ctx, tag+"s", redis.Z{Member: bad}).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.RPush(ctx, tag+"d", "\x02garbage").Err(); err != nil {
		t.Fatal(err)
	}
	if p, err := s.List(ctx, store.Query{Limit: 100}); err != nil || len(p.Records) != 30 {
		t.Errorf("List with a corrupt summary = %d records, %v; want 30", len(p.Records), err)
	}
	if st, err := s.Stats(ctx, store.Window{Since: start.Add(-time.Hour)}); err != nil || st.Requests != 30 {
		t.Errorf("Stats with a corrupt delta = %v, %v; want 30 requests", st, err)
	}
	if err := s.FoldAll(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := s.Stats(ctx, store.Window{Since: start.Add(-time.Hour)}); err != nil || st.Requests != 30 {
		t.Errorf("Stats after folding a corrupt delta = %v, %v; want 30 requests", st, err)
	}
	// Each damaged entry counts once, however often it is read: the
	// record, the summary (in List and in Stats) and the delta.
	s.Get(ctx, recs[0].ID)
	s.List(ctx, store.Query{Limit: 100})
	if h := s.Health(); h.Skipped != 3 || h.State != store.StateOK {
		t.Errorf("Health = %+v, want 3 damaged entries skipped", h)
	}
}

// Close stops every goroutine the store started, its subscriptions' too,
// and closes the client it dialled.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	r := testservers.StartRedis(t)
	opts := goleak.IgnoreCurrent()
	s, err := redisstore.Open(context.Background(), "redis://"+r.Addr, redisstore.Options{FoldInterval: time.Millisecond, RetentionInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	done := make(chan error)
	go func() { done <- s.Subscribe(ctx, func(int, recording.ID) {}) }()
	if err := s.Write(ctx, storetest.Records(1, time.Now(), time.Millisecond, 50)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // folds and retention run
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, store.ErrClosed) {
		t.Errorf("Subscribe after Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	goleak.VerifyNone(t, opts)
}

// GoRedisLogger puts go-redis's messages in a structured log at a level.
func TestGoRedisLogger(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	redisstore.GoRedisLogger(l, slog.LevelDebug).Printf(context.Background(), "hidden %d", 1)
	redisstore.GoRedisLogger(l, slog.LevelWarn).Printf(context.Background(), "redis: failed to dial after %d attempts", 5)
	out := buf.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, `level=WARN msg="redis: failed to dial after 5 attempts" component=go-redis`) {
		t.Errorf("log = %q", out)
	}
}
