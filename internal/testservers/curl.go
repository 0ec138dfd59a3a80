package testservers

import (
	"os/exec"
	"strings"
	"testing"
)

// Curl returns the path of a curl that speaks HTTP/2 (for transcripts of
// real clients against the project's HTTP wrappers), or skips t with a
// message saying what to install — fails it, with APPSTATS_REQUIRE_SERVERS=1.
func Curl(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("curl")
	if err != nil {
		missing(t, RequireServersEnv, "curl not found; install Debian's curl package")
		return ""
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.Contains(string(out), "HTTP2") {
		missing(t, RequireServersEnv, "%s does not speak HTTP/2 (curl --version: %v %q); install Debian's curl package", bin, err, out)
		return ""
	}
	return bin
}
