package recording_test

import (
	"context"
	"testing"

	"github.com/goappstats/appstats/recording"
)

// discard is a sink that drops everything, so benchmarks measure recording,
// not storage.
var discard = recording.SinkFunc(func(context.Context, []*recording.Record) error { return nil })

// atDepth calls f with n more frames on the stack.
//
//go:noinline
func atDepth(n int, f func()) {
	if n <= 0 {
		f()
		return
	}
	atDepth(n-1, f)
}

// benchCall measures one StartCall+End made 16 frames deep, inside a record
// that is recycled every 500 calls (MaxCalls is 1000).
func benchCall(b *testing.B, opts ...recording.Option) {
	rec := recording.New(append([]recording.Option{recording.WithSinks(discard), recording.WithQueueSize(1 << 16)}, opts...)...)
	defer rec.Close(context.Background())
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	b.ReportAllocs()
	// The benchmark goroutine is ~4 frames deep; 12 more gives 16.
	atDepth(12, func() {
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%500 == 499 {
				b.StopTimer()
				ar.Finish()
				ctx, ar = rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
				b.StartTimer()
			}
			recording.StartCall(ctx, "svc", "Method").End(nil)
		}
	})
	ar.Finish()
}

// BenchmarkCall is one recorded call with its 16-frame stack.
func BenchmarkCall(b *testing.B) { benchCall(b) }

// BenchmarkCallNoStack is one recorded call without stack capture.
func BenchmarkCallNoStack(b *testing.B) { benchCall(b, recording.WithMaxStack(0)) }

// BenchmarkCallUnrecorded is StartCall+End with no record in the context.
func BenchmarkCallUnrecorded(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		recording.StartCall(ctx, "svc", "Method").End(nil)
	}
}

// BenchmarkDo is one recording.Do around a function that does nothing,
// 16 frames deep, recycled like BenchmarkCall: Do costs what StartCall+End
// does, the context it passes its function included.
func BenchmarkDo(b *testing.B) {
	rec := recording.New(recording.WithSinks(discard), recording.WithQueueSize(1<<16))
	defer rec.Close(context.Background())
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
	fn := func(context.Context) error { return nil }
	b.ReportAllocs()
	atDepth(12, func() {
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if i%500 == 499 {
				b.StopTimer()
				ar.Finish()
				ctx, ar = rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
				b.StartTimer()
			}
			_ = recording.Do(ctx, "svc", "Method", fn)
		}
	})
	ar.Finish()
}

// BenchmarkRecord is one request with no calls: StartRecord and Finish, the
// in-flight table's entry and exit included.
func BenchmarkRecord(b *testing.B) {
	rec := recording.New(recording.WithSinks(discard), recording.WithQueueSize(1<<16))
	defer rec.Close(context.Background())
	b.ReportAllocs()
	for b.Loop() {
		_, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Method: "GET", Path: "/"})
		ar.Finish()
	}
}

// BenchmarkRecordParallel is BenchmarkRecord from every core at once.
func BenchmarkRecordParallel(b *testing.B) {
	rec := recording.New(recording.WithSinks(discard), recording.WithQueueSize(1<<16))
	defer rec.Close(context.Background())
	info := recording.RequestInfo{Method: "GET", Path: "/"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, ar := rec.StartRecord(context.Background(), info)
			ar.Finish()
		}
	})
}
