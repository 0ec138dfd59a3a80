package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// The UI's files, served under static/: the echarts build fetched and
// verified by scripts/fetch-echarts.sh, and the UI's own script, style sheet
// and icon.
//
//go:embed assets/echarts/echarts.min.js assets/echarts/LICENSE assets/echarts/NOTICE
//go:embed static
var embedded embed.FS

// staticFiles maps a name under static/ to its embedded path.
var staticFiles = map[string]string{
	"echarts.min.js":  "assets/echarts/echarts.min.js",
	"ECHARTS-LICENSE": "assets/echarts/LICENSE",
	"ECHARTS-NOTICE":  "assets/echarts/NOTICE",
	"app.js":          "static/app.js",
	"app.css":         "static/app.css",
	"favicon.svg":     "static/favicon.svg",
}

// An asset is one static file with its validator and, when it pays, a gzip
// encoding. Both are computed on first use: hashing and compressing the
// megabyte of echarts costs milliseconds that a handler nobody visits should
// not pay.
type asset struct {
	path  string
	ctype string

	once sync.Once
	body []byte
	etag string

	gzOnce sync.Once
	gz     []byte
}

func (a *asset) load() {
	a.once.Do(func() {
		b, err := fs.ReadFile(embedded, a.path)
		if err != nil {
			b = nil // cannot happen: the files are embedded
		}
		sum := sha256.Sum256(b)
		a.body = b
		a.etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	})
}

func (a *asset) gzipped() []byte {
	a.gzOnce.Do(func() {
		if len(a.body) < 1024 {
			return
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(a.body)
		_ = zw.Close()
		if buf.Len() < len(a.body) {
			a.gz = buf.Bytes()
		}
	})
	return a.gz
}

// assetSet holds a handler's assets.
type assetSet struct {
	assets map[string]*asset

	inlineOnce sync.Once
	inlined    *inlineAssets
}

// inline returns the style sheet and icon for a page that must carry them
// itself (see pageMeta.Inline), made on first use.
func (s *assetSet) inline() *inlineAssets {
	s.inlineOnce.Do(func() {
		v := &inlineAssets{}
		if a := s.get("app.css"); a != nil {
			v.CSS = template.CSS(a.body) // our own embedded file
		}
		if a := s.get("favicon.svg"); a != nil {
			v.Icon = template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(a.body))
		}
		s.inlined = v
	})
	return s.inlined
}

func newAssetSet() *assetSet {
	s := &assetSet{assets: make(map[string]*asset, len(staticFiles))}
	for name, p := range staticFiles {
		a := &asset{path: p}
		switch ext := path.Ext(name); ext {
		case ".js":
			a.ctype = "text/javascript; charset=utf-8"
		case ".css":
			a.ctype = "text/css; charset=utf-8"
		case ".svg":
			a.ctype = "image/svg+xml"
		case "":
			a.ctype = "text/plain; charset=utf-8"
		default:
			a.ctype = mime.TypeByExtension(ext)
		}
		s.assets[name] = a
	}
	return s
}

func (s *assetSet) get(name string) *asset {
	a := s.assets[name]
	if a != nil {
		a.load()
	}
	return a
}

// static serves GET static/{name} with an ETag; browsers revalidate on each
// page load (Cache-Control: private, no-cache) and get 304 while the binary
// is the same.
func (h *handler) static(w http.ResponseWriter, r *http.Request) {
	a := h.assets.get(r.PathValue("name"))
	if a == nil {
		h.fail(w, r, http.StatusNotFound, "no such file")
		return
	}
	hd := w.Header()
	hd.Set("ETag", a.etag)
	hd.Set("Cache-Control", "private, no-cache") // behind the authorizer: no shared cache keeps them
	hd.Set("Content-Type", a.ctype)
	hd.Add("Vary", "Accept-Encoding")
	if etagMatch(r.Header.Get("If-None-Match"), a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		if gz := a.gzipped(); gz != nil {
			hd.Set("Content-Encoding", "gzip")
			body = gz
		}
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == etag || t == "W/"+etag || t == "*" {
			return true
		}
	}
	return false
}

func acceptsGzip(header string) bool {
	for _, p := range strings.Split(header, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(p), ";")
		if strings.TrimSpace(enc) != "gzip" {
			continue
		}
		if v, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if q, err := strconv.ParseFloat(v, 64); err != nil || q <= 0 {
				return false
			}
		}
		return true
	}
	return false
}
