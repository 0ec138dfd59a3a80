package recording_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// callAtDepth makes a call with n frames of its own on the stack.
//
//go:noinline
func callAtDepth(ctx context.Context, n int, method string) {
	if n > 0 {
		callAtDepth(ctx, n-1, method)
		return
	}
	recording.StartCall(ctx, "svc", method).End(nil)
}

// TestConcurrentCallStacks checks that calls started at once from several
// goroutines of one request, each at its own depth and several times in a
// row (the stacks a loop shares), keep each its own goroutine's stack.
func TestConcurrentCallStacks(t *testing.T) {
	var got []*recording.Record
	var mu sync.Mutex
	rec := recording.New(recording.WithSinks(recording.SinkFunc(func(_ context.Context, rs []*recording.Record) error {
		mu.Lock()
		got = append(got, rs...)
		mu.Unlock()
		return nil
	})))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindBackground, Path: "/stacks"})
	const goroutines, calls = 8, 20
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range calls {
				callAtDepth(ctx, g, strconv.Itoa(g))
			}
		})
	}
	wg.Wait()
	ar.Finish()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Calls) != goroutines*calls {
		t.Fatalf("%d records, want 1 of %d calls", len(got), goroutines*calls)
	}
	for _, c := range got[0].Calls {
		g, _ := strconv.Atoi(c.Method)
		n := 0
		for _, f := range c.Stack {
			if strings.HasSuffix(f.Function, ".callAtDepth") {
				n++
			}
		}
		if n != g+1 {
			t.Fatalf("call of goroutine %d has %d frames of callAtDepth, want %d: %v", g, n, g+1, c.Stack)
		}
	}
}
