package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Two stores (two processes of a fleet) write the same records again at
// once, each with summaries of its own: whatever order their transactions
// and their removals of the replaced summaries run in, each ID lists once,
// with the summary of the record Get returns.
func TestRewriteRacingWriters(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{Prefix: "rewrite-race", FoldInterval: -1, RetentionInterval: -1})
	s2 := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: "rewrite-race", FoldInterval: -1, RetentionInterval: -1})
	recs := storetest.Records(3, time.Now().Add(-2*time.Hour), time.Second, 20)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	raceRewrites(t, ctx, []*redisstore.Store{s, s2}, recs, 20, false)
	got := storetest.ListAll(t, s, store.Query{})
	if len(got) != len(recs) {
		t.Fatalf("List: %d records for %d IDs", len(got), len(recs))
	}
	for _, sum := range got {
		rec, err := s.Get(ctx, sum.ID)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Status != rec.Status {
			t.Errorf("%s lists status %d, Get returns %d", sum.ID, sum.Status, rec.Status)
		}
	}
}

// A record one process moved to another hour (its ids hash entry made by
// that write) and another process writes back at its first start is
// listed once, though the second process had not seen the ids hash at
// its last write (it reads it only while it exists).
func TestRewriteMovedByAnother(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{Prefix: "rewrite-moved", FoldInterval: -1, RetentionInterval: -1})
	s2 := openAt(t, "redis://"+r.Addr, redisstore.Options{Prefix: "rewrite-moved", FoldInterval: -1, RetentionInterval: -1})
	recs := storetest.Records(5, time.Now().Add(-3*time.Hour), time.Second, 4)
	if err := s2.Write(ctx, recs); err != nil { // s2 sees no ids hash
		t.Fatal(err)
	}
	moved := *recs[1]
	moved.Start = recs[1].Start.Add(time.Hour)
	if err := s.Write(ctx, []*recording.Record{&moved}); err != nil {
		t.Fatal(err)
	}
	back := *recs[1]
	back.Status = 418
	if err := s2.Write(ctx, []*recording.Record{&back}); err != nil {
		t.Fatal(err)
	}
	got := storetest.ListAll(t, s, store.Query{})
	if len(got) != len(recs) {
		t.Errorf("List: %d records for %d IDs", len(got), len(recs))
	}
	if rec, err := s.Get(ctx, back.ID); err != nil || rec.Status != 418 {
		t.Errorf("Get = %v, %v; want status 418", rec, err)
	}
}

// A record written again in another hour while its ID's settling lock is
// held (by a process that stopped) is stored, and found, though its old
// version stays listed until a write settles it once the lock is free.
func TestRewriteMoveLockHeld(t *testing.T) {
	const prefix = "rewrite-lock"
	s, r, ctx := startStore(t, redisstore.Options{Prefix: prefix, FoldInterval: -1, RetentionInterval: -1, WriteTimeout: 300 * time.Millisecond})
	c := clientOf(t, r.Addr)
	recs := storetest.Records(9, time.Now().Add(-4*time.Hour), time.Second, 3)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	lock := prefix + ":mv:" + string(recs[1].ID[:])
	if err := c.Set(ctx, lock, "stopped", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	moved := *recs[1]
	moved.Start = recs[1].Start.Add(2 * time.Hour)
	moved.Status = 418
	if err := s.Write(ctx, []*recording.Record{&moved}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, moved.ID); err != nil {
		t.Errorf("Get while the lock is held: %v", err)
	}
	if err := c.Del(ctx, lock).Err(); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, []*recording.Record{&moved}); err != nil {
		t.Fatal(err)
	}
	if got := storetest.ListAll(t, s, store.Query{}); len(got) != len(recs) {
		t.Errorf("List once the lock is free: %d records for %d IDs", len(got), len(recs))
	}
	if g, err := s.Get(ctx, moved.ID); err != nil || g.Status != 418 || !g.Start.Equal(moved.Start) {
		t.Errorf("Get = %v, %v; want the version moved", g, err)
	}
}

// As TestRewriteRacingMoves, in a Redis Cluster, where the ids hash,
// the hours and the IDs' locks are in other slots: two stores write the
// same IDs again at once, one at each ID's hour, the other 1–3 hours
// later. No record is lost, and Get's record is among those listed.
func TestRewriteRacingMovesCluster(t *testing.T) {
	nodes := testservers.StartRedisCluster(t, 3)
	o := redisstore.Options{Prefix: "race-moves", FoldInterval: -1, RetentionInterval: -1}
	s := openAt(t, "redis://"+nodes[0].Addr, o)
	s2 := openAt(t, "redis://"+nodes[1].Addr, o)
	ctx := context.Background()
	recs := storetest.Records(3, time.Now().Add(-5*time.Hour), time.Second, 12)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	raceRewrites(t, ctx, []*redisstore.Store{s, s2}, recs, 20, true)
	listed := make(map[string]bool)
	for _, sum := range storetest.ListAll(t, s, store.Query{}) {
		listed[fmt.Sprint(sum.ID, sum.Status, sum.Start.UnixNano())] = true
	}
	for _, rec := range recs {
		g, err := s.Get(ctx, rec.ID)
		if err != nil {
			t.Errorf("Get(%s) after the racing writes: %v", rec.ID, err)
			continue
		}
		if !listed[fmt.Sprint(g.ID, g.Status, g.Start.UnixNano())] {
			t.Errorf("%s: Get's version (status %d) is not listed", g.ID, g.Status)
		}
	}
}
