//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"testing"
)

const partialChildEnv = "APPSTATS_BENCH_PARTIAL_CHILD"

// partialChild runs a tiny hello run in dir with heap and round profiles
// (or, with whole, a -cpuprofile and a -trace through runMain) under a
// file-size limit of 512 bytes, which fails a profile's writes partway
// (EFBIG; Go ignores SIGXFSZ), and prints the run's error and then each
// file left in dir with its size.
func partialChild(dir string, whole bool) {
	lim := syscall.Rlimit{Cur: 512, Max: 512}
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err == nil {
		lim.Max = old.Max
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		fmt.Println("setrlimit:", err)
		os.Exit(2)
	}
	o := tinyHelloRun()
	var err error
	if csv := os.Getenv(partialChildEnv + "_CSV"); csv != "" {
		o.RoundsCSV = filepath.Join(dir, csv)
		_, err = run(context.Background(), o, io.Discard)
	} else if whole {
		o.CPUProfile = filepath.Join(dir, "whole.prof")
		o.Trace = filepath.Join(dir, "whole.trace")
		err = runMain(o)
	} else {
		o.HeapProfiles = filepath.Join(dir, "p")
		o.RoundProfiles = filepath.Join(dir, "p")
		_, err = run(context.Background(), o, io.Discard)
	}
	fmt.Printf("err: %v\n", err)
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		fi, _ := e.Info()
		fmt.Printf("file %s %d\n", e.Name(), fi.Size())
	}
}

// TestProfileFailedPartwayRemoved: a profile whose writes fail partway
// (here a file-size limit of 512 bytes: a full disk does the same) is
// reported, and the partial file the run made for it is removed, so that
// no truncated profile is left under the profile's name; profiles written
// whole stay. With -cpuprofile and -trace (whose writers' errors
// runtime/pprof and runtime/trace drop) the run ends with an error naming
// each. Before, every failed profile's truncated file was left behind, and
// -cpuprofile's and -trace's failures went unreported (exit status 0).
func TestProfileFailedPartwayRemoved(t *testing.T) {
	if dir := os.Getenv(partialChildEnv); dir != "" {
		partialChild(dir, os.Getenv(partialChildEnv+"_WHOLE") != "")
		return
	}
	for _, whole := range []bool{false, true} {
		t.Run(fmt.Sprintf("whole=%v", whole), func(t *testing.T) {
			dir := t.TempDir()
			var out, errOut bytes.Buffer
			cmd := exec.Command(os.Args[0], "-test.run=^TestProfileFailedPartwayRemoved$")
			cmd.Env = append(os.Environ(), partialChildEnv+"="+dir)
			if whole {
				cmd.Env = append(cmd.Env, partialChildEnv+"_WHOLE=1")
			}
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				t.Fatalf("child: %v\n%s\n%s", err, out.String(), errOut.String())
			}
			// The child prints "err: " and the error (lines of its
			// own), then a "file NAME SIZE" line a file.
			var runErr string
			files := map[string]int64{}
			for line := range strings.Lines(out.String()) {
				var name string
				var size int64
				if n, _ := fmt.Sscanf(line, "file %s %d", &name, &size); n == 2 {
					files[name] = size
				} else if e, ok := strings.CutPrefix(line, "err: "); ok || runErr != "" {
					runErr += e
					if !ok {
						runErr += line
					}
				}
			}
			want := []string{"p-hello.heap"}
			if whole {
				want = []string{"whole.prof", "whole.trace"}
			}
			for _, name := range want {
				if !strings.Contains(runErr, filepath.Join(dir, name)) {
					t.Errorf("the run's error %q does not name %s, whose writes failed", runErr, name)
				}
			}
			for name, size := range files {
				if strings.Contains(runErr, filepath.Join(dir, name)+" not written") {
					t.Errorf("%s, whose profile failed, left behind (%d bytes)", name, size)
				} else if size == 0 {
					t.Errorf("%s left empty", name)
				}
			}
			if !whole && strings.Count(runErr, "partial file removed") != strings.Count(runErr, " not written:") {
				t.Errorf("the run's error %q does not say of each failed profile that its partial file was removed", runErr)
			}
		})
	}
}

// TestProfileNeverRemovesWhatWasThere: a profile's path that held
// something before the run (a file of the user's, a link to one) is
// emptied and written through, as os.Create does (and as the run always
// did), but never removed when the profile fails, whether it could not
// start (another CPU profile running) or its writes failed: the file, the
// link and the link's target are all still there. Before, a round profile
// that could not start removed whatever was at its path.
func TestProfileNeverRemovesWhatWasThere(t *testing.T) {
	for _, kind := range []string{"file", "link"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			path, target := filepath.Join(dir, "p.prof"), filepath.Join(dir, "target")
			if err := os.WriteFile(target, []byte("the user's"), 0o644); err != nil {
				t.Fatal(err)
			}
			if kind == "link" {
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
			} else {
				path = target
			}
			check := func(when string) {
				t.Helper()
				if _, err := os.Lstat(path); err != nil {
					t.Errorf("%s: %s gone: %v", when, kind, err)
				}
				if _, err := os.Stat(target); err != nil {
					t.Errorf("%s: the target gone: %v", when, err)
				}
			}
			// Another CPU profile is running: the round's cannot start.
			if err := pprof.StartCPUProfile(io.Discard); err != nil {
				t.Skip("a CPU profile is running already:", err)
			}
			stop, err := startProfile(path)
			pprof.StopCPUProfile()
			if err == nil {
				stop()
				t.Fatal("startProfile while another CPU profile runs: no error")
			}
			check("a round profile that could not start")
			p, err := createProfile("-heapprofiles", path)
			if err != nil {
				t.Fatal(err)
			}
			p.Write([]byte("part"))
			err = p.close(errors.New("disk full"))
			if err == nil || !strings.Contains(err.Error(), "there before the run") {
				t.Errorf("a failed profile over a %s: %v; want an error saying it was there before", kind, err)
			}
			check("a profile whose writes failed")
		})
	}
}

// TestRoundsCSVFailedPartwayRemoved: a -roundscsv file whose writes fail
// partway (a file-size limit of 512 bytes, which the header fits and the
// rows do not) is reported, and follows the profiles' rule: the partial
// file the run made is removed, so that no truncated CSV is left under its
// name, while a file that was there before the run is written through and
// never removed. Before, the run's own truncated file was left behind.
func TestRoundsCSVFailedPartwayRemoved(t *testing.T) {
	for _, before := range []bool{false, true} {
		t.Run(fmt.Sprintf("there_before=%v", before), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "rounds.csv")
			if before {
				if err := os.WriteFile(path, []byte("the user's"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var out, errOut bytes.Buffer
			cmd := exec.Command(os.Args[0], "-test.run=^TestProfileFailedPartwayRemoved$")
			cmd.Env = append(os.Environ(), partialChildEnv+"="+dir, partialChildEnv+"_CSV=rounds.csv")
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				t.Fatalf("child: %v\n%s\n%s", err, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), "err: -roundscsv") || !strings.Contains(out.String(), path) {
				t.Errorf("the run's error does not name -roundscsv and %s:\n%s", path, out.String())
			}
			_, err := os.Lstat(path)
			switch {
			case before && err != nil:
				t.Errorf("the file there before the run removed: %v\n%s", err, out.String())
			case before && !strings.Contains(out.String(), "there before the run"):
				t.Errorf("the run's error does not say the file was there before it:\n%s", out.String())
			case !before && err == nil:
				t.Errorf("the run's partial file left behind:\n%s", out.String())
			case !before && !strings.Contains(out.String(), "partial file removed"):
				t.Errorf("the run's error does not say its partial file was removed:\n%s", out.String())
			}
		})
	}
}
