package badgerstore_test

import "testing"

// killedBy says that a process that ended on goos, successfully or not
// and with exitCode, may have been ended by os.Process.Kill, where there
// is no signal to tell a kill by (crash_other_test.go): Windows ends a
// killed process with exit code 1; Plan 9 with a note, which fails it.
func killedBy(goos string, success bool, exitCode int) bool {
	if goos == "windows" {
		return exitCode == 1
	}
	return !success
}

// TestKilledByOnWindowsIsExitCodeOne: on Windows, a process killed ends
// with exit code 1, and any other failing exit is not taken for a kill;
// elsewhere outside Unix, any failing exit is.
func TestKilledByOnWindowsIsExitCodeOne(t *testing.T) {
	for _, tc := range []struct {
		goos    string
		success bool
		code    int
		want    bool
	}{
		{"windows", false, 1, true},
		{"windows", false, 2, false},
		{"windows", false, 3, false}, // a Go panic's exit code, not a kill
		{"windows", true, 0, false},
		{"plan9", false, 1, true},
		{"plan9", false, 2, true},
		{"plan9", true, 0, false},
	} {
		if got := killedBy(tc.goos, tc.success, tc.code); got != tc.want {
			t.Errorf("killedBy(%q, %v, %d) = %v, want %v", tc.goos, tc.success, tc.code, got, tc.want)
		}
	}
}
