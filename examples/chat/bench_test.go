package main

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/goappstats/appstats/internal/cputime"
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
	tc := startChatWith(b, func(hc *hubConfig) { hc.maxPerIP = n }) // all from 127.0.0.1
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
	reportCPU(b, cpu0, float64(b.N)*float64(n), "cpu-ns/client")
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	d, _ := cputime.Process()
	return d
}

// reportCPU reports the CPU time used since cpu0 (a cpuTime), divided by
// per, as the metric unit, where the system reports CPU time at all.
func reportCPU(b *testing.B, cpu0 time.Duration, per float64, unit string) {
	if _, ok := cputime.Process(); ok {
		b.ReportMetric(float64(cpuTime()-cpu0)/per, unit)
	}
}

// BenchmarkTyping measures a round of typing notices with every one of n
// clients typing: each sends one notice at once, then the round waits
// 1.5 s, long enough for the hub to pass on what it will (the notices of
// one client are a second apart at least). "writes/round" counts the
// notices the clients got, n × (n − 1) when each notice is passed on to
// every other client; "cpu-ns/round" is the process's CPU time (the
// clients run in this process); "clients-dropped" the clients the hub
// dropped as too slow, their queues overflowed (they stop typing).
func BenchmarkTyping(b *testing.B) {
	for _, n := range []int{10, 30, 100} {
		b.Run("clients="+strconv.Itoa(n), func(b *testing.B) { benchTyping(b, n) })
	}
}

func benchTyping(b *testing.B, n int) {
	tc := startChatWith(b, func(hc *hubConfig) { hc.maxPerIP = n }) // all from 127.0.0.1
	var got atomic.Int64
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); wg.Wait() }()
	ws := make([]*websocket.Conn, n)
	for i := range ws {
		ws[i] = tc.dialHub(b)
		wg.Go(func() {
			for {
				if _, _, err := ws[i].Read(ctx); err != nil {
					return
				}
				got.Add(1)
			}
		})
	}
	waitConns(b, tc, n)
	notices := make([][]byte, n)
	for i := range notices {
		notices[i] = []byte(`{"type":"typing","name":"user` + strconv.Itoa(i) + `"}`)
	}
	dropped := 0
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		for i, c := range ws {
			if c != nil && c.Write(ctx, websocket.MessageText, notices[i]) != nil {
				ws[i] = nil // dropped by the hub as too slow: its queue overflowed
				dropped++
			}
		}
		time.Sleep(1500 * time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(got.Load())/float64(b.N), "writes/round")
	reportCPU(b, cpu0, float64(b.N), "cpu-ns/round")
	b.ReportMetric(float64(dropped), "clients-dropped")
}
