package redisstore_test

import (
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// Reads send their scripts by EVALSHA, and by EVAL when Redis does not know
// them (NOSCRIPT: just restarted, SCRIPT FLUSH, a new cluster node): every
// read answers after a SCRIPT FLUSH, and after it Redis has seen EVALSHA
// for each of Get, List and Stats (one EVAL a script to load it again).
func TestReadsAfterScriptFlush(t *testing.T) {
	s, r, ctx := startStore(t, redisstore.Options{FoldInterval: -1, RetentionInterval: -1})
	c := clientOf(t, r.Addr)
	now := time.Now()
	recs := storetest.Records(1, now.Add(-time.Minute), time.Millisecond, 10)
	if err := s.Write(ctx, recs); err != nil {
		t.Fatal(err)
	}
	w := store.Window{Since: now.Add(-time.Hour), Until: now}
	reads := func(when string) {
		t.Helper()
		if _, err := s.Get(ctx, recs[3].ID); err != nil {
			t.Errorf("Get %s: %v", when, err)
		}
		if p, err := s.List(ctx, store.Query{}); err != nil || len(p.Records) != 10 {
			t.Errorf("List %s = %d records, %v", when, len(p.Records), err)
		}
		if st, err := s.Stats(ctx, w); err != nil || st.Requests != 10 {
			t.Errorf("Stats %s = %d requests, %v", when, requests(st), err)
		}
		if b, err := s.Series(ctx, w, time.Minute); err != nil || len(b) == 0 {
			t.Errorf("Series %s = %d buckets, %v", when, len(b), err)
		}
	}
	reads("first")
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	reads("after SCRIPT FLUSH")
	reads("again")
	stats := c.Info(ctx, "commandstats").Val()
	if !strings.Contains(stats, "cmdstat_evalsha:calls=") {
		t.Errorf("no EVALSHA in Redis's command stats:\n%s", stats)
	}
	if h := s.Health(); h.Skipped != 0 {
		t.Errorf("Health = %+v; want nothing skipped", h)
	}
}
