package browsertest

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/net/html"
)

// CrawlOptions tune [Browser.Crawl].
type CrawlOptions struct {
	// Prefix is the path under which links are followed (e.g. "/stats/");
	// links elsewhere, and to other hosts, are not.
	Prefix string
	// PerShape bounds the pages visited of one shape: one path, with
	// segments of hex digits (record and trace IDs) taken as one, and one
	// set of query parameter names (default 3).
	PerShape int
	// PerPath bounds the pages visited of one path, hex segments taken as
	// one, whatever their queries (default 10).
	PerPath int
	// MaxPages bounds the pages visited in all (default 200).
	MaxPages int
	// Fetch lists path prefixes (e.g. "/stats/static/") whose links are
	// fetched and checked for their status, not visited as pages.
	Fetch []string
	// Ready is the expression that says a page has done what it does on
	// load (default [ReadyJS]): after its controls were clicked, the crawl
	// waits for it, and for the work the page started to be done (its
	// short timers and intervals' next ticks, its event streams' first
	// events, its requests and frames: [Browser.Settle]) before the checks
	// that follow. Errors that come later still, before the next page
	// loads, are reported for the page too.
	Ready string
	// Assert, if not "", is a JavaScript expression evaluated on every
	// page the crawl loads (also to check its fragments), once its
	// controls were clicked and it settled: the crawl fails a page where
	// it is not true, saying what it gave (e.g. a hook counting the
	// executions of injected scripts: window.__xss === undefined).
	Assert string
}

// CrawlResult is what [Browser.Crawl] visited.
type CrawlResult struct {
	Pages   []string // visited, in order
	Fetched []string // downloads, fetched without a navigation
	// Checked lists the pages linked to with a fragment and not visited
	// (their shape's quota spent), fetched to check the fragments, and
	// loaded as well where their HTML lacked one.
	Checked []string
	Anchors int // fragments checked, each of every page linked to
	// Reloaded counts the fragments not on their page as it loaded, each
	// checked by loading the page with it (a page's script may find the
	// element elsewhere: a call on another page of a record's calls).
	Reloaded int
	Controls int // buttons and checkboxes clicked
}

// crawlJS lists a page's links, its GET forms' submissions as the browser
// would make them (valid ones only), and its ids.
const crawlJS = `(function () {
  var out = {links: [], forms: []};
  document.querySelectorAll('a[href]').forEach(function (a) {
    out.links.push({href: a.href, download: a.hasAttribute('download') || /[?&]download=/.test(a.search)});
  });
  document.querySelectorAll('form').forEach(function (f) {
    if ((f.getAttribute('method') || 'get').toLowerCase() !== 'get' || !f.checkValidity()) return;
    var u = new URL(f.action || location.href);
    u.search = new URLSearchParams(new FormData(f)).toString();
    out.forms.push(u.href);
  });
  return JSON.stringify(out);
})()`

// clickJS clicks every button that is not a form's submit and every
// checkbox of the page, twice (back as it was), and counts them.
const clickJS = `(function () {
  var n = 0;
  document.querySelectorAll('button[type=button], input[type=checkbox]').forEach(function (el) {
    if (el.disabled || el.closest('form[method=post]')) return;
    el.click(); el.click(); n++;
  });
  return n;
})()`

var hexSegment = regexp.MustCompile(`/[0-9a-f]{16,32}(/|$)`)

// shape is the path of u with hex segments as one, and its parameter names.
func shape(u *url.URL) string {
	p := hexSegment.ReplaceAllString(u.Path, "/{id}$1")
	var names []string
	for k := range u.Query() {
		names = append(names, k)
	}
	slices.Sort(names)
	return p + "?" + strings.Join(names, "&")
}

// anchor is a link to a fragment: the page it is on, and the fragment.
type anchor struct{ from, frag string }

// staticAnchors reports whether page, fetched, answers 200 with HTML that
// has an element of each fragment of as (an id, or an a element's name),
// as getElementById looks for it (not in a <template>'s content); a page
// of another status fails t.
func staticAnchors(t testing.TB, page string, as []anchor) bool {
	resp, err := http.Get(page)
	if err != nil {
		t.Errorf("crawl: %s: %v", page, err)
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode >= 400 {
			t.Errorf("crawl: %s: status %d", page, resp.StatusCode)
		}
		return false
	}
	// A <template>'s content is a fragment of its own, where
	// getElementById does not look: its ids are skipped (templates
	// nest). The tokenizer gives <noscript>'s content as text.
	ids := map[string]bool{}
	z := html.NewTokenizer(resp.Body)
	inTemplate := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt == html.EndTagToken {
			if name, _ := z.TagName(); string(name) == "template" && inTemplate > 0 {
				inTemplate--
			}
			continue
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, more := z.TagName()
		if inTemplate > 0 {
			if string(name) == "template" && tt == html.StartTagToken {
				inTemplate++
			}
			continue
		}
		if string(name) == "template" && tt == html.StartTagToken {
			inTemplate++ // its own id is the document's
		}
		for more {
			var k, v []byte
			k, v, more = z.TagAttr()
			if string(k) == "id" || (string(k) == "name" && string(name) == "a") {
				ids[string(v)] = true
			}
		}
	}
	for _, a := range as {
		if !ids[a.frag] {
			return false
		}
	}
	return true
}

// Crawl visits start (a path) and every page it links to under
// o.Prefix, breadth first, as a newcomer clicking through would, and
// fails t for: a page or download answered 4xx or 5xx; a script error
// (exceptions, console errors, resources that failed to load) or a
// Content-Security-Policy violation on a page; a page whose ready
// expression is never true ([Browser.Settle]);
// a link to a fragment (#x) that names no element of its page, every such
// link checked (of a page not visited, its HTML as fetched, or the page
// loaded with the fragment where that lacks it); a GET form whose
// submission as it stands fails as a link would; a page where o.Assert is
// not true. On each page it
// also clicks every button that is not a submit and every checkbox, twice,
// and checks the page's scripts took it.
func (b *Browser) Crawl(t testing.TB, start string, o CrawlOptions) CrawlResult {
	t.Helper()
	if o.PerShape <= 0 {
		o.PerShape = 3
	}
	if o.PerPath <= 0 {
		o.PerPath = 10
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 200
	}
	settle := func() { b.Settle(t, o.Ready) }
	base, err := url.Parse(b.base)
	if err != nil {
		t.Fatal(err)
	}
	var res CrawlResult
	anchors := map[string][]anchor{} // page URL (no fragment) → fragments linked to
	visited, fetched := map[string]bool{}, map[string]bool{}
	shapes, paths := map[string]int{}, map[string]int{}
	queue := []string{b.URL(start)}
	inScope := func(u *url.URL) bool {
		return u.Host == base.Host && (u.Scheme == "http" || u.Scheme == "https") && strings.HasPrefix(u.Path, o.Prefix)
	}
	// assert checks o.Assert on the page loaded, page.
	assert := func(page string) {
		if o.Assert == "" {
			return
		}
		if v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[any](o.Assert)); err != nil {
			t.Errorf("crawl: %s: %s: %v", page, o.Assert, err)
		} else if v != true {
			t.Errorf("crawl: %s: %s gave %v", page, o.Assert, v)
		}
	}
	// checkAnchors checks the fragments linked to page, which the browser
	// shows: each names an element of it, or one once the page is loaded
	// with it (a page's scripts may find the element elsewhere: a call on
	// another page of a record's calls). Every fragment is checked.
	checkAnchors := func(page string) {
		var frags []string
		from := map[string]string{}
		for _, a := range anchors[page] {
			if _, dup := from[a.frag]; !dup {
				frags = append(frags, a.frag)
				from[a.frag] = a.from
			}
		}
		delete(anchors, page)
		if len(frags) == 0 {
			return
		}
		list, _ := json.Marshal(frags)
		missing, err := chromedp.Run(b.Ctx, chromedp.Evaluate[[]string](`(`+string(list)+`).filter(function (f) { return !(document.getElementById(f) || document.getElementsByName(f).length); })`))
		if err != nil {
			t.Errorf("crawl: %s: checking fragments: %v", page, err)
			return
		}
		res.Anchors += len(frags) - len(missing)
		for _, f := range missing {
			res.Anchors++
			res.Reloaded++
			b.forgetRequests()
			if err := chromedp.Do(b.Ctx, chromedp.Navigate("about:blank")); err != nil {
				t.Errorf("crawl: %v", err)
				return
			}
			if err := chromedp.Do(b.Ctx, chromedp.Navigate(page+"#"+f)); err != nil {
				t.Errorf("crawl: %s#%s: %v", page, f, err)
				continue
			}
			// Asked again every 50 ms for 10 s, each time of the frame's
			// context as it is (a Poll kept the context of the load's start:
			// "Cannot find context with specified id").
			var ok bool
			var err error
			for deadline := time.Now().Add(10 * time.Second); !ok && time.Now().Before(deadline); {
				if ok, err = chromedp.Run(b.Ctx, chromedp.Evaluate[bool](`(function (f) { return !!(document.getElementById(f) || document.getElementsByName(f).length); })(`+JSString(f)+`)`)); !ok {
					time.Sleep(50 * time.Millisecond)
				}
			}
			if err != nil || !ok {
				t.Errorf("crawl: %s links to #%s, which %s does not have (%v)", from[f], f, page, err)
			}
			assert(page + "#" + f)
		}
	}
	// lateErrors reports the script errors seen since the last visit's
	// check, for the page that visit was of.
	last, lastPage := len(b.Errors()), ""
	lateErrors := func() {
		errs := b.Errors()
		for _, e := range errs[min(last, len(errs)):] {
			t.Errorf("crawl: %s (late): %s", lastPage, e)
		}
		last = len(errs)
	}
	visit := func(page string) {
		lateErrors()
		defer func() { last, lastPage = len(b.Errors()), page }()
		before := len(b.Errors())
		b.forgetRequests()
		resp, err := chromedp.RunResponse(b.Ctx, chromedp.Navigate(page))
		if err != nil {
			t.Errorf("crawl: %s: %v", page, err)
			return
		}
		res.Pages = append(res.Pages, page)
		if resp == nil {
			// No response to the navigation (a download, a page from the
			// cache): its status is asked for apart.
			if r, err := http.Get(page); err != nil {
				t.Errorf("crawl: %s: %v", page, err)
			} else {
				r.Body.Close()
				if r.StatusCode >= 400 {
					t.Errorf("crawl: %s: status %d", page, r.StatusCode)
				}
			}
		} else if resp.Status >= 400 {
			t.Errorf("crawl: %s: status %d", page, resp.Status)
		}
		raw, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](crawlJS))
		if err != nil {
			t.Errorf("crawl: %s: listing links: %v", page, err)
			return
		}
		var found struct {
			Links []struct {
				Href     string `json:"href"`
				Download bool   `json:"download"`
			} `json:"links"`
			Forms []string `json:"forms"`
		}
		if err := json.Unmarshal([]byte(raw), &found); err != nil {
			t.Fatal(err)
		}
		here := strings.SplitN(page, "#", 2)[0]
		for _, l := range found.Links {
			u, err := url.Parse(l.Href)
			if err != nil || !inScope(u) {
				continue
			}
			frag := u.Fragment
			u.Fragment, u.RawFragment = "", ""
			target := u.String()
			if l.Download || slices.ContainsFunc(o.Fetch, func(p string) bool { return strings.HasPrefix(u.Path, p) }) {
				if !fetched[target] {
					fetched[target] = true
					res.Fetched = append(res.Fetched, target)
				}
				continue
			}
			if frag != "" {
				anchors[target] = append(anchors[target], anchor{from: page, frag: frag})
			}
			if target != here {
				queue = append(queue, target)
			}
		}
		for _, f := range found.Forms {
			if u, err := url.Parse(f); err == nil && inScope(u) {
				queue = append(queue, u.String())
			}
		}
		n, err := chromedp.Run(b.Ctx, chromedp.Evaluate[int](clickJS))
		if err != nil {
			t.Errorf("crawl: %s: clicking its controls: %v", page, err)
		}
		res.Controls += n
		settle() // what the clicks and the page's own work started
		assert(page)
		checkAnchors(here)
		for _, e := range b.Errors()[before:] {
			t.Errorf("crawl: %s: %s", page, e)
		}
	}
	for len(queue) > 0 && len(res.Pages) < o.MaxPages {
		page := queue[0]
		queue = queue[1:]
		if visited[page] {
			continue
		}
		u, _ := url.Parse(page)
		s := shape(u)
		p, _, _ := strings.Cut(s, "?")
		if shapes[s] >= o.PerShape || paths[p] >= o.PerPath {
			continue
		}
		shapes[s]++
		paths[p]++
		visited[page] = true
		visit(page)
	}
	// Fragments of pages linked to and not visited (their shape's quota
	// spent, or linked to after their visit): each such page fetched, its
	// HTML's ids and names read; a page that lacks one of them as served
	// is loaded for them (its scripts may make the element), without
	// following its links.
	for _, page := range slices.Sorted(maps.Keys(anchors)) {
		res.Checked = append(res.Checked, page)
		if staticAnchors(t, page, anchors[page]) {
			frags := map[string]bool{}
			for _, a := range anchors[page] {
				frags[a.frag] = true
			}
			res.Anchors += len(frags)
			delete(anchors, page)
			continue
		}
		lateErrors()
		before := len(b.Errors())
		b.forgetRequests()
		if err := chromedp.Do(b.Ctx, chromedp.Navigate(page)); err != nil {
			t.Errorf("crawl: %s: %v", page, err)
			delete(anchors, page)
			continue
		}
		settle()
		assert(page)
		checkAnchors(page)
		for _, e := range b.Errors()[before:] {
			t.Errorf("crawl: %s: %s", page, e)
		}
		last, lastPage = len(b.Errors()), page
	}
	settle()
	lateErrors()
	for _, f := range res.Fetched {
		resp, err := http.Get(f)
		if err != nil {
			t.Errorf("crawl: %s: %v", f, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode >= 400 {
			t.Errorf("crawl: %s: status %d", f, resp.StatusCode)
		}
	}
	return res
}
