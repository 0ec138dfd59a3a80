package redisstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// A *redis.Ring of two servers given to New keeps each transaction and
// script to one slot (one of its shards): records moved to other hours,
// three times, are found in their last version and listed once each.
// (From the round's review: with the single-server writes, a Ring
// returned the first version and listed 40 summaries for 20 IDs.)
func TestNewRingMovedRecords(t *testing.T) {
	a, b := testservers.StartRedis(t), testservers.StartRedis(t)
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": a.Addr, "b": b.Addr}, ContextTimeoutEnabled: true})
	defer ring.Close()
	ctx := t.Context()
	s, err := redisstore.New(ring, redisstore.Options{Prefix: "x", FoldInterval: -1, RetentionInterval: -1, WriteTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.SingleServer() {
		t.Error("a Ring was taken for a single server")
	}
	recs := storetest.Records(2, time.Now().Add(-6*time.Hour), time.Second, 20)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatalf("first write: %v", err)
	}
	for step := 1; step <= 3; step++ {
		var moved []*recording.Record
		for _, r := range recs {
			moved = append(moved, movedTo(r, time.Duration(step)*time.Hour, 200+step))
		}
		if err := s.Write(ctx, moved); err != nil {
			t.Errorf("step %d write: %v", step, err)
		}
	}
	for _, r := range recs {
		got, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Errorf("Get %s: %v", r.ID, err)
		} else if got.Status != 203 {
			t.Errorf("Get %s: status %d, want the last version's 203", r.ID, got.Status)
		}
	}
	listed := map[recording.ID]int{}
	for _, sum := range storetest.ListAll(t, s, store.Query{}) {
		listed[sum.ID]++
	}
	for _, r := range recs {
		if listed[r.ID] != 1 {
			t.Errorf("%s listed %d times, want once", r.ID, listed[r.ID])
		}
	}
	if len(listed) != len(recs) {
		t.Errorf("listed %d IDs, want %d", len(listed), len(recs))
	}
}

// A plain *redis.Client given to New for a one-shard Redis Cluster (all
// slots on one node, so every key is served but multi-key commands across
// slots get CROSSSLOT) is asked whether it is a cluster node, and keeps
// each transaction and script to one slot: writes, moved records
// included, succeed and Get finds the last version. (From the round's
// review: the first Write failed with CROSSSLOT.)
func TestNewPlainClientOneShardCluster(t *testing.T) {
	r := testservers.StartRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	c := redis.NewClient(&redis.Options{Addr: r.Addr, ContextTimeoutEnabled: true})
	defer c.Close()
	ctx := t.Context()
	if err := c.Do(ctx, "cluster", "addslotsrange", 0, 16383).Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		info, _ := c.ClusterInfo(ctx).Result()
		if strings.Contains(info, "cluster_state:ok") {
			break
		}
		if i > 200 {
			t.Fatal("cluster not ok")
		}
		time.Sleep(50 * time.Millisecond)
	}
	s, err := redisstore.New(c, redisstore.Options{Prefix: "x", FoldInterval: -1, RetentionInterval: -1, WriteTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.SingleServer() {
		t.Error("a cluster node was taken for a single server")
	}
	recs := storetest.Records(2, time.Now().Add(-6*time.Hour), time.Second, 20)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatalf("first write: %v", err)
	}
	for i, status := range []int{202, 203} {
		if err := s.Write(ctx, []*recording.Record{movedTo(recs[i], 2*time.Hour, status)}); err != nil {
			t.Errorf("moved write %d: %v", i, err)
		}
	}
	for i, want := range []int{202, 203} {
		got, err := s.Get(ctx, recs[i].ID)
		if err != nil {
			t.Errorf("Get %d: %v", i, err)
		} else if got.Status != want {
			t.Errorf("Get %d: status %d, want %d", i, got.Status, want)
		}
	}
}

// A plain *redis.Client of a single server (cluster_enabled:0), given to
// New or opened by Open, takes the single-server writes.
func TestSingleServerDecided(t *testing.T) {
	r := testservers.StartRedis(t)
	c := redis.NewClient(&redis.Options{Addr: r.Addr, ContextTimeoutEnabled: true})
	defer c.Close()
	s, err := redisstore.New(c, redisstore.Options{Prefix: "x", FoldInterval: -1, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.SingleServer() {
		t.Error("New: a single server's *redis.Client was not taken for one")
	}
	o, err := redisstore.Open(t.Context(), "redis://"+r.Addr, redisstore.Options{Prefix: "y", FoldInterval: -1, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if !o.SingleServer() {
		t.Error("Open: a single server was not taken for one")
	}
}

// New for a *redis.Client whose server does not answer (nothing listens
// at its address) succeeds, and keeps each transaction and script to one
// slot.
func TestNewUnansweredKeepsToOneSlot(t *testing.T) {
	r := testservers.StartRedis(t)
	addr := r.Addr
	r.Stop()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true, MaxRetries: -1})
	defer c.Close()
	s, err := redisstore.New(c, redisstore.Options{Prefix: "x", FoldInterval: -1, RetentionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.SingleServer() {
		t.Error("a server that did not answer was taken for a single server")
	}
}
