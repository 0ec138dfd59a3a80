package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// collectTB records what Check reports instead of failing the test.
type collectTB struct {
	testing.TB
	errs []string
}

func (c *collectTB) Errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}
func (c *collectTB) Error(args ...any) { c.errs = append(c.errs, fmt.Sprint(args...)) }

// crawlWantReported crawls b from start within "/s/" and fails t for each
// of want that none of the errors the crawl reported holds; it returns
// those errors, one a line.
func crawlWantReported(t *testing.T, b *Browser, start string, want ...string) string {
	t.Helper()
	c := collectTB{TB: t}
	b.Crawl(&c, start, CrawlOptions{Prefix: "/s/"})
	all := strings.Join(c.errs, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("%q not reported: %q", w, c.errs)
		}
	}
	return all
}

func TestCheckReportsErrorsAndForeignRequests(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/clean":
			fmt.Fprint(w, `<!doctype html><title>clean</title><p id=x>ok</p>`)
		case "/dirty":
			fmt.Fprintf(w, `<!doctype html><title>dirty</title><img src="%s/pixel.png"><script>console.error("boom")</script><p id=x>ok</p>`, other.URL)
		}
	}))
	defer srv.Close()

	b := New(t, srv.URL, Options{})
	b.Navigate(t, "/clean")
	b.WaitFor(t, "the paragraph", `document.getElementById("x") !== null`, Patience)
	var clean collectTB
	clean.TB = t
	b.Check(&clean)
	if len(clean.errs) != 0 {
		t.Fatalf("a clean page reported %q", clean.errs)
	}

	b.Navigate(t, "/dirty")
	b.WaitFor(t, "the paragraph", `document.getElementById("x") !== null`, Patience)
	deadline := time.Now().Add(Patience)
	var dirty collectTB
	for {
		dirty = collectTB{TB: t}
		b.Check(&dirty)
		all := strings.Join(dirty.errs, "\n")
		if strings.Contains(all, "boom") && strings.Contains(all, other.URL) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Check did not report the console error and the foreign request: %q", dirty.errs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Crawl fails for a script error that comes after the page's first 100 ms
// (a timer's): it waited 100 ms a page, and the next page's load stopped
// the timer, so that not even Check saw it. And for a link answered 404 as
// an attachment (reported before too, by the load's error).
func TestCrawlLateErrorsAndStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/s/":
			fmt.Fprint(w, `<!doctype html><title>start</title><a href="/s/late">late</a> <a href="/s/gone">gone</a>`)
		case "/s/late":
			fmt.Fprint(w, `<!doctype html><title>late</title><p>ok</p><script>setTimeout(function () { throw new Error("late boom"); }, 300)</script>`)
		case "/s/gone":
			w.Header().Set("Content-Disposition", `attachment; filename="x.json"`)
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{}`)
		}
	}))
	defer srv.Close()
	b := New(t, srv.URL, Options{})
	var c collectTB
	c.TB = t
	res := b.Crawl(&c, "/s/", CrawlOptions{Prefix: "/s/"})
	all := strings.Join(c.errs, "\n")
	if !strings.Contains(all, "late boom") {
		t.Errorf("the late error not reported: %q", c.errs)
	}
	if !strings.Contains(all, "/s/gone") {
		t.Errorf("the page answered 500 not reported: %q", c.errs)
	}
	t.Logf("pages %q: %q", res.Pages, c.errs)
}

// Crawl checks, by loading its page with it, a fragment of each shape
// (digits as one) its page lacks as loaded, not only the first three: a
// page whose script finds #call-N but has no #row-N passed when #row-N came
// fourth.
func TestCrawlFragmentShapes(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/s/":
			fmt.Fprint(w, `<!doctype html><title>start</title>`)
			for i := range 5 {
				fmt.Fprintf(w, `<a href="/s/t#call-%d">c</a> `, i)
			}
			fmt.Fprint(w, `<a href="/s/t#row-7">r</a>`)
		case "/s/t":
			// The script makes the element #call-N the fragment names, as a
			// page of calls finds a call on another page; #row-N it does not.
			fmt.Fprint(w, `<!doctype html><title>t</title><body><script>var f = location.hash.slice(1); if (/^call-/.test(f)) { var p = document.createElement('p'); p.id = f; document.body.appendChild(p); }</script>`)
		}
	}))
	defer srv.Close()
	b := New(t, srv.URL, Options{})
	var c collectTB
	c.TB = t
	res := b.Crawl(&c, "/s/", CrawlOptions{Prefix: "/s/"})
	if !strings.Contains(strings.Join(c.errs, "\n"), "#row-7") {
		t.Errorf("the missing #row-7 not reported: %q (%d reloaded)", c.errs, res.Reloaded)
	}
	for _, e := range c.errs {
		if strings.Contains(e, "#call-") {
			t.Errorf("a fragment the page's script finds reported: %s", e)
		}
	}
}

// Crawl checks every fragment linked to: a fourth fragment of a shape its
// page's script does not make (#call-3, #call-4 after #call-0 to #call-2,
// which it does) passed unchecked, and so did the fragments of a page not
// visited (its shape's quota spent) beyond the first such page of a shape.
func TestCrawlEveryFragment(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/s/":
			fmt.Fprint(w, `<!doctype html><title>start</title>`)
			for i := range 5 {
				fmt.Fprintf(w, `<a href="/s/t#call-%d">c</a> `, i)
			}
			fmt.Fprint(w, `<a href="/s/r/0123456789abcdef#top">r1</a> <a href="/s/r/fedcba9876543210#gone">r2</a> <a href="/s/r/aaaaaaaaaaaaaaaa#gone2">r3</a>`)
		case "/s/t":
			// The script makes #call-0 to #call-2 only.
			fmt.Fprint(w, `<!doctype html><title>t</title><body><script>var m = /^#call-([0-2])$/.exec(location.hash); if (m) { var p = document.createElement('p'); p.id = 'call-' + m[1]; document.body.appendChild(p); }</script>`)
		default:
			fmt.Fprint(w, `<!doctype html><title>r</title><p id="top">r</p>`)
		}
	}))
	defer srv.Close()
	b := New(t, srv.URL, Options{})
	var c collectTB
	c.TB = t
	res := b.Crawl(&c, "/s/", CrawlOptions{Prefix: "/s/", PerShape: 1, PerPath: 1})
	all := strings.Join(c.errs, "\n")
	for _, f := range []string{"#call-3", "#call-4", "#gone,", "#gone2"} {
		if !strings.Contains(all, f) {
			t.Errorf("the missing %s not reported: %q", f, c.errs)
		}
	}
	for _, f := range []string{"#call-0", "#call-1", "#call-2", "#top"} {
		if strings.Contains(all, f+" ") || strings.Contains(all, f+",") {
			t.Errorf("%s, which its page has, reported: %q", f, c.errs)
		}
	}
	if res.Anchors != 8 {
		t.Errorf("checked %d fragments, want 8", res.Anchors)
	}
}

// Crawl fails a page for a Content-Security-Policy violation: a style
// attribute under style-src 'self', in the HTML and in HTML a timer of the
// page's script inserts 200 ms after load (which the crawl waits for); a
// page within its policy passes.
func TestCrawlCSPViolations(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline'; style-src 'self'")
		switch r.URL.Path {
		case "/s/":
			fmt.Fprint(w, `<!doctype html><title>start</title><p class="x">ok</p><a href="/s/attr">attr</a> <a href="/s/late">late</a>`)
		case "/s/attr":
			fmt.Fprint(w, `<!doctype html><title>attr</title><p style="color: red">red</p>`)
		case "/s/late":
			fmt.Fprint(w, `<!doctype html><title>late</title><div id="d"></div><script>setTimeout(function () { document.getElementById('d').innerHTML = '<span style="color: blue">blue</span>'; }, 200)</script>`)
		}
	}))
	defer srv.Close()
	b := New(t, srv.URL, Options{})
	var c collectTB
	c.TB = t
	res := b.Crawl(&c, "/s/", CrawlOptions{Prefix: "/s/"})
	byPage := map[string]int{}
	for _, e := range c.errs {
		if strings.Contains(e, "csp violation") && strings.Contains(e, "style-src") && !strings.Contains(e, "(late)") {
			for _, p := range []string{"/s/attr", "/s/late", "/s/:"} {
				if strings.Contains(e, p) {
					byPage[p]++
				}
			}
		}
	}
	if byPage["/s/attr"] == 0 || byPage["/s/late"] == 0 || byPage["/s/:"] != 0 {
		t.Errorf("violations by page %v, want /s/attr and /s/late (not late) and not /s/: %q (pages %q)", byPage, c.errs, res.Pages)
	}
}

// Crawl waits for a page's requests and short timers before it checks the
// page and loads the next: an error thrown when a fetch answered after
// 800 ms, and one of a timer of 900 ms, are the page's, not lost. It
// waited a fixed 500 ms a page: the next page's load ended the fetch and
// the timer, and neither error was reported.
func TestCrawlWaitsForRequestsAndTimers(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/s/":
			fmt.Fprint(w, `<!doctype html><title>start</title><a href="/s/fetch">fetch</a> <a href="/s/timer">timer</a> <a href="/s/other">other</a>`)
		case "/s/fetch":
			fmt.Fprint(w, `<!doctype html><title>fetch</title><script>fetch('/s/slow').then(function (r) { return r.text(); }).then(function (t) { throw new Error('fetch boom ' + t); })</script>`)
		case "/s/timer":
			fmt.Fprint(w, `<!doctype html><title>timer</title><script>setTimeout(function () { throw new Error('timer boom'); }, 900)</script>`)
		case "/s/slow":
			select {
			case <-time.After(800 * time.Millisecond):
			case <-r.Context().Done():
			}
			fmt.Fprint(w, "answered")
		default:
			fmt.Fprint(w, `<!doctype html><title>other</title><p>ok</p>`)
		}
	}))
	defer srv.Close()
	crawlWantReported(t, New(t, srv.URL, Options{}), "/s/",
		"/s/fetch: exception: Uncaught (in promise) Error: fetch boom answered", "/s/timer: exception: Uncaught Error: timer boom")
}
