package redisstore_test

import (
	"sync"
	"testing"
	"time"

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
	for round := range 20 {
		var wg sync.WaitGroup
		for k, st := range []*redisstore.Store{s, s2} {
			batch := make([]*recording.Record, len(recs))
			for i, rec := range recs {
				c := *rec
				c.Status = 200 + 100*k + round
				batch[i] = &c
			}
			wg.Go(func() {
				if err := st.Write(ctx, batch); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
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
