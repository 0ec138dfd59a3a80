package faults_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/internal/browsertest"
)

// openDashboardApp opens the facade on a temporary Badger store and serves, on
// loopback, an app with one route, the dashboard at /stats/ and page, a
// page of the app's own (which an attacker's page stands in for below).
func openDashboardApp(t *testing.T, cfg appstats.Config, page string) (*appstats.Appstats, *httptest.Server) {
	t.Helper()
	cfg.Dir, cfg.NoOTLP = t.TempDir(), true
	as, err := appstats.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "user") })
	mux.HandleFunc("GET /page.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	})
	mux.Handle("/stats/", as.UI())
	srv := httptest.NewServer(as.Middleware(mux))
	t.Cleanup(srv.Close)
	for i := range 3 {
		resp, err := http.Get(fmt.Sprintf("%s/users/%d", srv.URL, i))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	waitWritten(t, as)
	return as, srv
}

// rebindPage is what a DNS-rebinding attacker serves: once its name
// resolves to 127.0.0.1, the page's own origin is the victim's server, and
// it reads the dashboard's API and pauses recording with same-origin
// requests.
const rebindPage = `<!doctype html><title>cute cats</title><script>
window.result = {};
fetch('/stats/api/records').then(function (r) { result.read = r.status; return r.text(); })
  .then(function (t) { result.body = t.slice(0, 300); }, function (e) { result.read = String(e); });
fetch('/stats/pause', {method: 'POST', headers: {'Accept': 'application/json'}})
  .then(function (r) { result.pause = r.status; }, function (e) { result.pause = String(e); });
</script>`

// TestDNSRebinding is issue 11's item 5: a page on
// http://rebind.attacker.test:PORT/, a name that resolves to 127.0.0.1, must
// neither read the dashboard's API nor pause recording, in a real Chromium.
// The same page on http://127.0.0.1:PORT/ (a local user's own page) still
// can, which shows the attack's requests reach the dashboard.
func TestDNSRebinding(t *testing.T) {
	as, srv := openDashboardApp(t, appstats.Config{}, rebindPage)
	u, _ := url.Parse(srv.URL)
	attacker := "rebind.attacker.test:" + u.Port()
	b := browsertest.New(t, srv.URL, browsertest.Options{
		Hosts: []string{attacker},
		Flags: map[string]any{"host-resolver-rules": "MAP rebind.attacker.test 127.0.0.1"},
	})
	done := "window.result && result.read !== undefined && result.pause !== undefined && result.body !== undefined"

	// The control: from the loopback origin the page reads and pauses.
	b.Navigate(t, srv.URL+"/page.html")
	b.WaitFor(t, "the local page's requests", done, browsertest.Patience)
	if got := b.Eval(t, "[result.read, result.pause]"); fmt.Sprint(got) != "[200 204]" {
		t.Fatalf("from 127.0.0.1: read, pause = %v, want [200 204]", got)
	}
	if !as.Recorder().Paused() {
		t.Fatal("the local page's POST pause did not pause the recorder")
	}
	as.Recorder().SetPaused(false)

	// The attack.
	b.Navigate(t, "http://"+attacker+"/page.html")
	b.WaitFor(t, "the attacker page's requests", done, browsertest.Patience)
	read, pause := b.Eval(t, "result.read"), b.Eval(t, "result.pause")
	body, _ := b.Eval(t, "result.body").(string)
	t.Logf("from %s: api/records %v, pause %v, body %.120q", attacker, read, pause, body)
	if fmt.Sprint(read) != "403" || strings.Contains(body, `"records"`) {
		t.Errorf("the attacker's page read api/records: status %v, body %.200q", read, body)
	}
	if fmt.Sprint(pause) != "403" || as.Recorder().Paused() {
		t.Errorf("the attacker's page paused recording: status %v, paused %v", pause, as.Recorder().Paused())
	}
}

// noRedirectClient returns a client that reports redirects instead of
// following them, and gives up on an answer after 10 seconds (an event
// stream opened by mistake).
func noRedirectClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestDashboardPathEscape is issue 11's item 8: the dashboard's router
// answered /stats/api/records/..%2f..%2fetc%2fpasswd with a 307 to
// /etc/passwd. No path under the prefix may redirect outside it.
func TestDashboardPathEscape(t *testing.T) {
	_, srv := openDashboardApp(t, appstats.Config{}, "")
	noRedirect := noRedirectClient()
	for _, p := range []string{
		"/stats/api/records/..%2f..%2fetc%2fpasswd",
		"/stats/records/..%2f..%2f..%2fetc%2fpasswd",
		"/stats/api/records/..%2F..%2F..%2Fetc%2Fpasswd",
		"/stats/static/..%2f..%2f..%2fetc%2fpasswd",
		"/stats/part/..%2f..%2fstats",
		"/stats/..%2f..%2fetc%2fpasswd",
		"/stats/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
		"/stats/api/records/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"/stats/api/%2fetc%2fpasswd",
		"/stats/%2fetc",
		"/stats/%5c..%5c..%5cetc%5cpasswd",
	} {
		resp, err := noRedirect.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		t.Logf("%-55s %d %q", p, resp.StatusCode, loc)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			t.Errorf("%s: %d redirect to %q, want 400 or 404", p, resp.StatusCode, loc)
		}
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400 or 404", p, resp.StatusCode)
		}
	}
}

// TestDashboardRepeatedParameters is issue 11's item 8: a query parameter
// given twice is answered with 400 by every endpoint, as ui/API.md says.
func TestDashboardRepeatedParameters(t *testing.T) {
	_, srv := openDashboardApp(t, appstats.Config{}, "")
	var list struct {
		Records []struct{ ID string } `json:"records"`
	}
	getJSON(t, loopbackClient(t), srv.URL+"/stats/api/records?limit=1", &list)
	if len(list.Records) == 0 {
		t.Fatal("api/records: no records")
	}
	id := list.Records[0].ID
	noRedirect := noRedirectClient()
	for _, p := range []string{
		"?window=1h&window=7d", "?route=a&route=b", "?limit=1&limit=2",
		"part/stats?window=1h&window=7d", "part/history?status=2xx&status=5xx",
		"api/records?before=x&before=y", "api/records?min_ms=1&min_ms=2", "api/records?error=true&error=false",
		"api/records/" + id + "?download=1&download=0",
		"records/" + id + "?x=1&x=2",
		"api/stats?window=1h&window=7d", "api/series?window=1h&window=15m",
		"api/health?a=1&a=1", "api/active?limit=1&limit=2", "static/app.js?v=1&v=2", "events?x=1&x=2",
	} {
		resp, err := noRedirect.Get(srv.URL + "/stats/" + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("/stats/%s: status %d, want 400", p, resp.StatusCode)
		} else if !strings.Contains(string(b), "more than once") {
			t.Errorf("/stats/%s: 400 without naming the repeated parameter: %.200s", p, b)
		}
	}
}
