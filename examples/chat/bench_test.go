package main

import (
	"context"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkBroadcast measures one broadcast to n connected clients, until
// every client has read it (the clients run in this process): its cost per
// message should grow as n, not as n². "cpu-ns/client" is the process's CPU
// time (user and system) per message and client, steadier than the wall
// time on a shared machine.
func BenchmarkBroadcast(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run("clients="+strconv.Itoa(n), func(b *testing.B) { benchBroadcast(b, n) })
	}
}

func benchBroadcast(b *testing.B, n int) {
	tc := startChat(b)
	got := make(chan struct{}, n)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); wg.Wait() }()
	for range n {
		ws := tc.dialHub(b)
		wg.Go(func() {
			for {
				if _, _, err := ws.Read(ctx); err != nil {
					return
				}
				got <- struct{}{}
			}
		})
	}
	waitConns(b, tc, n)
	data := []byte(updated)
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		tc.hub.broadcast(context.Background(), nil, data)
		for range n {
			select {
			case <-got:
			case <-time.After(10 * time.Second):
				b.Fatal("a client did not get the broadcast")
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/client")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N)/float64(n), "cpu-ns/client")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
