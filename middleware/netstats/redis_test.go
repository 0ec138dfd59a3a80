package netstats_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/goappstats/appstats/internal/testservers"
	"github.com/goappstats/appstats/middleware/netstats"
	"github.com/goappstats/appstats/recording"
)

// redisVariant is a way of dialing redis-server: bare, or through a netstats
// Dialer in one of its modes.
type redisVariant struct {
	name string
	mode netstats.Mode
	bare bool
}

var redisVariants = []redisVariant{{name: "bare", bare: true}, {name: "per-conn", mode: netstats.PerConn}, {name: "per-op", mode: netstats.PerOp}}

// dialer returns the go-redis Dialer of v. go-redis dials its pooled
// connections without the command's context, so a wrapped dial uses ctx, the
// context of the request the test records.
func (v redisVariant) dialer(ctx context.Context) func(context.Context, string, string) (net.Conn, error) {
	if v.bare {
		var d net.Dialer
		return d.DialContext
	}
	d := &netstats.Dialer{Mode: v.mode}
	return func(_ context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}
}

// redisTranscript runs a fixed series of commands and returns one line per
// step, with its result or error.
func redisTranscript(ctx context.Context, c *redis.Client) []string {
	var out []string
	add := func(step string, v any, err error) {
		if err != nil {
			out = append(out, fmt.Sprintf("%s: error %v", step, err))
		} else {
			out = append(out, fmt.Sprintf("%s: %v", step, v))
		}
	}
	add("flushall", c.FlushAll(ctx).Val(), c.FlushAll(ctx).Err())
	v, err := c.Ping(ctx).Result()
	add("ping", v, err)
	add("set", c.Set(ctx, "k", "v", 0).Err() == nil, nil)
	v, err = c.Get(ctx, "k").Result()
	add("get", v, err)
	_, err = c.Get(ctx, "missing").Result()
	add("get missing", errors.Is(err, redis.Nil), nil)
	for i := range 3 {
		n, err := c.Incr(ctx, "counter").Result()
		add(fmt.Sprint("incr ", i), n, err)
	}
	add("mset", c.MSet(ctx, "a", "1", "b", "2").Err() == nil, nil)
	vals, err := c.MGet(ctx, "a", "b", "nope").Result()
	add("mget", vals, err)
	add("rpush", c.RPush(ctx, "list", "x", "y", "z").Val(), nil)
	l, err := c.LRange(ctx, "list", 0, -1).Result()
	add("lrange", l, err)
	add("hset", c.HSet(ctx, "h", "f1", "v1", "f2", "v2").Val(), nil)
	h, err := c.HGetAll(ctx, "h").Result()
	add("hgetall", h, err) // fmt prints maps sorted
	_, err = c.LPush(ctx, "k", "x").Result()
	add("wrong type", nil, err)
	big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	add("set big", c.Set(ctx, "big", big, 0).Err() == nil, nil)
	got, err := c.Get(ctx, "big").Result()
	add("get big", fmt.Sprintf("%d bytes, sha256 %x", len(got), sha256.Sum256([]byte(got))), err)
	cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for range 100 {
			p.Incr(ctx, "piped")
		}
		return nil
	})
	add("pipeline", fmt.Sprint(len(cmds), " ", cmds[len(cmds)-1].(*redis.IntCmd).Val()), err)
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "tx1", "a", 0)
		p.Set(ctx, "tx2", "b", 0)
		return nil
	})
	vals, _ = c.MGet(ctx, "tx1", "tx2").Result()
	add("multi/exec", vals, err)
	add("expire", c.Expire(ctx, "k", time.Hour).Val(), nil)
	ttl, err := c.TTL(ctx, "k").Result()
	add("ttl", ttl > 59*time.Minute, err)
	var keys []string
	iter := c.Scan(ctx, 0, "*", 2).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	slices.Sort(keys)
	add("scan", keys, iter.Err())
	_, err = c.LPop(ctx, "empty").Result()
	add("lpop empty", errors.Is(err, redis.Nil), nil)
	sub := c.Subscribe(ctx, "chan")
	_, err = sub.Receive(ctx) // the subscription's confirmation
	add("subscribe", nil, err)
	add("publish", c.Publish(ctx, "chan", "hi").Val(), nil)
	mctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	msg, err := sub.ReceiveMessage(mctx)
	cancel()
	if err == nil {
		add("message", msg.Channel+" "+msg.Payload, nil)
	} else {
		add("message", nil, err)
	}
	add("unsubscribe", nil, sub.Close())
	return out
}

// TestGoRedis runs go-redis against a real redis-server, bare and through a
// netstats Dialer in each mode: the same commands must give the same results,
// and the wrapped connections must be recorded.
func TestGoRedis(t *testing.T) {
	srv := testservers.StartRedis(t)
	var bare []string
	for _, v := range redisVariants {
		rec, s, done := newRecorder(t)
		ctx, ar := start(rec, "/redis")
		c := redis.NewClient(&redis.Options{Addr: srv.Addr, Dialer: v.dialer(ctx)})
		got := redisTranscript(ctx, c)
		c.Close()
		ar.Finish()
		done()
		if v.bare {
			bare = got
			continue
		}
		same := 0
		for i := range max(len(got), len(bare)) {
			var g, b string
			if i < len(got) {
				g = got[i]
			}
			if i < len(bare) {
				b = bare[i]
			}
			if g == b {
				same++
			} else {
				t.Errorf("%s: step %d = %q, bare %q", v.name, i, g, b)
			}
		}
		t.Logf("%s: %d of %d steps as bare", v.name, same, len(bare))
		assertRedisRecorded(t, v, byPath(t, s, "/redis"))
	}
}

// assertRedisRecorded checks that r holds the conversation with the server:
// over a megabyte each way, in calls of the variant's mode.
func assertRedisRecorded(t *testing.T, v redisVariant, r *recording.Record) {
	t.Helper()
	var sent, received int64
	kinds := map[string]int{}
	for _, c := range r.Calls {
		kinds[c.Method]++
		sent += max(c.RequestSize, 0)
		received += max(c.ResponseSize, 0)
	}
	if sent < 1<<20 || received < 1<<20 {
		t.Errorf("%s: recorded %d bytes sent, %d received; calls %v", v.name, sent, received, kinds)
	}
	conns := kinds["conn tcp"]
	if (v.mode == netstats.PerConn) != (conns > 0) || kinds["dial tcp"] == 0 {
		t.Errorf("%s: calls %v", v.name, kinds)
	}
}

// TestGoRedisServerClosed restarts redis-server between two commands, ten
// times: go-redis finds its pooled connections closed through syscall.Conn
// and dials again, so the command after each restart succeeds without a
// retry, wrapped as bare.
func TestGoRedisServerClosed(t *testing.T) {
	srv := testservers.StartRedis(t)
	const rounds = 10
	results := map[string]int{}
	for _, v := range redisVariants {
		rec, _, done := newRecorder(t)
		ctx, ar := start(rec, "/restarts")
		c := redis.NewClient(&redis.Options{Addr: srv.Addr, Dialer: v.dialer(ctx), MaxRetries: -1})
		ok := 0
		for i := range rounds {
			if err := c.Set(ctx, "k", i, 0).Err(); err != nil {
				t.Fatalf("%s: round %d: SET before the restart: %v", v.name, i, err)
			}
			srv.Stop()
			srv.Start()
			if err := c.Get(ctx, "k").Err(); errors.Is(err, redis.Nil) {
				ok++
			} else {
				t.Logf("%s: round %d: GET after the restart: %v", v.name, i, err)
			}
		}
		c.Close()
		ar.Finish()
		done()
		results[v.name] = ok
	}
	t.Logf("commands that succeeded after a restart, of %d: %v", rounds, results)
	if results["bare"] != rounds {
		t.Fatalf("bare go-redis failed after a restart (%d of %d succeeded): the test's premise does not hold", results["bare"], rounds)
	}
	for _, v := range redisVariants[1:] {
		if results[v.name] != rounds {
			t.Errorf("%s: %d of %d commands succeeded after a restart, bare %d", v.name, results[v.name], rounds, rounds)
		}
	}
}
