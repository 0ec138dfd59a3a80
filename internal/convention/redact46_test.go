package convention_test

import (
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// TestTextNestedURLEmptyUserInfo pins the one case where a URL written in
// a path after "scheme://" and one after a "scheme:/" a server cleaned are
// read differently: an "@" right after the slashes. After "://" it ends an
// empty user information, marked hidden as a URL's own is
// ("redis://@cache" is "redis://[REDACTED]@cache" in a text); after ":/"
// it is the path's ("/npm:/@scope/pkg", a scoped package after a segment
// that ends in ":"), left as it is. Neither hides anything secret: the
// user information is empty.
func TestTextNestedURLEmptyUserInfo(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		// A URL's own, for comparison.
		{"redis://@cache:6379/0", "redis://" + R + "@cache:6379/0"},
		// "://" in a URL's path: as a URL's own.
		{"GET https://h/r/redis://@cache:6379/0", "GET https://h/r/redis://" + R + "@cache:6379/0"},
		{"GET https://h/r/https://@h2/x?token=abcdefghij", "GET https://h/r/https://" + R + "@h2/x?token=" + R},
		// ":/" in a path: the path's own "@".
		{"/npm:/@scope/pkg", "/npm:/@scope/pkg"},
		{"/r/redis:/@cache:6379/0", "/r/redis:/@cache:6379/0"},
		{"GET https://h/r/npm:/@scope/pkg", "GET https://h/r/npm:/@scope/pkg"},
		// A user information that is not empty is hidden in both.
		{"GET https://h/r/redis://:pw@cache/0", "GET https://h/r/redis://" + R + "@cache/0"},
		{"/r/redis:/:s3cretpw@cache/0", "/r/redis:/" + R + "@cache/0"},
	})
}
