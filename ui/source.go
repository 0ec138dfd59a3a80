package ui

import (
	"bytes"
	"errors"
	"fmt"
	"go/scanner"
	"go/token"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
)

// The source viewer: a stack frame on the details page links to the line
// of Go source that made the call. It serves only .go files under the
// roots the operator names, resolved after symlinks, and nothing when none
// are named.

// Source roots with a meaning of their own, for [WithSourceRoots].
const (
	// SourceGOROOT names the standard library's sources: the directory the
	// program's own standard-library frames point into (GOROOT/src on the
	// machine that built it).
	SourceGOROOT = "$GOROOT"
	// SourceModCache names the module cache: $GOMODCACHE, else the first
	// entry of $GOPATH plus /pkg/mod, else ~/go/pkg/mod.
	SourceModCache = "$GOMODCACHE"
)

// Bounds of what the viewer serves and shows.
const (
	maxSourceBytes   = 1 << 20 // larger files are not shown
	maxSourcePath    = 4096    // PATH_MAX
	defaultContext   = 12      // lines shown above and below the frame's line
	maxSourceContext = 200
	maxLineBytes     = 2048 // a longer line is cut in the view
)

// WithSourceRoots turns the source viewer on: each stack frame on a
// record's details page whose file lies under one of roots links to
// source/{file}?line=N, a page that shows the lines around the frame's
// line with that line highlighted. Only files whose names end in ".go" are
// served, and only when the file, resolved after symlinks, lies under one
// of the roots (also resolved): a request for anything else — another
// file, "..", an encoded or over-long path, a symlink out of a root — gets
// 404. Calling it again adds roots.
//
// A root is a directory: your module's, say. Frames of the standard library
// and of dependencies point into GOROOT and the module cache, which are
// served only when named: [SourceGOROOT] and [SourceModCache] stand for
// them. Frames name the files as they were when the program was built, so
// the viewer shows them only where the program runs next to its sources
// (and not built with -trimpath). Roots that do not exist are left out and
// logged (see [WithLogger]).
func WithSourceRoots(roots ...string) Option {
	return optionFunc(func(c *config) { c.sourceRoots = append(c.sourceRoots, roots...) })
}

// sourceViewer resolves and serves files under its roots. It is nil when
// the viewer is off.
type sourceViewer struct {
	roots []sourceRoot
}

// A sourceRoot is a directory whose files may be shown: as named (absolute
// and clean) and as resolved after symlinks. Frames may name a file by
// either.
type sourceRoot struct {
	named, real string
}

// newSourceViewer resolves roots; it returns nil when none is usable.
func newSourceViewer(roots []string, logf func(msg string, args ...any)) *sourceViewer {
	var v sourceViewer
	for _, r := range roots {
		dir, err := expandRoot(r)
		if err == nil {
			dir, err = filepath.Abs(dir)
		}
		var real string
		if err == nil {
			real, err = filepath.EvalSymlinks(dir)
		}
		if err == nil {
			var fi os.FileInfo
			if fi, err = os.Stat(real); err == nil && !fi.IsDir() {
				err = errors.New("not a directory")
			}
		}
		if err != nil {
			logf("appstats ui: source root left out", "root", r, "err", err)
			continue
		}
		v.roots = append(v.roots, sourceRoot{named: filepath.Clean(dir), real: real})
	}
	if len(v.roots) == 0 {
		return nil
	}
	return &v
}

// expandRoot gives SourceGOROOT and SourceModCache their directories.
func expandRoot(r string) (string, error) {
	switch r {
	case SourceGOROOT:
		// The file of a runtime function is GOROOT/src/runtime/….go on the
		// machine that built the program: the directory other
		// standard-library frames point into too.
		file, _ := runtime.FuncForPC(reflect.ValueOf(runtime.Gosched).Pointer()).FileLine(reflect.ValueOf(runtime.Gosched).Pointer())
		dir := filepath.Dir(filepath.Dir(file))
		if !filepath.IsAbs(file) || filepath.Base(dir) != "src" {
			return "", fmt.Errorf("the standard library's frames name no directory (built with -trimpath?): %q", file)
		}
		return dir, nil
	case SourceModCache:
		if d := os.Getenv("GOMODCACHE"); d != "" {
			return d, nil
		}
		if gp := filepath.SplitList(os.Getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
			return filepath.Join(gp[0], "pkg", "mod"), nil
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		return filepath.Join(home, "go", "pkg", "mod"), nil
	case "":
		return "", errors.New("empty root")
	}
	return r, nil
}

// linkable reports whether file lies, by name, under a root: whether a
// frame of it gets a link. The file is checked again, after symlinks, when
// it is asked for.
func (v *sourceViewer) linkable(file string) bool {
	if v == nil || !strings.HasSuffix(file, ".go") {
		return false
	}
	for _, r := range v.roots {
		if within(file, r.named) || within(file, r.real) {
			return true
		}
	}
	return false
}

// within reports whether the clean absolute path p is strictly under dir.
func within(p, dir string) bool {
	if dir == "/" {
		return len(p) > 1 && p[0] == '/'
	}
	return len(p) > len(dir)+1 && strings.HasPrefix(p, dir) && p[len(dir)] == filepath.Separator
}

var errNoSource = errors.New("no such source file under the source roots")

// open opens the source file named p (an absolute path as a frame gives
// it) if it is a .go file under a root once resolved, and returns its
// contents. Every refusal is errNoSource, or an error saying the file is
// too large.
func (v *sourceViewer) open(p string) ([]byte, error) {
	if len(p) > maxSourcePath || strings.IndexByte(p, 0) >= 0 || !filepath.IsAbs(p) ||
		filepath.Clean(p) != p || !strings.HasSuffix(p, ".go") || !v.linkable(p) {
		return nil, errNoSource
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil || !strings.HasSuffix(real, ".go") {
		return nil, errNoSource
	}
	for _, r := range v.roots {
		if !within(real, r.real) {
			continue
		}
		rel, err := filepath.Rel(r.real, real)
		if err != nil || !filepath.IsLocal(rel) {
			continue
		}
		// os.Root refuses any path that would leave the root, should a
		// component have been replaced by a symlink since it was resolved.
		return readUnder(r.real, rel)
	}
	return nil, errNoSource
}

// readUnder reads the regular file rel under dir, through an [os.Root].
func readUnder(dir, rel string) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, errNoSource
	}
	defer root.Close()
	// Only a regular file is opened: opening a named pipe would wait for
	// a writer, whatever the request's context.
	if fi, err := root.Stat(rel); err != nil || !fi.Mode().IsRegular() {
		return nil, errNoSource
	}
	f, err := root.Open(rel)
	if err != nil {
		return nil, errNoSource
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, errNoSource
	}
	if fi.Size() > maxSourceBytes {
		return nil, errTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSourceBytes+1))
	if err != nil {
		return nil, errNoSource
	}
	if len(b) > maxSourceBytes {
		return nil, errTooLarge
	}
	return b, nil
}

var errTooLarge = fmt.Errorf("source file larger than %d KiB: not shown", maxSourceBytes>>10)

// sourceLink returns the link from a page at base (the relative path back
// to the prefix) to the source view of file at line.
func sourceLink(base, file string, line int) string {
	var b strings.Builder
	b.WriteString(base)
	b.WriteString("source")
	for _, seg := range strings.Split(strings.TrimPrefix(filepath.ToSlash(file), "/"), "/") {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(seg))
	}
	if line > 0 {
		l := strconv.Itoa(line)
		b.WriteString("?line=" + l + "#L" + l)
	}
	return b.String()
}

// sourceView is the source page's data.
type sourceView struct {
	pageMeta
	File      string
	Line      int
	Lines     []sourceLine
	Total     int // lines in the file
	MoreURL   string
	Truncated bool // some lines were cut to maxLineBytes
}

type sourceLine struct {
	Num    int
	HTML   template.HTML
	Target bool
}

// source serves GET source/{file...}?line=N&context=M.
func (h *handler) source(w http.ResponseWriter, r *http.Request) {
	if h.src == nil {
		h.fail(w, r, http.StatusNotFound, "the source viewer is off: name source roots with ui.WithSourceRoots (Config.SourceRoots)")
		return
	}
	q := r.URL.Query()
	line, err := intParam(q, "line", 0, 0, 1<<24)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	ctxLines, err := intParam(q, "context", defaultContext, 0, maxSourceContext)
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	file := "/" + r.PathValue("file")
	src, err := h.src.open(file)
	if err != nil {
		msg := "source file not found"
		if errors.Is(err, errTooLarge) {
			msg = err.Error()
		}
		h.fail(w, r, http.StatusNotFound, msg)
		return
	}
	nonce := newNonce()
	v := sourceView{
		pageMeta: pageMeta{Base: base(r.URL.Path), Nonce: nonce, Title: filepath.Base(file), Page: "source"},
		File:     file,
		Line:     line,
	}
	v.Lines, v.Total, v.Truncated = highlightGo(src, line, ctxLines)
	if ctxLines < maxSourceContext && len(v.Lines) < v.Total {
		more := url.Values{"context": {strconv.Itoa(min(maxSourceContext, max(2*ctxLines, 50)))}}
		if line > 0 {
			more.Set("line", strconv.Itoa(line))
		}
		v.MoreURL = "?" + more.Encode()
		if line > 0 {
			v.MoreURL += "#L" + strconv.Itoa(line)
		}
	}
	h.render(w, r, h.pages.source, "page", nonce, &v)
}

// intParam reads an optional integer parameter within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s: want a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}

// A goToken is a token of Go source that is coloured: its byte range and
// class.
type goToken struct {
	off, end int
	class    string
}

// highlightGo renders the lines of src around line (all of them, up to
// 2×ctx+1, from the first when line is 0) as HTML with Go's keywords,
// literals and comments marked, and returns them with the file's number of
// lines. Source that is not valid Go is shown as well as it scans.
func highlightGo(src []byte, line, ctx int) (out []sourceLine, total int, truncated bool) {
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	src = bytes.ToValidUTF8(src, []byte("\uFFFD"))
	starts := []int{0}
	for i, c := range src {
		if c == '\n' && i+1 < len(src) {
			starts = append(starts, i+1)
		}
	}
	total = len(starts)
	if len(src) == 0 {
		total = 0
	}
	first, last := 1, min(total, 2*ctx+1)
	if line > 0 {
		first, last = max(1, line-ctx), min(total, line+ctx)
	}
	if first > last {
		return nil, total, false
	}
	hi := len(src)
	if last < total {
		hi = starts[last]
	}
	spans := goSpans(src, hi)
	si := 0
	for n := first; n <= last; n++ {
		a := starts[n-1]
		b := len(src)
		if n < total {
			b = starts[n] - 1 // without the newline
		} else if b > a && src[b-1] == '\n' {
			b--
		}
		cut := b
		if b-a > maxLineBytes {
			cut = a + maxLineBytes
			for cut > a && !utf8Start(src[cut]) {
				cut--
			}
			truncated = true
		}
		for si < len(spans) && spans[si].end <= a {
			si++
		}
		var buf strings.Builder
		pos := a
		for j := si; j < len(spans) && spans[j].off < cut; j++ {
			s := spans[j]
			from, to := max(s.off, a), min(s.end, cut)
			if from > pos {
				htmlEscaper.WriteString(&buf, string(src[pos:from]))
			}
			buf.WriteString(`<span class="` + s.class + `">`)
			htmlEscaper.WriteString(&buf, string(src[from:to]))
			buf.WriteString(`</span>`)
			pos = to
		}
		if pos < cut {
			htmlEscaper.WriteString(&buf, string(src[pos:cut]))
		}
		if cut < b {
			buf.WriteString(`<span class="cut">…</span>`)
		}
		out = append(out, sourceLine{Num: n, HTML: template.HTML(buf.String()), Target: n == line})
	}
	return out, total, truncated
}

func utf8Start(c byte) bool { return c&0xC0 != 0x80 }

// goSpans scans src up to offset hi and returns its coloured tokens in
// order.
func goSpans(src []byte, hi int) []goToken {
	var s scanner.Scanner
	fset := token.NewFileSet()
	file := fset.AddFile("", fset.Base(), len(src))
	s.Init(file, src, func(token.Position, string) {}, scanner.ScanComments)
	var out []goToken
	for {
		pos, tok, lit := s.Scan()
		if tok == token.EOF {
			break
		}
		off := file.Offset(pos)
		if off >= hi {
			break
		}
		var class string
		switch {
		case tok == token.COMMENT:
			class = "com"
		case tok == token.STRING || tok == token.CHAR:
			class = "str"
		case tok == token.INT || tok == token.FLOAT || tok == token.IMAG:
			class = "num"
		case tok.IsKeyword():
			class = "kw"
			lit = tok.String()
		default:
			continue
		}
		out = append(out, goToken{off: off, end: min(off+len(lit), len(src)), class: class})
	}
	return out
}
