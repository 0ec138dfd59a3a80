package ui_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/goappstats/appstats/internal/browsertest"
	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// makeTracedCall records one call from this file and returns the line that
// made it.
func makeTracedCall(ctx context.Context) int {
	_, _, line, _ := runtime.Caller(0)
	c := recording.StartCall(ctx, "sql", "SELECT users") // line+1: the frame the page links
	c.End(nil)
	return line + 1
}

// TestBrowserSourceViewer records a real call, opens its record's details
// page in Chromium, expands the call and follows its first stack frame to
// the source viewer, which shows this file with the call's line
// highlighted.
func TestBrowserSourceViewer(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	st := memstore.New(0)
	defer st.Close()
	rec := recording.New(recording.WithSinks(st), recording.WithBatch(1, 10*time.Millisecond))
	ctx, ar := rec.StartRecord(context.Background(), recording.RequestInfo{Kind: recording.KindHTTP, Method: "GET", Path: "/users/7"})
	line := makeTracedCall(ctx)
	ar.Record().Route, ar.Record().Status = "GET /users/{id}", 200
	ar.Finish()
	if err := rec.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st.Len() != 1 {
		t.Fatalf("%d records stored, want 1", st.Len())
	}
	page, err := st.List(context.Background(), store.Query{})
	if err != nil {
		t.Fatal(err)
	}
	id := page.Records[0].ID.String()

	// A second root holds a copy of the demo's main.go, for the screenshot.
	shop := t.TempDir()
	demo, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "examples", "demo", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shop, "main.go"), demo, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ui.NewHandler(st, ui.WithSourceRoots(filepath.Dir(self), shop)))
	defer srv.Close()
	b := browsertest.New(t, srv.URL, browsertest.Options{Height: 900})
	b.Navigate(t, "/stats/records/"+id)
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS("details.call summary"))); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(t, "a linked stack frame", `!!document.querySelector("details.call[open] .stack a.src")`, browsertest.Patience)
	href := b.Eval(t, `document.querySelector(".stack a.src").getAttribute("href")`).(string)
	if want := "source" + self + "?line=" + strconv.Itoa(line); !strings.Contains(href, want) {
		t.Fatalf("first frame links to %q, want …%s", href, want)
	}
	if err := chromedp.Do(b.Ctx, chromedp.Click(chromedp.CSS(".stack a.src"))); err != nil {
		t.Fatal(err)
	}
	b.WaitAfterNav(t, "the source page", `document.body.dataset.page === "source" && !!document.querySelector(".sl.target")`)
	got := b.Eval(t, `document.querySelector(".sl.target").textContent`).(string)
	if !strings.Contains(got, "recording.StartCall(ctx") || !strings.HasPrefix(strings.TrimSpace(got), strconv.Itoa(line)) {
		t.Errorf("highlighted line = %q, want line %d with the call", got, line)
	}
	// The highlighted line comes into view (the browser scrolls to the
	// fragment once the page is laid out, which a loaded machine may do
	// after the line exists), and keywords are coloured.
	b.WaitFor(t, "the highlighted line scrolled into view", `(function () { var r = document.querySelector(".sl.target").getBoundingClientRect();
		return r.top >= 0 && r.bottom <= window.innerHeight; })()`, browsertest.Patience)
	if n := b.Eval(t, `document.querySelectorAll("pre.source .kw").length`).(float64); n == 0 {
		t.Error("no keyword is highlighted")
	}
	if loc := b.Eval(t, `location.hash`).(string); loc != "#L"+strconv.Itoa(line) {
		t.Errorf("location.hash = %q", loc)
	}

	// The demo's backend call, as a frame of it would show it.
	demoLine := 0
	for i, l := range strings.Split(string(demo), "\n") {
		if strings.Contains(l, "s.client.Do(req)") {
			demoLine = i + 1
		}
	}
	b.Navigate(t, "/stats/source"+filepath.Join(shop, "main.go")+"?line="+strconv.Itoa(demoLine)+"#L"+strconv.Itoa(demoLine))
	b.WaitFor(t, "the demo's source", `!!document.querySelector(".sl.target")`, browsertest.Patience)
	if got := b.Eval(t, `document.querySelector(".sl.target").textContent`).(string); !strings.Contains(got, "s.client.Do(req)") {
		t.Errorf("demo line %d highlighted = %q", demoLine, got)
	}
	b.Check(t)
	b.Screenshot(t, filepath.Join("..", "docs", "source.png"))
}
