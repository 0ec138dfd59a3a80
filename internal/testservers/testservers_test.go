package testservers

import (
	"os/exec"
	"strings"
	"testing"
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

func TestCurl(t *testing.T) {
	bin := Curl(t)
	if out, err := exec.Command(bin, "--version").Output(); err != nil || !strings.HasPrefix(string(out), "curl ") {
		t.Fatalf("%s --version: %v %q", bin, err, out)
	}
}
