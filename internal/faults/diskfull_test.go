//go:build linux

package faults

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestDiskFull fills a small filesystem through the application — 8
// clients sending requests with 16 KB of headers, every one recorded — on
// a 30 MB tmpfs and on a 40 MB ext4 image. Badger writes through memory
// maps, so a write past the last free block is a SIGBUS, fatal to the
// process; the store must stop writing first. Every request must succeed,
// the process must live, the store must say "disk full" (with one ERROR
// line) and count the records it drops, and once space is freed it must
// resume writing by itself. Then the application must shut down cleanly.
func TestDiskFull(t *testing.T) {
	runAppVictimIfChild()
	for _, fs := range []struct {
		kind string
		mb   int
	}{{"tmpfs", 30}, {"ext4", 40}} {
		t.Run(fs.kind, func(t *testing.T) {
			mnt := mountSmallFS(t, fs.kind, fs.mb)
			// Ballast freed later to give space back; the application
			// fills the rest.
			spare := ballast(t, mnt, 8<<20)
			v := startAppVictim(t, smallFiles(filepath.Join(mnt, "data")))

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var minFree atomic.Int64
			minFree.Store(freeBytes(t, mnt))
			go func() {
				for ctx.Err() == nil {
					if f := freeBytes(t, mnt); f < minFree.Load() {
						minFree.Store(f)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
			start := time.Now()
			h := startHammer(ctx, v.base, 8, 16<<10)
			full := v.waitStore("full", 3*time.Minute, func(s storeHealth) bool { return s.State == "disk full" })
			t.Logf("%s: disk full after %d requests in %v (%+v)", fs.kind, h.ok.Load(), time.Since(start).Round(time.Millisecond), full)
			if !strings.Contains(full.Detail, "records are dropped until space returns") {
				t.Errorf("detail %q does not say what happens", full.Detail)
			}
			if code, body := v.get("/stats/"); code != http.StatusOK || !strings.Contains(string(body), "disk full") {
				t.Errorf("dashboard (%d) does not say the disk is full", code)
			}

			// Keep going while full: requests succeed, records are dropped
			// (counted as the recorder hands the store its next batches).
			time.Sleep(3 * time.Second)
			v.requireAlive()
			still := v.waitStore("dropping more records", 30*time.Second, func(s storeHealth) bool {
				return s.State != "disk full" || s.Dropped > full.Dropped
			})
			if still.State != "disk full" || still.Dropped <= full.Dropped {
				t.Errorf("while full: %+v; want disk full, more records dropped than %d", still, full.Dropped)
			}
			before := v.requestsIn("1h")
			listedBefore := len(v.listed())
			if int64(listedBefore) != before {
				t.Errorf("while full: api/records lists %d records, api/stats counts %d", listedBefore, before)
			}

			// Free space: writing resumes by itself.
			if err := os.Remove(spare); err != nil {
				t.Fatal(err)
			}
			freed := time.Now()
			v.waitStore("writing again", 30*time.Second, func(s storeHealth) bool { return s.State == "ok" })
			resumed := time.Since(freed)
			deadline := time.Now().Add(30 * time.Second)
			for v.requestsIn("1h") <= before {
				if time.Now().After(deadline) {
					t.Fatalf("no record stored in 30s after space returned (%d before)", before)
				}
				time.Sleep(100 * time.Millisecond)
			}
			cancel()
			h.wait(t)
			after := v.storeHealth()
			t.Logf("%s: %d requests, all 200; %d records dropped while full; writing resumed %v after freeing 8 MiB; least free space seen %.1f MiB",
				fs.kind, h.ok.Load(), after.Dropped, resumed.Round(time.Millisecond), float64(minFree.Load())/(1<<20))
			if minFree.Load() < 1<<20 {
				t.Errorf("free space fell to %d bytes: the store wrote into its reserve", minFree.Load())
			}

			v.stop()
			// One ERROR line per disk-full episode (the load goes on after
			// space returns, and may fill the disk again), none other.
			log := v.stderr.String()
			first, _, logged := strings.Cut(log, "writing resumed")
			if n := strings.Count(first, "level=ERROR"); n != 1 || !logged {
				t.Errorf("want one ERROR line, then resuming logged; log:\n%s", log)
			}
			for line := range strings.Lines(log) {
				if strings.Contains(line, "level=ERROR") && !strings.Contains(line, "disk full") {
					t.Errorf("unexpected error: %s", line)
				}
			}
		})
	}
}

// TestOpenOnFullDisk restarts the application while its filesystem is
// full: the store opens degraded instead of crashing — read-only, showing
// what it stored before a clean shutdown, or, after a crash (when Badger
// cannot open the directory read-only), an empty store in memory — and
// reopens the directory for writing once space returns.
func TestOpenOnFullDisk(t *testing.T) {
	runAppVictimIfChild()
	for _, tt := range []struct {
		name    string
		crash   bool
		showing func(listed, stored int) bool
	}{
		{"after-clean-shutdown", false, func(listed, stored int) bool { return listed >= stored }},
		{"after-crash", true, func(listed, stored int) bool { return listed == 0 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mnt := mountSmallFS(t, "tmpfs", 30)
			cfg := smallFiles(filepath.Join(mnt, "data"))
			v := startAppVictim(t, cfg)
			ctx, cancel := context.WithCancel(context.Background())
			h := startHammer(ctx, v.base, 4, 4<<10)
			for v.requestsIn("1h") < 300 {
				time.Sleep(100 * time.Millisecond)
			}
			cancel()
			h.wait(t)
			stored := len(v.listed())
			if tt.crash {
				v.kill()
			} else {
				v.stop()
			}
			// Fill the filesystem to its last megabyte.
			spare := ballast(t, mnt, freeBytes(t, mnt)-1<<20)

			v = startAppVictim(t, cfg)
			s := v.storeHealth()
			if s.State != "disk full" {
				t.Fatalf("opened on a full disk: %+v, want state disk full", s)
			}
			listed := len(v.listed())
			t.Logf("opened on a full disk after storing %d records: lists %d; %s", stored, listed, s.Detail)
			if !tt.showing(listed, stored) {
				t.Errorf("lists %d records (%d stored before)", listed, stored)
			}
			ctx, cancel = context.WithCancel(context.Background())
			defer cancel()
			h = startHammer(ctx, v.base, 4, 4<<10)
			time.Sleep(2 * time.Second)
			v.requireAlive()
			// Counted as the recorder hands the store its next batches.
			dropping := v.waitStore("dropping records", 30*time.Second, func(s storeHealth) bool {
				return s.State != "disk full" || s.Dropped > 0
			})
			if dropping.Dropped == 0 {
				t.Errorf("no record counted as dropped while the disk was full: %+v", dropping)
			}

			if err := os.Remove(spare); err != nil {
				t.Fatal(err)
			}
			v.waitStore("writing again", 30*time.Second, func(s storeHealth) bool { return s.State == "ok" })
			deadline := time.Now().Add(30 * time.Second)
			for len(v.listed()) <= stored {
				if time.Now().After(deadline) {
					t.Fatalf("still %d records listed 30s after space returned, %d stored before", len(v.listed()), stored)
				}
				time.Sleep(100 * time.Millisecond)
			}
			cancel()
			h.wait(t)
			v.stop()
			if strings.Contains(v.stderr.String(), "panic") {
				t.Errorf("log mentions a panic:\n%s", v.stderr)
			}
		})
	}
}
