package appstats_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// TestForceFlushUnderTraffic: six clients each send a request, call
// ForceFlush and look their record up in the store, while the others'
// requests and flushes run (batches that would otherwise wait an hour):
// every record is there once its ForceFlush returns, with memstore and
// badgerstore.
func TestForceFlushUnderTraffic(t *testing.T) {
	for _, name := range []string{"memstore", "badgerstore"} {
		t.Run(name, func(t *testing.T) {
			cfg := appstats.Config{InMemory: name == "memstore", NoOTLP: true, RecorderOptions: []recording.Option{recording.WithBatch(64, time.Hour)}}
			if name == "badgerstore" {
				cfg.Dir = t.TempDir()
			}
			as, err := appstats.Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer as.Close()
			app := httptest.NewServer(as.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				recording.StartCall(r.Context(), "svc", "op").End(nil)
			})))
			defer app.Close()
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Go(func() {
					for i := range 40 {
						path := fmt.Sprintf("/r/w%02d-i%03d-end", g, i)
						resp, err := app.Client().Get(app.URL + path)
						if err != nil {
							t.Error(err)
							return
						}
						resp.Body.Close()
						ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
						if err := as.ForceFlush(ctx); err != nil {
							t.Error(err)
						}
						p, err := as.Store().List(ctx, store.Query{PathContains: path, Limit: 10})
						cancel()
						if err != nil {
							t.Error(err)
							return
						}
						if len(p.Records) != 1 {
							t.Errorf("%s: %d records after ForceFlush", path, len(p.Records))
						}
					}
				})
			}
			wg.Wait()
		})
	}
}
