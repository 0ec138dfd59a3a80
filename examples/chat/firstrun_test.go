package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goappstats/appstats"
)

// TestStartErrors: a chat that cannot start because a port or its data
// directory is taken (a chat already running) says which flag to give.
func TestStartErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "chat.sqlite")
	for _, tt := range []struct{ app, hub, flag string }{
		{ln.Addr().String(), "127.0.0.1:0", "-addr"},
		{"127.0.0.1:0", ln.Addr().String(), "-hub"},
	} {
		err := run(tt.app, tt.hub, filepath.Join(dir, "data"), db, defaultHubConfig())
		if err == nil || !strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), tt.flag) {
			t.Errorf("app %s, hub %s: %v; want it to name %s", tt.app, tt.hub, err, tt.flag)
		}
	}

	data := filepath.Join(dir, "held")
	first, err := appstats.Open(appstats.Config{Dir: data, NoOTLP: true})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	err = run("127.0.0.1:0", "127.0.0.1:0", data, db, defaultHubConfig())
	if err == nil || !strings.Contains(err.Error(), "in use by another process") || !strings.Contains(err.Error(), "-data") {
		t.Errorf("a data directory in use: %v; want it to name -data", err)
	}
}
