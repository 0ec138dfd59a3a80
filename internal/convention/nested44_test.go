package convention_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
	"github.com/goappstats/appstats/internal/testalloc"
)

// TestTextNestedURLsLinear checks that a text of URLs written in one
// another's path ("p://a@p://a@…", a redirect's target after a "/") is
// scrubbed in time linear in its length, counted in the bytes allocated
// (not the clock): each URL's path was scrubbed as a text again, its URLs'
// paths again, so that n nested URLs cost n scans of the text (round 44:
// "p://" repeated to 16 KiB took 0.4 s; the bytes allocated for 256 KiB
// were 16 times those for 64 KiB). 4 times the text may allocate 6 times
// the bytes at most. The URLs in a path are still read: their user
// information is hidden whole, as a URL's in a text is.
func TestTextNestedURLsLinear(t *testing.T) {
	r := defaultRules()
	allocated := func(s string) uint64 { return testalloc.Bytes(func() { r.Error(s) }) }
	for _, p := range []string{"p://a@", "http://u:p@h/", "p://a:b@/", "/p:/:a@", "/p:/a/"} {
		small := allocated(strings.Repeat(p, (16<<10)/len(p)))
		large := allocated(strings.Repeat(p, (64<<10)/len(p)))
		if large > 6*small {
			t.Errorf("%q repeated: %d bytes allocated for 16 KiB, %d for 64 KiB (%.1f times)", p, small, large, float64(large)/float64(small))
		}
	}
	const R = convention.Redacted
	checkTexts(t, r, []textCase{
		{"GET https://h/r/https://u:pw@h2/x", "GET https://h/r/https://" + R + "@h2/x"},
		{"GET https://h/r/https://u:pw@h2/x?token=abc", "GET https://h/r/https://" + R + "@h2/x?token=" + R},
	})
}

// TestTextNestedURLEmptyUserPassword checks that a URL written in another
// URL's path whose password follows an empty user ("redis://:pw@h", Redis'
// own form) is hidden, in a text and by URL, as it was before the path
// stopped being read as URLs (round 44: the path's URLs were read as words,
// which need a user before the ":", and the password was left).
func TestTextNestedURLEmptyUserPassword(t *testing.T) {
	r := defaultRules()
	for _, s := range []string{
		"GET https://h/r/redis://:secretpw@h:6379/0",
		"GET http://h/https://:tok3npw@h2/x",
		"see https://h/a/b/rediss://:secretpw@cache.internal",
	} {
		if got := r.Text(s); strings.Contains(got, "secretpw") || strings.Contains(got, "tok3npw") {
			t.Errorf("Text(%q) = %q: the password is left", s, got)
		}
	}
	u, _ := url.Parse("https://h/proxy/redis://:secretpw@cache:6379/0")
	if got := r.URL(u); strings.Contains(got, "secretpw") {
		t.Errorf("URL(%q) = %q: the password is left", u, got)
	}
}

// TestTextNestedURLUserInfoHiddenWhole checks that the user information of
// a URL in another URL's path is hidden whole, as a URL's in a text is, in
// each of its forms (empty user, empty password, a user alone,
// percent-encoded), at several levels, and in a query's value (round 44:
// read as words, "https://u:pw@h2" kept its user and ":pw@" its password).
func TestTextNestedURLUserInfoHiddenWhole(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"GET https://h/r/redis://:s3cretpw@h:6379/0", "GET https://h/r/redis://" + R + "@h:6379/0"},
		{"GET https://h/r/https://u:pw@h2/x", "GET https://h/r/https://" + R + "@h2/x"},
		{"GET https://h/r/https://u:@h2/x", "GET https://h/r/https://" + R + "@h2/x"},
		{"GET https://h/r/https://alice@h2/x", "GET https://h/r/https://" + R + "@h2/x"},
		{"GET https://h/r/redis://%3As3cret%40pw@h/0", "GET https://h/r/redis://" + R + "@h/0"},
		{"GET https://h/r/https://al%40ce:p%3Aw@h2/x", "GET https://h/r/https://" + R + "@h2/x"},
		{"GET https://h/r/https://u:pa@ss@h2/x", "GET https://h/r/https://" + R + "@h2/x"},
		{"GET https://h/a/https://h2/b/redis://:s3cretpw@h3/c/https://u:pw@h4/d",
			"GET https://h/a/https://h2/b/redis://" + R + "@h3/c/https://" + R + "@h4/d"},
		{"GET https://h/a/https://u1:pw1@h2/b/https://:pw2@h3/c",
			"GET https://h/a/https://" + R + "@h2/b/https://" + R + "@h3/c"},
		{"GET https://h/cb?next=redis://:s3cretpw@h:6379/0", "GET https://h/cb?next=redis://" + R + "@h:6379/0"},
		{"GET https://h/cb?next=https://h2/r/redis://:s3cretpw@h3", "GET https://h/cb?next=https://h2/r/redis://" + R + "@h3"},
		{"GET https://h/r/https://u:pw@h2/x?token=abc", "GET https://h/r/https://" + R + "@h2/x?token=" + R},
		// Unchanged: a nested URL with no user information, an "@" in a
		// path's segment.
		{"GET https://h/r/https://h2/x", "GET https://h/r/https://h2/x"},
		{"GET https://h/r/https://h2/@scope/pkg", "GET https://h/r/https://h2/@scope/pkg"},
		{"GET https://h/npm/@scope/pkg", "GET https://h/npm/@scope/pkg"},
	})
	r := defaultRules()
	for _, raw := range []string{
		"https://h/proxy/redis://:s3cretpw@cache:6379/0",
		"https://h/proxy/redis://u:s3cretpw@cache:6379/0",
		"https://h/proxy/https://h2/x/redis://:s3cretpw@cache:6379/0",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Replace(raw, "redis://:s3cretpw@", "redis://"+R+"@", 1)
		want = strings.Replace(want, "redis://u:s3cretpw@", "redis://"+R+"@", 1)
		if got := r.URL(u); got != want {
			t.Errorf("URL(%q)\n = %q\nwant %q", raw, got, want)
		}
	}
}

// TestTextNestedURLCleanedSlash checks a URL written in a path whose "//" a
// server cleaned to "/" (Go's ServeMux redirects "/proxy/redis://…" to
// "/proxy/redis:/…", and the middleware records both requests): its user
// information is hidden whole as well (round 44: "/proxy/redis:/:pw@cache"
// kept its password, "https:/u:pw@h2" its user).
func TestTextNestedURLCleanedSlash(t *testing.T) {
	const R = convention.Redacted
	checkTexts(t, defaultRules(), []textCase{
		{"/proxy/redis:/:s3cretpw@cache:6379/0", "/proxy/redis:/" + R + "@cache:6379/0"},
		{"/proxy/https:/alice:s3cretpw@h2.example/x", "/proxy/https:/" + R + "@h2.example/x"},
		{"/proxy/https:/h2.example/r/rediss:/:s3cretpw@cache/0", "/proxy/https:/h2.example/r/rediss:/" + R + "@cache/0"},
		{"GET https://h/proxy/redis:/:s3cretpw@cache:6379/0", "GET https://h/proxy/redis:/" + R + "@cache:6379/0"},
		// Unchanged: no "@" before the next "/".
		{"/proxy/https:/h2.example/x", "/proxy/https:/h2.example/x"},
		{"/files/C:/Users/bob/a@b", "/files/C:/Users/bob/a@b"},
		{"/npm:/@scope/pkg", "/npm:/@scope/pkg"},
	})
}
