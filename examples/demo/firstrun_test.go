package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goappstats/appstats"
)

// TestStartErrors: the ways a demo fails to start on a newcomer's machine
// (the port taken, the data directory held by a demo already running, a
// data directory it cannot make or write: a read-only one, or one under a
// file) say which flag to give. The last said only Badger's "Cannot write
// pid file ... read-only file system", or "mkdir ...: not a directory".
func TestStartErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = run(options{addr: ln.Addr().String(), data: filepath.Join(t.TempDir(), "data")})
	if err == nil || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), "-addr") {
		t.Errorf("an address in use: %v; want it to name -addr", err)
	}

	dir := filepath.Join(t.TempDir(), "data")
	first, err := appstats.Open(appstats.Config{Dir: dir, NoOTLP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	err = run(options{addr: "127.0.0.1:0", data: dir})
	if err == nil || !strings.Contains(err.Error(), "in use by another process") || !strings.Contains(err.Error(), "-data") {
		t.Errorf("a data directory in use: %v; want it to name -data", err)
	}

	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err = run(options{addr: "127.0.0.1:0", data: filepath.Join(file, "data")})
	if err == nil || !strings.Contains(err.Error(), "-data") {
		t.Errorf("a data directory that cannot be made: %v; want it to name -data", err)
	}
}
