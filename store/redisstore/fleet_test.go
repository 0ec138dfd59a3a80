package redisstore_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/redisstore"
	"github.com/goappstats/appstats/store/storetest"
)

// A fleet's view: three processes of one service (three stores) share a
// Redis with requirepass. Two write, one of them writing again records
// the other wrote (another status) and folding the rollups as it goes,
// while the third runs retention, which deletes an hour past MaxAge. At
// the end each ID is listed once, with the summary of the record Get
// returns, Stats counts every version written, the old hour is gone, and
// each hour's size counter is what it holds.
func TestFleetSharedRedis(t *testing.T) {
	const prefix = "fleet"
	r := testservers.StartRedis(t)
	ctx := context.Background()
	// requirepass set once the server answers (testservers PINGs it
	// without a password).
	if err := clientOf(t, r.Addr).ConfigSet(ctx, "requirepass", "fleet-pw").Err(); err != nil {
		t.Fatal(err)
	}
	url := "redis://:fleet-pw@" + r.Addr
	if _, err := redisstore.Open(ctx, "redis://"+r.Addr, redisstore.Options{}); err == nil {
		t.Fatal("Open without the password succeeded")
	}
	opts := redisstore.Options{Prefix: prefix, MaxAge: 6 * time.Hour, FoldInterval: -1, RetentionInterval: -1}
	a, b, c := openAt(t, url, opts), openAt(t, url, opts), openAt(t, url, opts)
	admin := redis.NewClient(&redis.Options{Addr: r.Addr, Password: "fleet-pw"})
	defer admin.Close()
	old := storetest.Records(9, time.Now().Add(-10*time.Hour), time.Second, 20)
	if err := a.Write(ctx, old); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-3 * time.Hour).Truncate(time.Hour)
	const rounds, per = 20, 40
	var mu sync.Mutex
	written := 0 // versions written in the window
	var wg sync.WaitGroup
	stop := make(chan struct{})
	aDone := make(chan []*recording.Record, rounds)
	wg.Go(func() { // a writes
		for i := range rounds {
			recs := storetest.Records(uint64(100+i), base.Add(time.Duration(i)*6*time.Minute), time.Second, per)
			for _, rec := range recs {
				rec.Instance = "a"
			}
			if err := a.Write(ctx, recs); err != nil {
				t.Error(err)
			}
			mu.Lock()
			written += len(recs)
			mu.Unlock()
			aDone <- recs
		}
		close(aDone)
	})
	wg.Go(func() { // b writes its own, writes a's again, and folds
		i := 0
		for recs := range aDone {
			own := storetest.Records(uint64(500+i), base.Add(time.Hour+time.Duration(i)*3*time.Minute), time.Second, per)
			for _, rec := range own {
				rec.Instance = "b"
			}
			again := make([]*recording.Record, 0, len(recs)/2)
			for _, rec := range recs[:len(recs)/2] {
				v := *rec
				v.Status = 599
				again = append(again, &v)
			}
			if err := b.Write(ctx, append(own, again...)); err != nil {
				t.Error(err)
			}
			mu.Lock()
			written += len(own) + len(again)
			mu.Unlock()
			if err := b.FoldAll(ctx); err != nil {
				t.Error(err)
			}
			i++
		}
	})
	var retained sync.WaitGroup
	retained.Go(func() { // c runs retention
		for {
			if _, err := c.Retain(ctx); err != nil {
				t.Error(err)
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	})
	wg.Wait()
	close(stop)
	retained.Wait()
	if _, err := c.Retain(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		if err := c.FoldAll(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Pending(ctx); err != nil || n == 0 {
			break
		}
	}
	ids := 2 * rounds * per
	got := storetest.ListAll(t, c, store.Query{})
	if len(got) != ids {
		t.Errorf("List: %d records, want %d IDs", len(got), ids)
	}
	seen := map[recording.ID]bool{}
	for _, sum := range got {
		if seen[sum.ID] {
			t.Errorf("%s listed twice", sum.ID)
		}
		seen[sum.ID] = true
		if rec, err := a.Get(ctx, sum.ID); err != nil || rec.Status != sum.Status {
			t.Errorf("%s lists status %d, Get = %v, %v", sum.ID, sum.Status, rec, err)
		}
	}
	if _, err := b.Get(ctx, old[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get of a record past MaxAge = %v; want ErrNotFound", err)
	}
	st, err := b.Stats(ctx, store.Window{Since: base, Until: base.Add(3 * time.Hour)})
	if err != nil || st.Requests != int64(written) {
		t.Errorf("Stats = %d requests, %v; want every version written, %d", requests(st), err, written)
	}
	for h := base.Unix() / 3600; h < base.Unix()/3600+3; h++ {
		if counted, held, _ := heldSize(t, admin, prefix, h); counted != held {
			t.Errorf("hour %d: size counter %d, what it holds %d", h, counted, held)
		}
	}
}

// A proxy forwards loopback connections to a Redis it can be pointed
// away from (a failover behind a name or an address), closing the
// connections it made to the one before.
type proxy struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	conns  []net.Conn
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	p.wg.Go(func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				p.mu.Unlock()
				in.Close()
				continue
			}
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			p.wg.Go(func() { io.Copy(out, in); out.Close() })
			p.wg.Go(func() { io.Copy(in, out); in.Close() })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		p.point("")
		p.wg.Wait()
	})
	return p
}

// point sends new connections to target, and closes those made before.
func (p *proxy) point(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target = target
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// A failover: the Redis the fleet writes to (through an address that is
// moved, as a proxy or a DNS name would be) dies, its replica is promoted
// (REPLICAOF NO ONE) and the address points at it. The stores go on by
// themselves: the writes of the outage are dropped and counted, writing
// resumes once the address answers, the records replicated before are
// read (on a master whose script cache may lack the reads' scripts:
// EVALSHA falls back to EVAL), and records are written again there.
func TestFleetFailover(t *testing.T) {
	primary := testservers.StartRedis(t)
	host, port, _ := net.SplitHostPort(primary.Addr)
	replica := testservers.StartRedis(t, "--replicaof", host, port)
	px := startProxy(t, primary.Addr)
	url := "redis://" + px.ln.Addr().String()
	opts := redisstore.Options{Prefix: "failover", FoldInterval: -1, RetentionInterval: -1, WriteTimeout: 2 * time.Second}
	w1, w2 := openAt(t, url, opts), openAt(t, url, opts)
	ctx := context.Background()
	base := time.Now().Add(-2 * time.Hour)
	before := storetest.Records(1, base, time.Second, 50)
	if err := w1.Write(ctx, before); err != nil {
		t.Fatal(err)
	}
	if err := w2.Write(ctx, storetest.Records(2, base.Add(time.Minute), time.Second, 50)); err != nil {
		t.Fatal(err)
	}
	if _, err := w1.Get(ctx, before[0].ID); err != nil { // loads the read scripts on the primary
		t.Fatal(err)
	}
	pc := clientOf(t, primary.Addr)
	if n, err := pc.Wait(ctx, 1, 10*time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT = %d, %v: the replica did not take the writes", n, err)
	}
	primary.Stop()
	rc := clientOf(t, replica.Addr)
	if err := rc.ReplicaOf(ctx, "NO", "ONE").Err(); err != nil {
		t.Fatal(err)
	}
	px.point(replica.Addr)
	// Each store's first write after the failover may fail (its
	// connections were cut, or it backs off): writing resumes by itself.
	after := storetest.Records(3, base.Add(2*time.Minute), time.Second, 30)
	for _, w := range []*redisstore.Store{w1, w2} {
		for tries := 0; ; tries++ {
			err := w.Write(ctx, after)
			if err == nil {
				break
			}
			if !errors.Is(err, redisstore.ErrUnavailable) || tries == 500 {
				t.Fatalf("Write after the failover (try %d): %v", tries, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// w2 wrote after again: records written again on the new master.
	got := storetest.ListAll(t, w2, store.Query{})
	if len(got) != 130 {
		t.Errorf("List after the failover: %d records, want 130 (100 before, 30 after)", len(got))
	}
	if rec, err := w2.Get(ctx, before[7].ID); err != nil || rec.Path != before[7].Path {
		t.Errorf("Get of a record written before the failover = %v, %v", rec, err)
	}
	st, err := w1.Stats(ctx, store.Window{Since: base.Add(-time.Minute), Until: base.Add(time.Hour)})
	if want := int64(160); err != nil || st.Requests != want {
		t.Errorf("Stats after the failover = %d requests, %v; want %d (every version)", requests(st), err, want)
	}
	if h := w1.Health(); h.State != store.StateOK {
		t.Errorf("Health after the failover = %+v", h)
	}
	t.Logf("dropped during the failover: w1 %d, w2 %d", w1.WriteStats().Dropped, w2.WriteStats().Dropped)
}
