// Package browsertest drives pages in a real headless Chromium for the
// project's tests, through chromedp, and watches what the pages do: script
// exceptions, console errors, requests to hosts other than the ones allowed,
// dialogs, and Content-Security-Policy violations (the page's
// securitypolicyviolation events). [Browser.Check] fails the test for any of
// them.
//
// Tests skip with a message when no Chromium is installed, unless
// APPSTATS_REQUIRE_BROWSER=1 (as .ci/run sets), in which case they fail.
package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// RequireEnv is the environment variable that makes a missing browser a
// failure instead of a skip.
const RequireEnv = "APPSTATS_REQUIRE_BROWSER"

// ScreenshotsEnv, set to 1, makes [Browser.Screenshot] write its files.
const ScreenshotsEnv = "APPSTATS_SCREENSHOTS"

// Find returns the path of an installed Chromium, or skips t (fails it with
// APPSTATS_REQUIRE_BROWSER=1).
func Find(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("no Chromium found, and %s=1: install chromium (apt-get install chromium)", RequireEnv)
	}
	t.Skipf("no Chromium found: browser tests skipped (install chromium, or set %s=1 to make this a failure)", RequireEnv)
	return ""
}

// Patience is how long a test waits for what a page is expected to do
// eventually (a live refresh, a chart painted, a connection made): tests
// assert what pages do, not how fast they do it, and a loaded machine (CI's
// two cores under -race, with builds running beside) can take many times as
// long as a quiet one. A wait that succeeds returns as soon as it does.
const Patience = time.Minute

// Options tune [New].
type Options struct {
	// Hosts are the host:port pairs pages may load from, besides the host of
	// the URL given to New. A request to any other host is reported by
	// Check.
	Hosts []string
	// Flags are extra Chromium command-line flags, e.g.
	// {"host-resolver-rules": "MAP rebind.test 127.0.0.1"}.
	Flags map[string]any
	// Timeout bounds the whole browser session (default 5 minutes, room
	// for several waits of [Patience]).
	Timeout time.Duration
	// Width and Height of the window (default 1440×1000).
	Width, Height int
}

// A Browser is one headless Chromium with one tab.
type Browser struct {
	// Ctx is the chromedp context of the tab, for actions this package does
	// not wrap.
	Ctx  context.Context
	base string

	mu       sync.Mutex
	hosts    map[string]bool
	errors   []string // exceptions, console errors, error log entries
	foreign  []string // requests to a host not allowed
	dialogs  []string
	requests int
	inflight map[network.RequestID]bool // requests sent and not finished, but event streams

	// untracked makes Settle wait for the page's short timers alone, as
	// it did before intervals and event streams were tracked (a test
	// shows what that missed).
	untracked bool
}

// cspBinding is the name of the function through which the page reports its
// securitypolicyviolation events (a Runtime binding).
const cspBinding = "__browsertestCSP"

// TrackBound is the longest delay of a timer, or period of an interval,
// that [Browser.Settle] waits for: work a page means to do soon. Longer
// ones (a reconnect's back-off, a watchdog, a two-second poll) are not
// waited for. (watchJS spells it in milliseconds.)
const TrackBound = time.Second

// watchJS runs in every document before its own scripts: it reports each
// securitypolicyviolation event through cspBinding; it notes in
// window.__browsertestThrew whether a script of the page threw (an uncaught
// exception or an unhandled rejection), for which Settle stops waiting for
// the page to be ready; and it counts the work the page has started and not
// done, in window.__browsertestPending, which [Browser.Settle] waits to see
// at 0:
//   - each timer (setTimeout) of up to TrackBound not yet fired, whether
//     given a function or code as a string (a string's timer is followed by
//     one of the same delay, which fires after it);
//   - each interval (setInterval) of a period up to TrackBound that has not
//     ticked since the last window.__browsertestMark() (Settle marks when it
//     starts waiting: an interval's next tick is waited for, once);
//   - each event stream (EventSource) not yet closed that has not yet
//     dispatched an event to the page (its first message: the dashboard's
//     "hello"), nor failed.
//
// window.__browsertestTimers counts the timers alone (what Settle waited
// for before the rest was tracked).
const watchJS = `(function () {
  document.addEventListener('securitypolicyviolation', function (e) {
    try {
      window.` + cspBinding + `(JSON.stringify({directive: e.effectiveDirective || e.violatedDirective,
        blocked: e.blockedURI, sample: e.sample, source: e.sourceFile, line: e.lineNumber, page: e.documentURI}));
    } catch (x) { /* the binding is gone */ }
  }, true);
  var threw = false;
  window.addEventListener('error', function (e) { if (e instanceof ErrorEvent) threw = true; });
  window.addEventListener('unhandledrejection', function () { threw = true; });
  Object.defineProperty(window, '__browsertestThrew', { get: function () { return threw; } });
  var bound = 1000; // TrackBound
  var st = window.setTimeout, ct = window.clearTimeout, si = window.setInterval, ci = window.clearInterval;
  var timers = new Map(), intervals = new Map(), gen = 0;
  var short = function (ms) { return (+ms || 0) <= bound; };
  window.setTimeout = function (fn, ms) {
    if (!short(ms)) return st.apply(window, arguments);
    var id;
    if (typeof fn === 'function') {
      var args = Array.prototype.slice.call(arguments, 2);
      id = st.call(window, function () { timers.delete(id); return fn.apply(this, args); }, ms);
      timers.set(id, 0);
    } else {
      id = st.apply(window, arguments);
      timers.set(id, st.call(window, function () { timers.delete(id); }, ms));
    }
    return id;
  };
  // clearTimeout and clearInterval clear either kind (one pool of
  // handles): each forgets the handle, and its companion, in both maps.
  var forget = function (id) {
    if (timers.get(id)) ct.call(window, timers.get(id));
    timers.delete(id);
    var t = intervals.get(id);
    if (t && t.companion) ci.call(window, t.companion);
    intervals.delete(id);
  };
  window.clearTimeout = function (id) { forget(id); return ct.call(window, id); };
  window.setInterval = function (fn, ms) {
    if (!short(ms)) return si.apply(window, arguments);
    var id, t = {tick: -1, companion: 0};
    if (typeof fn === 'function') {
      var args = Array.prototype.slice.call(arguments, 2);
      id = si.call(window, function () { t.tick = gen; return fn.apply(this, args); }, ms);
    } else {
      id = si.apply(window, arguments);
      t.companion = si.call(window, function () { t.tick = gen; }, ms);
    }
    intervals.set(id, t);
    return id;
  };
  window.clearInterval = function (id) { forget(id); return ci.call(window, id); };
  var streams = new Set();
  if (window.EventSource) {
    var ES = window.EventSource;
    window.EventSource = class EventSource extends ES {
      constructor(url, init) {
        super(url, init);
        var es = this, types = new Set(['message', 'error']);
        this.__browsertestDone = function () { streams.delete(es); };
        this.__browsertestTypes = types;
        streams.add(this);
        ES.prototype.addEventListener.call(this, 'message', this.__browsertestDone);
        ES.prototype.addEventListener.call(this, 'error', this.__browsertestDone);
      }
      addEventListener(type, fn, opts) {
        super.addEventListener(type, fn, opts);
        if (!this.__browsertestTypes.has(type)) {
          this.__browsertestTypes.add(type);
          super.addEventListener(type, this.__browsertestDone);
        }
      }
      close() { this.__browsertestDone(); return super.close(); }
    };
  }
  window.__browsertestMark = function () { gen++; };
  Object.defineProperty(window, '__browsertestTimers', { get: function () { return timers.size; } });
  Object.defineProperty(window, '__browsertestPending', { get: function () {
    var n = timers.size + streams.size;
    intervals.forEach(function (t) { if (t.tick < gen) n++; });
    return n;
  } });
})()`

// New starts Chromium for pages under base (e.g. an httptest server's URL).
// The browser is closed when t ends.
func New(t testing.TB, base string, o Options) *Browser {
	t.Helper()
	exe := Find(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("browsertest: base URL %q: %v", base, err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.Width <= 0 || o.Height <= 0 {
		o.Width, o.Height = 1440, 1000
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(o.Width, o.Height),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
	)
	for k, v := range o.Flags {
		opts = append(opts, chromedp.Flag(k, v))
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, o.Timeout)
	t.Cleanup(cancelT)

	b := &Browser{Ctx: ctx, base: strings.TrimRight(base, "/"), hosts: map[string]bool{u.Host: true},
		inflight: map[network.RequestID]bool{}}
	for _, h := range o.Hosts {
		b.hosts[h] = true
	}
	dialogs := make(chan struct{}, 16)
	err = chromedp.Listen(ctx, func(e any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := e.(type) {
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.errors = append(b.errors, "exception: "+msg)
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.errors = append(b.errors, "console."+string(e.Type)+": "+strings.Join(parts, " "))
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError {
				b.errors = append(b.errors, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		case *runtime.EventBindingCalled:
			if e.Name == cspBinding {
				b.errors = append(b.errors, "csp violation: "+e.Payload)
			}
		case *network.EventRequestWillBeSent:
			b.requests++
			if e.Type != network.ResourceTypeEventSource && e.Type != network.ResourceTypeWebSocket {
				b.inflight[e.RequestID] = true
			}
			ru, err := url.Parse(e.Request.URL)
			if err != nil || (ru.Scheme != "data" && ru.Scheme != "blob" && !b.hosts[ru.Host]) {
				b.foreign = append(b.foreign, e.Request.URL)
			}
		case *network.EventLoadingFinished:
			delete(b.inflight, e.RequestID)
		case *network.EventLoadingFailed:
			delete(b.inflight, e.RequestID)
		case *page.EventJavascriptDialogOpening:
			b.dialogs = append(b.dialogs, string(e.Type)+": "+e.Message)
			select {
			case dialogs <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, runtime.AddBinding, runtime.AddBindingParams{Name: cspBinding}); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: watchJS}); err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	// A dialog stops the page until handled: dismiss each one (Check reports
	// it).
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-dialogs:
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
			}
		}
	}()
	return b
}

// Check fails t for every script error, request to a host not allowed, or
// dialog seen so far, and if the page made no request at all (the listener
// would then be broken).
func (b *Browser) Check(t testing.TB) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.errors {
		t.Errorf("page error: %s", s)
	}
	for _, s := range b.foreign {
		t.Errorf("request to another host: %s", s)
	}
	for _, s := range b.dialogs {
		t.Errorf("a dialog opened: %s", s)
	}
	if b.requests == 0 {
		t.Error("no network requests seen: the listener does not work")
	}
}

// ReadyJS is the expression [Browser.Settle] waits for by default: the page
// loaded, and where it runs the dashboard's script (window.AppStats), the
// script said it is ready (data-ready="1" on the html element: its start
// done and its charts drawn).
const ReadyJS = `document.readyState === 'complete' && (!window.AppStats || document.documentElement.dataset.ready === '1')`

// quietJS is true once the page has no work pending (window.__browsertestPending,
// see watchJS) and two animation frames have passed (what the last events
// asked to draw is drawn); its %s is the count waited for.
const quietJS = `(function () {
  if (window.%s) return false;
  return new Promise(function (ok) { requestAnimationFrame(function () { requestAnimationFrame(function () { ok(true); }); }); });
})()`

// QuietBound bounds how long [Browser.Settle] waits, once the page is
// ready, for it to fall quiet: a live dashboard under traffic refreshes
// itself without end, and what it does later still counts, reported as the
// page's late errors.
const QuietBound = 3 * time.Second

// Settle waits until the page has done what it does on its own: first,
// up to [Patience], until the expression ready (default [ReadyJS]) is true,
// failing t if it never is, or at once if the page is loaded and not
// ready and a script of it threw since it loaded (an uncaught exception
// or an unhandled rejection: a page whose start failed), or if the browser
// session (b.Ctx) has ended; then, up to [QuietBound], until the page has
// no work pending before and after two animation frames: no timer of up
// to [TrackBound] (given a function or a string) still to fire, no
// interval of a period up to TrackBound that has not ticked since Settle
// began waiting, no event stream that has not yet delivered its first
// event, no request in flight (event streams aside), and no request sent
// between. It reports whether the page was ready.
//
// What Settle does not wait for (a longer timer or interval, an event
// stream's later messages) may still be to come when it returns;
// [Browser.Crawl] reports what such work throws before the next page
// loads, as that page's late errors.
func (b *Browser) Settle(t testing.TB, ready string) bool {
	t.Helper()
	if ready == "" {
		ready = ReadyJS
	}
	check := `(function () { if (` + ready + `) return 'ready'; return window.__browsertestThrew && document.readyState === 'complete' ? 'threw' : ''; })()`
	deadline := time.Now().Add(Patience)
	for {
		if err := b.Ctx.Err(); err != nil {
			t.Errorf("the page was not ready: the browser session ended (%v)", err)
			return false
		}
		got, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](check))
		if err == nil && got == "ready" {
			break
		}
		if err == nil && got == "threw" {
			t.Errorf("the page was not ready (%s), and a script of it threw since it loaded", ready)
			return false
		}
		if time.Now().After(deadline) {
			t.Errorf("the page was not ready in %v (%s; %v)", Patience, ready, err)
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	count := "__browsertestPending"
	if b.untracked {
		count = "__browsertestTimers"
	} else if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[any](`window.__browsertestMark && window.__browsertestMark()`)); err != nil {
		t.Logf("browsertest: marking the page's intervals: %v", err)
	}
	quiet := fmt.Sprintf(quietJS, count)
	for until := time.Now().Add(QuietBound); time.Now().Before(until) && b.Ctx.Err() == nil; time.Sleep(20 * time.Millisecond) {
		// Idle before the frames and after them, with no request sent
		// between: what a request's answer starts (its promise's
		// callbacks) has had the two frames to run. The frames are
		// waited for within the bound too (a hidden page has none).
		if n, idle := b.idle(); idle {
			ctx, cancel := context.WithDeadline(b.Ctx, until)
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](quiet, chromedp.EvalAwaitPromise))
			cancel()
			if m, still := b.idle(); err == nil && ok && still && m == n {
				break
			}
		}
	}
	return true
}

// idle reports how many requests the page has sent so far, and whether
// none is in flight.
func (b *Browser) idle() (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.requests, len(b.inflight) == 0
}

// forgetRequests drops the requests in flight, at a navigation: the old
// page's are ended with it, and an end not reported must not stall the
// next page.
func (b *Browser) forgetRequests() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.inflight)
}

// Errors returns the script errors seen so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// URL returns the absolute URL of path, which may also be absolute already.
func (b *Browser) URL(path string) string {
	if strings.Contains(path, "://") {
		return path
	}
	return b.base + path
}

// Navigate loads path (relative to the base URL, or absolute) and waits for
// the load event.
func (b *Browser) Navigate(t testing.TB, path string) {
	t.Helper()
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(b.URL(path))); err != nil {
		t.Fatalf("navigate %s: %v", path, err)
	}
}

// Eval evaluates a JavaScript expression and returns its value.
func (b *Browser) Eval(t testing.TB, expr string) any {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// WaitFor polls a JavaScript predicate until it is true, failing t after
// timeout: [Patience] for what a page does eventually; a shorter bound only
// where the test means it (a state that must still hold).
func (b *Browser) WaitFor(t testing.TB, what, predicate string, timeout time.Duration) {
	t.Helper()
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](predicate,
		chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		t.Fatalf("waiting for %s (%s): %v", what, predicate, err)
	}
}

// WaitAfterNav is WaitFor across a navigation the page started itself (a
// form post, a link): evaluation errors while the old page goes away are
// retried for up to [Patience].
func (b *Browser) WaitAfterNav(t testing.TB, what, predicate string) {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for {
		ok, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](predicate))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s (%s): %v", what, predicate, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// PaintedJS is a JavaScript function counting the painted (not blank, not
// white) pixels of the canvas inside the element with the given id.
const PaintedJS = `(function (id) {
  var el = document.getElementById(id);
  var cv = el && el.querySelector('canvas');
  if (!cv || !cv.width || !cv.height) return 0;
  var d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data, n = 0;
  for (var i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 0 && (d[i] < 245 || d[i + 1] < 245 || d[i + 2] < 245)) n++;
  }
  return n;
})`

// WaitPainted waits, up to [Patience] each, until the chart canvas in each
// element id has more than 500 painted pixels.
func (b *Browser) WaitPainted(t testing.TB, ids ...string) {
	t.Helper()
	for _, id := range ids {
		b.WaitFor(t, "chart "+id+" painted", PaintedJS+"("+JSString(id)+") > 500", Patience)
	}
}

// JSString quotes s as a JavaScript string literal.
func JSString(s string) string { return fmt.Sprintf("%q", s) }

// Screenshot writes a full-page PNG to path when APPSTATS_SCREENSHOTS=1, and
// does nothing otherwise.
func (b *Browser) Screenshot(t testing.TB, path string) {
	t.Helper()
	if os.Getenv(ScreenshotsEnv) != "1" {
		return
	}
	png, err := chromedp.Run(b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}
