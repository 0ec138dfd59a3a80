package recordingtest_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/recording/recordingtest"
)

func Example() {
	sink := recordingtest.NewSink()
	rec := recording.New(recording.WithSinks(sink))

	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	c := recording.StartCall(ctx, "memcache", "Get")
	c.End(errors.New("cache miss"))
	ar.Finish()

	_ = rec.Close(context.Background()) // flushes the queue into the sink
	for _, r := range sink.Records() {
		fmt.Println(r.Path, len(r.Calls), r.Calls[0].Service, r.Calls[0].Method, r.Calls[0].Error)
	}
	// Output: / 1 memcache Get cache miss
}
