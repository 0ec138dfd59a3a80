package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/ui"
)

// Every instance of a service records into one Redis, and the dashboard of
// any instance shows them all, refreshed live when any of them records.
// (It needs a Redis at 127.0.0.1:6379, so it is compiled, not run.)
func Example() {
	ctx := context.Background()
	st, err := redisstore.Open(ctx, "redis://127.0.0.1:6379/0", redisstore.Options{Prefix: "shop"})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	rec := recording.New(recording.WithSinks(st), recording.WithInstance("web-1"))
	defer rec.Close(ctx)

	live := ui.NewLive()
	go st.Subscribe(ctx, live.Announce)
	dashboard := ui.NewHandler(st, ui.WithRecorder(rec), ui.WithLive(live))
	_ = dashboard // mount at /stats/

	stats, err := st.Stats(ctx, store.Window{Since: time.Now().Add(-time.Hour)})
	if err != nil {
		log.Fatal(err)
	}
	for _, in := range stats.Instances {
		fmt.Println(in.Instance, in.Requests, in.Latency.P95)
	}
}

// Open explains what it wants, and never shows a password.
func ExampleOpen_badURL() {
	_, err := redisstore.Open(context.Background(), "http://:hunter2@redis.internal:6379", redisstore.Options{})
	fmt.Println(err)
	// Output:
	// redisstore: "http://:xxxxx@redis.internal:6379" is not a redis:// or rediss:// URL (redis://[user:password@]host:port[/db])
}
