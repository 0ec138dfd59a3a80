package ui_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store/memstore"
	"github.com/goappstats/appstats/ui"
)

// sourceTree lays out, under a temporary directory, a source root with
// files that must be served and, around it, everything a request must not
// reach: a secret outside the root, symlinks out of it, a sibling directory
// sharing its name as a prefix, files that are not Go.
type sourceTree struct {
	dir     string // the temporary directory
	root    string // the source root, resolved
	main    string // root/app/main.go
	rootVia string // a symlink to root: frames may name files through it
}

const sourceSecret = "TOP-SECRET-CONTENT"

const mainGo = `package main

import "fmt"

// greet says hello; <b>not markup</b> & "quoted".
func greet(name string) string {
	return fmt.Sprintf("hello, %s", name) // the call
}

func main() {
	for i := 0; i < 3; i++ {
		fmt.Println(greet("gopher"), 42, 'x', ` + "`raw`" + `)
	}
}
`

func newSourceTree(t *testing.T) *sourceTree {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st := &sourceTree{dir: dir, root: filepath.Join(dir, "root")}
	write := func(p, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, p string) {
		t.Helper()
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	st.main = filepath.Join(st.root, "app", "main.go")
	write(st.main, mainGo)
	write(filepath.Join(st.root, "app", "notes.txt"), sourceSecret)
	write(filepath.Join(st.root, "app", ".env.go.bak"), sourceSecret)
	write(filepath.Join(dir, "outside", "secret.go"), "package secret // "+sourceSecret)
	write(filepath.Join(dir, "outside", "nested", "deep.go"), "package deep // "+sourceSecret)
	write(filepath.Join(dir, "root2", "sibling.go"), "package sibling // "+sourceSecret)
	write(filepath.Join(st.root, "big.go"), "package big\n// "+strings.Repeat("x", 1<<20)+"\n")
	if err := os.MkdirAll(filepath.Join(st.root, "dir.go"), 0o755); err != nil {
		t.Fatal(err)
	}
	link(filepath.Join(dir, "outside", "secret.go"), filepath.Join(st.root, "app", "escape.go"))
	link("../../outside/secret.go", filepath.Join(st.root, "app", "relescape.go"))
	link(filepath.Join(dir, "outside"), filepath.Join(st.root, "app", "linkdir"))
	link("notes.txt", filepath.Join(st.root, "app", "fake.go"))
	link("main.go", filepath.Join(st.root, "app", "alias.go"))
	st.rootVia = filepath.Join(dir, "via")
	link(st.root, st.rootVia)
	return st
}

// rawGet sends the request line "GET target HTTP/1.1" as it is, so that no
// client cleans or re-encodes the target, and returns the status and body.
func rawGet(t *testing.T, addr, target string) (int, string) {
	code, _, body := rawGetLoc(t, addr, target)
	return code, body
}

// rawGetLoc is rawGet that also returns the Location header.
func rawGetLoc(t *testing.T, addr, target string) (code int, location, body string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %q: %v", target, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, resp.Header.Get("Location"), b.String()
}

// sourceURL is the path of file's source page under /stats/, unescaped.
func sourceURL(file string) string { return "/stats/source" + file }

func TestSourceViewer(t *testing.T) {
	tree := newSourceTree(t)
	h := ui.NewHandler(memstore.New(0), ui.WithSourceRoots(tree.root))

	w := do(h, "GET", sourceURL(tree.main)+"?line=7", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("source page: %d %s", w.Code, w.Body)
	}
	checkSecurityHeaders(t, w)
	body := w.Body.String()
	for _, want := range []string{
		`id="L7"`, `class="sl target" id="L7"`, // the frame's line, highlighted
		`<span class="kw">func</span>`, `<span class="kw">return</span>`,
		`<span class="str">&#34;hello, %s&#34;</span>`, `<span class="num">42</span>`,
		`<span class="com">// greet says hello; &lt;b&gt;not markup&lt;/b&gt; &amp; &#34;quoted&#34;.</span>`,
		tree.main,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("source page lacks %s", want)
		}
	}
	if strings.Contains(body, "<b>not markup</b>") {
		t.Error("source text rendered as markup")
	}
	if strings.Contains(body, "echarts.min.js") {
		t.Error("the source page loads the charts")
	}

	// A few lines around the line only, unless more are asked for.
	w = do(h, "GET", sourceURL(tree.main)+"?line=2&context=1", nil)
	if b := w.Body.String(); w.Code != 200 || !strings.Contains(b, `id="L1"`) || !strings.Contains(b, `id="L3"`) || strings.Contains(b, `id="L4"`) {
		t.Errorf("context=1 around line 2: %d, lines 1-3 only? %s", w.Code, b)
	}
	if !strings.Contains(w.Body.String(), "show more") {
		t.Error("a partial view offers no more lines")
	}
	// No line: the top of the file.
	if w = do(h, "GET", sourceURL(tree.main), nil); w.Code != 200 || !strings.Contains(w.Body.String(), `id="L1"`) {
		t.Errorf("without a line: %d", w.Code)
	}
	// A line past the end is no error.
	if w = do(h, "GET", sourceURL(tree.main)+"?line=900", nil); w.Code != 200 || !strings.Contains(w.Body.String(), "No such line") {
		t.Errorf("line past the end: %d %s", w.Code, w.Body)
	}
	// A symlink inside the root to a .go file inside it.
	if w = do(h, "GET", sourceURL(filepath.Join(tree.root, "app", "alias.go"))+"?line=7", nil); w.Code != 200 || !strings.Contains(w.Body.String(), "the call") {
		t.Errorf("alias.go: %d", w.Code)
	}
	// A root named through a symlink: frames may name its files either way.
	via := ui.NewHandler(memstore.New(0), ui.WithSourceRoots(tree.rootVia))
	for _, p := range []string{filepath.Join(tree.rootVia, "app", "main.go"), tree.main} {
		if w = do(via, "GET", sourceURL(p)+"?line=7", nil); w.Code != 200 || !strings.Contains(w.Body.String(), "the call") {
			t.Errorf("%s under a root named through a symlink: %d", p, w.Code)
		}
	}
	for _, q := range []string{"line=-1", "line=x", "context=201", "context=-3", "line=1.5"} {
		if w = do(h, "GET", sourceURL(tree.main)+"?"+q, nil); w.Code != http.StatusBadRequest {
			t.Errorf("?%s: %d, want 400", q, w.Code)
		}
	}
	if w = do(h, "POST", sourceURL(tree.main), nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", w.Code)
	}

	// Off unless roots are named, whatever the file.
	off := ui.NewHandler(memstore.New(0))
	if w = do(off, "GET", sourceURL(tree.main)+"?line=7", nil); w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "the call") {
		t.Errorf("viewer off: %d", w.Code)
	}
	// Roots that do not exist are left out: the viewer stays off.
	missing := ui.NewHandler(memstore.New(0), ui.WithSourceRoots(filepath.Join(tree.dir, "nope"), ""))
	if w = do(missing, "GET", sourceURL(tree.main), nil); w.Code != http.StatusNotFound {
		t.Errorf("missing roots: %d", w.Code)
	}
}

// TestSourceTraversal asks a real server, with raw request lines, for
// everything outside the roots it can be tricked into: each answer is 404
// and holds none of the secret. The dashboard serves it directly, and
// then behind a ServeMux, which answers unclean paths with a redirect to
// the cleaned path: following it must not reach the secret either.
func TestSourceTraversal(t *testing.T) {
	tree := newSourceTree(t)
	h := ui.NewHandler(memstore.New(0), ui.WithSourceRoots(filepath.Join(tree.root, "app")))
	srv := httptest.NewServer(h)
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	mux := http.NewServeMux()
	mux.Handle("/stats/", h)
	msrv := httptest.NewServer(mux)
	defer msrv.Close()

	// The root is root/app: its parent's files are outside too.
	app := filepath.Join(tree.root, "app")
	for _, target := range []string{
		sourceURL(app + "/../../outside/secret.go"),
		sourceURL(app + "/../big.go"),
		sourceURL(app + "/%2e%2e/%2e%2e/outside/secret.go"),
		sourceURL(app + "/%2E%2E/%2E%2E/outside/secret.go"),
		sourceURL(app + "/.%2e/.%2e/outside/secret.go"),
		sourceURL(app + "/%252e%252e/%252e%252e/outside/secret.go"),
		sourceURL(app + "/..%2f..%2foutside/secret.go"),
		sourceURL(app + "/..%5c..%5coutside%5csecret.go"),
		sourceURL(app + "/%c0%ae%c0%ae/%c0%ae%c0%ae/outside/secret.go"),
		sourceURL(app + "/./main.go/../../../outside/secret.go"),
		"/stats/source/" + strings.TrimPrefix(app, "/") + "//..//..//outside/secret.go",
		"/stats/source//" + strings.TrimPrefix(filepath.Join(tree.dir, "outside", "secret.go"), "/"),
		sourceURL(filepath.Join(tree.dir, "outside", "secret.go")),
		sourceURL(filepath.Join(tree.dir, "root2", "sibling.go")),
		sourceURL(app + "/escape.go"),         // absolute symlink out of the root
		sourceURL(app + "/relescape.go"),      // relative symlink out of the root
		sourceURL(app + "/linkdir/secret.go"), // a directory symlink out of it
		sourceURL(app + "/linkdir/nested/deep.go"),
		sourceURL(app + "/fake.go"),        // a .go name for a file that is not Go
		sourceURL(app + "/notes.txt"),      // not a .go file
		sourceURL(app + "/.env.go.bak"),    // not a .go file either
		sourceURL(app + "/main.go%00.txt"), // NUL
		sourceURL(app + "/notes.txt%00.go"),
		sourceURL(app + "/main.go%00"),
		sourceURL(app + "/" + strings.Repeat("a/", 2100) + "main.go"), // longer than PATH_MAX
		sourceURL(app + "/" + strings.Repeat("../", 1400) + "outside/secret.go"),
		sourceURL(app + "/" + strings.Repeat("x", 5000) + ".go"),
		sourceURL(app), // the directory itself
		sourceURL(app + "/"),
		"/stats/source/",
		"/stats/source",
		sourceURL("/etc/passwd"),
		sourceURL(app + "/main.go/"),
		sourceURL(app + "/MAIN.GO"),
		sourceURL(app + "/main.Go"),
		sourceURL(strings.ToUpper(app) + "/main.go"),
		"/stats/source/" + strings.ReplaceAll(strings.TrimPrefix(app, "/"), "/", "%2f") + "%2fmain.go",
		"/stats/source/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"/stats/source/\u2024\u2024/secret.go", // one-dot leaders, not dots
	} {
		code, body := rawGet(t, addr, target)
		if code != http.StatusNotFound {
			t.Errorf("GET %.200q: %d, want 404", target, code)
		}
		if strings.Contains(body, sourceSecret) {
			t.Errorf("GET %.200q served the secret: %.300s", target, body)
		}
		// Behind a ServeMux, with its redirects followed.
		maddr := msrv.Listener.Addr().String()
		code, loc, body := rawGetLoc(t, maddr, target)
		for hops := 0; code/100 == 3 && hops < 5; hops++ {
			code, loc, body = rawGetLoc(t, maddr, strings.TrimPrefix(loc, "http://"+maddr))
		}
		if code == http.StatusOK || strings.Contains(body, sourceSecret) {
			t.Errorf("GET %.200q behind a ServeMux: %d %.300s", target, code, body)
		}
	}
	// And the root's own file is served, through the same server.
	if code, body := rawGet(t, addr, sourceURL(app+"/main.go")+"?line=7"); code != http.StatusOK || !strings.Contains(body, "the call") {
		t.Errorf("main.go: %d", code)
	}
}

func TestSourceTooLarge(t *testing.T) {
	tree := newSourceTree(t)
	h := ui.NewHandler(memstore.New(0), ui.WithSourceRoots(tree.root))
	w := do(h, "GET", sourceURL(filepath.Join(tree.root, "big.go")), nil)
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "larger than") || strings.Contains(w.Body.String(), "xxxx") {
		t.Errorf("big.go: %d %.300s", w.Code, w.Body)
	}
	if w = do(h, "GET", sourceURL(filepath.Join(tree.root, "dir.go")), nil); w.Code != http.StatusNotFound {
		t.Errorf("a directory named like a Go file: %d", w.Code)
	}
}

// TestSourceGOROOT: the standard library's frames are served only when
// their root is named.
func TestSourceGOROOT(t *testing.T) {
	pc := reflect.ValueOf(runtime.Gosched).Pointer()
	file, line := runtime.FuncForPC(pc).FileLine(pc)
	if _, err := os.Stat(file); err != nil {
		t.Skipf("the standard library's sources are not at %s: %v", file, err)
	}
	tree := newSourceTree(t)
	target := sourceURL(file) + fmt.Sprintf("?line=%d", line)
	if w := do(ui.NewHandler(memstore.New(0), ui.WithSourceRoots(tree.root)), "GET", target, nil); w.Code != http.StatusNotFound {
		t.Errorf("GOROOT file without its root: %d", w.Code)
	}
	w := do(ui.NewHandler(memstore.New(0), ui.WithSourceRoots(tree.root, ui.SourceGOROOT)), "GET", target, nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Gosched") {
		t.Errorf("GOROOT file with SourceGOROOT: %d", w.Code)
	}
}

// TestSourceLinks: frames under a root link to their source from the
// details page; others do not.
func TestSourceLinks(t *testing.T) {
	tree := newSourceTree(t)
	st := memstore.New(0)
	r := makeRecord(time.Now(), 1, "/users/1", 200, 1)
	r.Calls[0].Stack = []recording.Frame{
		{Function: "main.greet", File: tree.main, Line: 7},
		{Function: "main.odd", File: filepath.Join(tree.root, "app", "dir with space", "ü.go"), Line: 3},
		{Function: "secret.Leak", File: filepath.Join(tree.dir, "outside", "secret.go"), Line: 1},
	}
	if err := st.Write(t.Context(), []*recording.Record{r}); err != nil {
		t.Fatal(err)
	}
	h := ui.NewHandler(st, ui.WithSourceRoots(tree.root))
	body := do(h, "GET", "/stats/records/"+r.ID.String(), nil).Body.String()
	want := `href="../source` + tree.main + `?line=7#L7"`
	if !strings.Contains(body, want) {
		t.Errorf("details page lacks the link %s", want)
	}
	if !strings.Contains(body, `/dir%20with%20space/%C3%BC.go?line=3#L3"`) {
		t.Error("a file name with a space and a non-ASCII letter is not escaped in its link")
	}
	if strings.Contains(body, `outside/secret.go?line`) {
		t.Error("a frame outside the roots is linked")
	}
	// The link resolves to the source page.
	if w := do(h, "GET", "/stats/source"+tree.main+"?line=7", nil); w.Code != 200 {
		t.Errorf("the link's target: %d", w.Code)
	}
	// Without roots, no frame is linked.
	if b := do(ui.NewHandler(st), "GET", "/stats/records/"+r.ID.String(), nil).Body.String(); strings.Contains(b, "source/") {
		t.Error("frames linked with the viewer off")
	}
}
