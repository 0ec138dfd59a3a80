// Package testservers starts real servers for the project's tests — a
// throwaway PostgreSQL cluster, redis-server, a Redis Cluster — on loopback
// ports, in temporary directories, stopped when the test ends, and finds real
// clients ([Curl]).
//
// A test that needs a server or client binary that is not installed skips
// with a message saying what to install, unless APPSTATS_REQUIRE_SERVERS=1 is
// set (as .ci/run does), in which case it fails. [RequireRoot] does the same for tests
// that need root, with APPSTATS_REQUIRE_ROOT.
package testservers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables that turn a skip into a failure.
const (
	RequireServersEnv = "APPSTATS_REQUIRE_SERVERS"
	RequireRootEnv    = "APPSTATS_REQUIRE_ROOT"
)

// missing skips t, or fails it when env is set to 1.
func missing(t testing.TB, env, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(env) == "1" {
		t.Fatalf("%s (required: %s=1)", msg, env)
	}
	t.Skipf("skipping: %s (set %s=1 to make this a failure)", msg, env)
}

// RequireRoot skips t unless the process runs as root (or fails it, with
// APPSTATS_REQUIRE_ROOT=1).
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, RequireRootEnv, "this test needs root (it mounts a filesystem)")
	}
}

const (
	// minFreePort is the lowest port FreePort returns.
	minFreePort = 10000
	// clusterBusOffset is how far above a Redis Cluster node's port its
	// cluster bus listens.
	clusterBusOffset = 10000
)

// ephemeralRange returns the kernel's range of ephemeral ports: those it
// gives connections' local ends and listeners on port 0.
func ephemeralRange() (lo, hi int, ok bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, false
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	return lo, hi, err1 == nil && err2 == nil && lo <= hi
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// a server the test starts on it.
//
// The port is picked at random below the kernel's ephemeral range (see
// ip_local_port_range), from 10000 up, such that the port 10000 above it —
// a Redis Cluster node's bus — is below that range too, and both are
// checked free. The kernel never gives a port there to a connection's
// local end or to a listener on port 0, so no other test (in this process
// or in another package's test binary running beside it) takes the port
// between FreePort and the server's bind, as one could a port from the
// ephemeral range. Where the range leaves no room, the kernel picks.
func FreePort(t testing.TB) int {
	t.Helper()
	if lo, _, ok := ephemeralRange(); ok && lo-clusterBusOffset > minFreePort {
		for range 100 {
			p := minFreePort + rand.IntN(lo-clusterBusOffset-minFreePort)
			if portFree(p) && portFree(p+clusterBusOffset) {
				return p
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testservers: finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// portFree reports whether port can be listened on at 127.0.0.1.
func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// postgresBin returns the directory of PostgreSQL's server binaries.
func postgresBin() (string, bool) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), true
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", false
	}
	return filepath.Dir(matches[len(matches)-1]), true
}

// StartPostgres starts a throwaway PostgreSQL cluster on a loopback port and
// returns a URL DSN for it (user "appstats", trust authentication, database
// "postgres"), as pgx and lib/pq accept. The cluster is stopped and its
// directory removed when t ends.
//
// As root, the cluster runs as the "postgres" user (PostgreSQL refuses to
// run as root).
func StartPostgres(t testing.TB) string {
	t.Helper()
	bin, ok := postgresBin()
	if !ok {
		missing(t, RequireServersEnv, "PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's postgresql package")
	}
	dir, err := os.MkdirTemp("", "appstats-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var asUser []string
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("testservers: running PostgreSQL as root needs a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	run := func(name string, args ...string) {
		t.Helper()
		argv := append(append(append([]string{}, asUser...), filepath.Join(bin, name)), args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("testservers: %s: %v\n%s", strings.Join(argv, " "), err, out)
		}
	}
	data := filepath.Join(dir, "data")
	run("initdb", "-D", data, "-U", "appstats", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	port := FreePort(t)
	opts := fmt.Sprintf("-k %s -p %d -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off", dir, port)
	run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start")
	t.Cleanup(func() {
		argv := append(append(append([]string{}, asUser...), filepath.Join(bin, "pg_ctl")), "-D", data, "-m", "immediate", "-w", "stop")
		exec.Command(argv[0], argv[1:]...).Run()
	})
	return fmt.Sprintf("postgres://appstats@127.0.0.1:%d/postgres?sslmode=disable", port)
}

// A Redis is a redis-server started by [StartRedis] or [StartRedisCluster].
type Redis struct {
	Addr string // 127.0.0.1:port

	t    testing.TB
	bin  string
	args []string
	dir  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	out    *bytes.Buffer // the server's output: read once exited is closed
	exited chan struct{} // closed when cmd has exited and its output is in out
}

// StartRedis starts redis-server on a loopback port, without persistence, with
// extra arguments appended to its command line (e.g. "--requirepass", "pw").
// It is stopped when t ends.
func StartRedis(t testing.TB, extra ...string) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, RequireServersEnv, "redis-server not found; install Debian's redis-server package")
	}
	dir := t.TempDir()
	port := FreePort(t)
	r := &Redis{
		Addr: fmt.Sprintf("127.0.0.1:%d", port),
		t:    t,
		bin:  bin,
		dir:  dir,
		args: append([]string{
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--daemonize", "no", "--protected-mode", "no",
		}, extra...),
	}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// Start starts the server again after [Redis.Stop], on the same port. It
// fails the test, with the server's output, if the server exits (its port
// taken, say) or does not answer PING within 10 seconds.
func (r *Redis) Start() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return
	}
	cmd := exec.Command(r.bin, r.args...)
	cmd.Dir = r.dir
	r.out = new(bytes.Buffer)
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("testservers: starting redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait() // returns once the server's output is copied to r.out
		close(exited)
	}()
	r.cmd, r.exited = cmd, exited
	deadline := time.Now().Add(10 * time.Second)
	for {
		if reply, err := redisCommand(r.Addr, "PING"); err == nil && reply == "+PONG" {
			return
		}
		select {
		case <-exited: // a port taken, a bad argument: it said why
			r.cmd = nil
			r.t.Fatalf("testservers: redis-server on %s exited (%v):\n%s", r.Addr, cmd.ProcessState, r.out)
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			r.cmd = nil
			r.t.Fatalf("testservers: redis-server on %s did not answer PING:\n%s", r.Addr, r.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the server (its data is lost). Calling it again has no effect.
func (r *Redis) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	<-r.exited
	r.cmd = nil
}

// Pause stops the server's process (SIGSTOP) without closing its
// connections: it reads and answers nothing until [Redis.Resume]. A test
// that pauses resumes before it ends: [Redis.Stop] kills a paused server
// too.
func (r *Redis) Pause() { r.signal(syscall.SIGSTOP) }

// Resume continues a server paused by [Redis.Pause] (SIGCONT).
func (r *Redis) Resume() { r.signal(syscall.SIGCONT) }

func (r *Redis) signal(sig syscall.Signal) {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		r.t.Fatalf("testservers: redis-server on %s is not running", r.Addr)
	}
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Fatalf("testservers: signalling redis-server: %v", err)
	}
}

// WaitSubscribed waits until at least n clients subscribe to channel
// (PUBSUB NUMSUB), for up to a minute, and fails t if they do not. A process
// that subscribes in a goroutine of its own misses what is published before
// its subscription reaches the server: a test that publishes waits for it.
func (r *Redis) WaitSubscribed(t testing.TB, channel string, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := redisNumSub(r.Addr, channel)
		if err == nil && got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("testservers: %d subscribers to %s after a minute, want %d (%v)", got, channel, n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// redisNumSub returns the number of subscribers to channel: the reply to
// PUBSUB NUMSUB is an array of the channel's name and that number.
func redisNumSub(addr, channel string) (int, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(c, "PUBSUB NUMSUB %s\r\n", channel); err != nil {
		return 0, err
	}
	br := bufio.NewReader(c)
	var last string
	for range 4 { // *2, $len, the channel, :n
		line, err := br.ReadString('\n')
		if err != nil {
			return 0, err
		}
		last = strings.TrimRight(line, "\r\n")
	}
	num, ok := strings.CutPrefix(last, ":")
	if !ok {
		return 0, fmt.Errorf("PUBSUB NUMSUB %s: unexpected reply %q", channel, last)
	}
	return strconv.Atoi(num)
}

// redisCommand sends one inline command and returns the first line of the
// reply.
func redisCommand(addr string, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := fmt.Fprintf(c, "%s\r\n", strings.Join(args, " ")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// StartRedisCluster starts a Redis Cluster of the given number of masters (at
// least 3, no replicas) on loopback ports and returns its nodes. It is
// stopped when t ends.
func StartRedisCluster(t testing.TB, masters int) []*Redis {
	t.Helper()
	if masters < 3 {
		t.Fatalf("testservers: a Redis Cluster needs at least 3 masters, not %d", masters)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		missing(t, RequireServersEnv, "redis-cli not found; install Debian's redis-server package (it brings redis-tools)")
	}
	nodes := make([]*Redis, masters)
	addrs := make([]string, masters)
	// A node that answers nothing for the node timeout is taken for
	// failed, and with no replicas the cluster goes down (CLUSTERDOWN): a
	// minute, so that a long script or a loaded machine's scheduling does
	// not (2 s did, in a loaded run).
	for i := range nodes {
		nodes[i] = StartRedis(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "60000")
		addrs[i] = nodes[i].Addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"--cluster", "create"}, addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		t.Fatalf("testservers: redis-cli %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	// The cluster is usable once every node says so.
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range nodes {
		for {
			out, err := exec.Command(cli, "-h", "127.0.0.1", "-p", strings.TrimPrefix(n.Addr, "127.0.0.1:"), "cluster", "info").Output()
			if err == nil && bytes.Contains(out, []byte("cluster_state:ok")) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("testservers: Redis Cluster node %s not ready: %s", n.Addr, out)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nodes
}
