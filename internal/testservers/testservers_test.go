package testservers

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPostgres(t *testing.T) {
	dsn := StartPostgres(t)
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("skipping: psql (the client) is not installed to check the server")
	}
	out, err := exec.Command(psql, dsn, "-Atc", "select 40 + 2").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "42" {
		t.Fatalf("psql %s: %v: %s", dsn, err, out)
	}
}

func TestRedisStopStart(t *testing.T) {
	r := StartRedis(t)
	if reply, err := redisCommand(r.Addr, "SET", "k", "v"); err != nil || reply != "+OK" {
		t.Fatalf("SET: %q, %v", reply, err)
	}
	r.Stop()
	if _, err := redisCommand(r.Addr, "PING"); err == nil {
		t.Fatal("the server still answers after Stop")
	}
	r.Start()
	if reply, err := redisCommand(r.Addr, "GET", "k"); err != nil || reply != "$-1" {
		t.Fatalf("GET after restart: %q, %v (want a fresh server)", reply, err)
	}
}

func TestRedisCluster(t *testing.T) {
	nodes := StartRedisCluster(t, 3)
	if len(nodes) != 3 {
		t.Fatalf("%d nodes", len(nodes))
	}
	for _, n := range nodes {
		reply, err := redisCommand(n.Addr, "CLUSTER", "INFO")
		if err != nil || !strings.HasPrefix(reply, "$") {
			t.Fatalf("CLUSTER INFO on %s: %q, %v", n.Addr, reply, err)
		}
	}
}

// TestRedisClusterSurvivesStall: a node that answers nothing for seconds
// (a long script, or a process a loaded machine does not schedule) is not
// taken for failed by the others, and the cluster stays up. With a
// cluster-node-timeout of 2 s, a loaded run of the redisstore tests saw
// "CLUSTERDOWN The cluster is down" in TestConformanceCluster/Extremes. The
// wait is how long the node is stalled, the test's subject; the cluster
// must hold through it however slow the machine, until the node timeout.
func TestRedisClusterSurvivesStall(t *testing.T) {
	nodes := StartRedisCluster(t, 3)
	nodes[0].Pause()
	defer nodes[0].Resume()
	time.Sleep(5 * time.Second)
	for _, n := range nodes[1:] {
		info, err := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", strings.TrimPrefix(n.Addr, "127.0.0.1:"), "cluster", "info").Output()
		if err != nil || !strings.Contains(string(info), "cluster_state:ok") {
			t.Errorf("CLUSTER INFO on %s with %s stalled 5 s: %v\n%s", n.Addr, nodes[0].Addr, err, info)
		}
	}
}

func TestCurl(t *testing.T) {
	bin := Curl(t)
	if out, err := exec.Command(bin, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "curl ") {
		t.Fatalf("%s --version: %v %q", bin, err, out)
	}
}

// TestFreePortOutsideEphemeralRange: FreePort's port, and the Redis Cluster
// bus port 10000 above it, lie below the kernel's ephemeral range, where
// neither a client's connection (its local port) nor another test's
// listener on port 0 (in this process, or in another package's test
// binary running beside it) can take it between FreePort and the server's
// bind. A port from the ephemeral range could be taken so, and one above
// 55535 cannot serve a cluster node at all (redis-server refuses it).
func TestFreePortOutsideEphemeralRange(t *testing.T) {
	lo, _, ok := ephemeralRange()
	if !ok {
		t.Skip("skipping: no /proc/sys/net/ipv4/ip_local_port_range to read")
	}
	if lo < minFreePort+2*clusterBusOffset {
		t.Skipf("skipping: the ephemeral range starts at %d, too low for ports below it", lo)
	}
	seen := map[int]bool{}
	for range 200 {
		p := FreePort(t)
		if p < minFreePort || p+clusterBusOffset >= lo {
			t.Fatalf("FreePort = %d; want a port in [%d, %d), below the ephemeral range (from %d) with its bus port", p, minFreePort, lo-clusterBusOffset, lo)
		}
		for _, q := range []int{p, p + clusterBusOffset} {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", q))
			if err != nil {
				t.Fatalf("FreePort = %d, but port %d is not free: %v", p, q, err)
			}
			l.Close()
		}
		seen[p] = true
	}
	if len(seen) < 150 {
		t.Errorf("FreePort gave %d distinct ports in 200 calls; want them spread, so that test binaries running side by side do not pick the same", len(seen))
	}
}

// fatalTB is a testing.TB whose Fatalf records the message and ends the
// goroutine, as testing's does, without failing the test that uses it.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// TestRedisStartFailsWithItsOutput: a redis-server that cannot listen (its
// port taken) fails Start with the server's own words. Before, Start read
// the server's output while the goroutine copying it there could still be
// writing (a data race, reported by -race in every test whose server did
// not start), and waited out its 10 s for a server that had already exited.
func TestRedisStartFailsWithItsOutput(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("skipping: redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	ft := &fatalTB{TB: t}
	r := &Redis{Addr: l.Addr().String(), t: ft, bin: bin, dir: t.TempDir(),
		args: []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"}}
	defer r.Stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Start()
	}()
	<-done
	if !strings.Contains(ft.msg, "Address already in use") {
		t.Errorf("Start on a port in use failed with %q; want the server's output, saying the address is in use", ft.msg)
	}
}

// TestSilent: a silent server accepts a connection and answers nothing:
// a read waits until the test closes the server.
func TestSilent(t *testing.T) {
	c, err := net.Dial("tcp", Silent(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read %d bytes, %v; want nothing until the deadline", n, err)
	}
}
