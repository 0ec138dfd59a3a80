package convention_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/goappstats/appstats/internal/convention"
)

// TestQueryValueSpacedPassword checks a URL whose password holds a space
// (libpq and the Redis, AMQP and MongoDB clients read it over the space),
// given unencoded to a query value of a URL that is itself a query value
// ("?next=https://h2/?q=postgres://bob:pa+ss@db/x": the "+" decodes to a
// space at the first level). Round 46 found it kept: the URL read in the
// decoded value ended at the space, the password's first half in its
// query, the second half a word of the text.
func TestQueryValueSpacedPassword(t *testing.T) {
	const R = convention.Redacted
	r := defaultRules()
	checkTexts(t, r, []textCase{
		{"https://h2/cb?q=postgres://bob:pa ss@db/x", "https://h2/cb?q=postgres://" + R + "@db/x"},
		{"GET https://h2/cb?a=1&q=redis://:pa ss@cache/0 failed", "GET https://h2/cb?a=1&q=redis://" + R + "@cache/0 failed"},
		{"https://h2/r/amqp://guest:pa ss@mq/vh", "https://h2/r/amqp://" + R + "@mq/vh"},
		// A raw "+" in a query is a space: the value is read decoded,
		// and encoded again around the marker.
		{"https://h2/cb?q=mongodb+srv://u:pa ss@cluster.example.net/db", "https://h2/cb?q=mongodb+srv%3A%2F%2F" + R + "%40cluster.example.net%2Fdb"},
		// Unchanged: a URL's query, then words and an e-mail address.
		{"https://h2/cb?q=http://h:8080 took 3 ms @ 4", "https://h2/cb?q=http://h:8080 took 3 ms @ 4"},
		{"https://h2/cb?q=redis://h:6379 and redis://:6379", "https://h2/cb?q=redis://h:6379 and redis://:6379"},
		{"see https://h2/cb?q=x and mail bob@h", "see https://h2/cb?q=x and mail bob@h"},
	})
	for _, v := range []string{"postgres://bob:pa ss@db/x", "redis://:pa ss@cache/0", "amqp://guest:pa ss@mq/vh", "mongodb+srv://u:pa ss@cluster.example.net/db"} {
		for _, raw := range []string{
			"https://h/cb?next=" + url.QueryEscape("https://h2/cb?q="+v),
			"https://h/cb?a=1&next=https://h2/cb?q=" + url.QueryEscape(v),
			"https://h/cb#next=" + url.QueryEscape("https://h2/cb?q="+v),
		} {
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []string{r.URL(u), r.Text("GET " + raw), r.Error(`Get "` + raw + `": EOF`), r.Query(u.RawQuery), r.Query(u.EscapedFragment())} {
				if leaked(got, "pa ss") {
					t.Errorf("%s\n kept the password: %s", raw, got)
				}
			}
		}
	}
}

// TestAuthorizationPlainCredential checks a credential after
// "Authorization: <scheme> " that is letters alone, in one case
// ("abcdefghijk"): round 46 found it kept, as prose ("Bearer token
// expired") is, in a text and in a query value. After the header's name it
// is hidden unless it is a word of prose.
func TestAuthorizationPlainCredential(t *testing.T) {
	const R = convention.Redacted
	r := defaultRules()
	checkTexts(t, r, []textCase{
		{"Authorization: Bearer abcdefghijk", "Authorization: Bearer " + R},
		{"401 for Authorization: Token abcdefghijk", "401 for Authorization: Token " + R},
		{"Proxy-Authorization: Basic abcdefghijk", "Proxy-Authorization: Basic " + R},
		// A query's last value that goes on after a space, as a decoded
		// value does (round 46: kept).
		{"https://h2/cb?q=Authorization: Bearer abcdefghijk", "https://h2/cb?q=Authorization: Bearer " + R},
		{"https://h2/cb?a=1&q=password: hunter22", "https://h2/cb?a=1&q=password: " + R},
		{"https://h2/cb?q=u:pa ss@tcp(db:3306)/app", "https://h2/cb?q=u:" + R + "@tcp(db:3306)/app"},
		// Prose stays.
		{"https://h2/cb?t=12:30 ok", "https://h2/cb?t=12:30 ok"},
		{"GET https://h2/cb?q=note: see the docs", "GET https://h2/cb?q=note: see the docs"},
		{"Authorization: Bearer token expired", "Authorization: Bearer token expired"},
		{"Authorization: Bearer required", "Authorization: Bearer required"},
	})
	for _, raw := range []string{
		"https://h/cb?q=" + url.QueryEscape("Authorization: Bearer abcdefghijk"),
		"https://h/cb?q=Authorization:%20Token%20abcdefghijk",
		"https://h/cb?next=" + url.QueryEscape("https://h2/cb?q="+url.QueryEscape("Authorization: Bearer abcdefghijk")),
		"https://h/cb#q=" + url.QueryEscape("Authorization: Bearer abcdefghijk"),
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, got := range []string{r.URL(u), r.Text("GET " + raw), r.Query(u.RawQuery)} {
			if leaked(got, "abcdefghijk") {
				t.Errorf("%s\n kept the token: %s", raw, got)
			}
		}
	}
}

// TestFragmentAndTwiceEncoded checks two forms a query reader missed
// (round 46): a fragment that is a URL or a text, not "name=value"
// ("#postgres://bob:pass@db/x", kept whole), and a value percent-encoded
// twice ("next=postgres%253A%252F%252Fbob%253Apass%2540db%252Fx", read
// once decoded as one word). Both are hidden as their decoded forms are.
func TestFragmentAndTwiceEncoded(t *testing.T) {
	const R = convention.Redacted
	r := defaultRules()
	for _, tt := range []struct{ in, want string }{
		{"https://h/cb#postgres://bob:pass@db/x", "https://h/cb#postgres://" + R + "@db/x"},
		{"https://h/cb#" + url.QueryEscape("postgres://bob:pass@db/x"), "https://h/cb#postgres%3A%2F%2F" + R + "%40db%2Fx"},
		{"https://h/cb?next=" + url.QueryEscape(url.QueryEscape("postgres://bob:pass@db/x")), "https://h/cb?next=postgres%253A%252F%252F" + R + "%2540db%252Fx"},
		{"https://h/cb?q=" + url.QueryEscape(url.QueryEscape("api_key=abcdefghijk")), "https://h/cb?q=api_key%253D" + R},
		{"https://h/cb#" + url.QueryEscape("api_key=abcdefghijk"), "https://h/cb#api_key%3D" + R},
		{"https://h/cb#" + url.PathEscape("u:pass@tcp(db:3306)/app"), "https://h/cb#u%3A" + R + "%40tcp%28db%3A3306%29%2Fapp"},
		{"https://h/cb#" + url.QueryEscape(url.QueryEscape("Authorization: Bearer abcdefghijk")), "https://h/cb#Authorization%253A%2BBearer%2B" + R},
		// Unchanged: a route in a fragment, a value encoded twice with
		// nothing secret.
		{"https://h/app#/users/42/edit", "https://h/app#/users/42/edit"},
		{"https://h/cb?next=%252Fhome%253Fa%253D1", "https://h/cb?next=%252Fhome%253Fa%253D1"},
	} {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.URL(u); got != tt.want {
			t.Errorf("URL(%s)\n = %s\nwant %s", tt.in, got, tt.want)
		}
		if got := r.Text(tt.in); got != tt.want {
			t.Errorf("Text(%s)\n = %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

// leaked reports whether secret is in s, or in s decoded up to three
// times.
func leaked(s, secret string) bool {
	for range 4 {
		if strings.Contains(s, secret) {
			return true
		}
		d, err := url.QueryUnescape(s)
		if err != nil {
			if d, err = url.PathUnescape(s); err != nil {
				return false
			}
		}
		s = d
	}
	return false
}
