package ui

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/goappstats/appstats/recording"
	"github.com/goappstats/appstats/store"
)

// DefaultPrefix is the path the handler expects to be mounted at unless
// [WithPrefix] says otherwise.
const DefaultPrefix = "/stats/"

// An Option configures [NewHandler].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	prefix     string
	rec        *recording.Recorder
	auth       func(*http.Request) bool
	customAuth bool
	localHosts map[string]bool // more Host names LocalOnly admits
	traceLink  string
	live       *Live
	logger     *slog.Logger

	sourceRoots []string // see WithSourceRoots
	costUnit    string   // see WithCostUnit
}

// WithPrefix sets the path the handler is mounted at (default
// [DefaultPrefix], "/stats/"). The handler strips it itself, so mount it
// without [http.StripPrefix]:
//
//	mux.Handle("/admin/stats/", ui.NewHandler(st, ui.WithPrefix("/admin/stats/")))
//
// If you do strip a prefix in front of the handler (http.StripPrefix("/stats")
// or "/stats/"), pass WithPrefix("/"); without it the handler answers every
// path with a 404 that says so.
// Leading and trailing slashes are added when missing. Every link the UI
// renders is relative, so pages work under any prefix.
func WithPrefix(prefix string) Option {
	return optionFunc(func(c *config) {
		if !strings.HasPrefix(prefix, "/") {
			prefix = "/" + prefix
		}
		if !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		c.prefix = prefix
	})
}

// WithRecorder shows the recorder's health (records recorded, written,
// dropped; sink errors; queue depth) on the dashboard, lists the records in
// the making ([recording.Recorder.Active]) there, on the in-flight page and
// in api/active, shows their pages while they run, and enables the
// pause/resume buttons, which call [recording.Recorder.SetPaused].
func WithRecorder(rec *recording.Recorder) Option {
	return optionFunc(func(c *config) { c.rec = rec })
}

// WithAuth sets the authorizer: a request is served only if allow returns
// true; everything else gets 401 with a Basic challenge, so that browsers ask
// for the credentials [BasicAuth] checks. The default authorizer is
// [LocalOnly] (with the names of [WithLocalHosts]), whose refusals get 403. allow runs before any other work and
// must be safe for concurrent use. A nil allow keeps the default.
func WithAuth(allow func(*http.Request) bool) Option {
	return optionFunc(func(c *config) {
		if allow != nil {
			c.auth = allow
			c.customAuth = true
		}
	})
}

// WithLocalHosts names more hosts the default authorizer admits in a
// request's Host header, besides loopback IPs, localhost and *.localhost
// (see [LocalOnly]): for a dashboard reached on this machine by another
// name, such as one /etc/hosts maps to 127.0.0.1. Ports are ignored. The
// client must still be on loopback and send no proxy header. Only names
// the operator controls belong here: a page served under a listed name can
// read the dashboard from a browser on this machine. It has no effect with
// [WithAuth].
func WithLocalHosts(hosts ...string) Option {
	return optionFunc(func(c *config) {
		for _, h := range hosts {
			if n := hostName(strings.TrimSpace(h)); n != "" {
				if c.localHosts == nil {
					c.localHosts = make(map[string]bool)
				}
				c.localHosts[n] = true
			}
		}
	})
}

// WithTraceLink links each record's trace ID to an external trace viewer.
// The template's "{trace_id}" is replaced by the trace ID in hex, e.g.
// "http://jaeger:16686/trace/{trace_id}". Only http and https links are
// rendered as links.
func WithTraceLink(urlTemplate string) Option {
	return optionFunc(func(c *config) { c.traceLink = urlTemplate })
}

// WithLive enables live updates: open dashboards refresh their tables and
// charts when l reports new records. l must also be one of the recorder's
// sinks, after the store (see [Live]).
func WithLive(l *Live) Option {
	return optionFunc(func(c *config) { c.live = l })
}

// WithLogger sets the logger for the handler's own problems (store failures).
// The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// handler is what [NewHandler] returns.
type handler struct {
	cfg    config
	st     store.Store
	mux    *http.ServeMux
	cop    *http.CrossOriginProtection
	pages  *pageTemplates
	assets *assetSet
	bufs   sync.Pool

	chartsOnce  sync.Once // the dashboard charts' scripts, without data
	chartBodies map[string]string

	ganttOnce sync.Once // the Gantt chart's script is the same for every record
	ganttBody string
	ganttErr  error

	src *sourceViewer // nil: the source viewer is off
}

// NewHandler returns the dashboard: HTML pages, the JSON API, live updates and
// static assets for the records in st, mounted at [DefaultPrefix] unless
// [WithPrefix] says otherwise (see its documentation).
//
// Every request is first checked by the authorizer ([LocalOnly] unless
// [WithAuth] sets another), then state-changing requests (POST) by
// [http.CrossOriginProtection]. Responses carry a Content-Security-Policy
// that admits scripts and styles only from the handler itself or with a
// per-response nonce (no inline style attribute), and
// X-Content-Type-Options, X-Frame-Options and Referrer-Policy
// headers. The routes are documented in API.md next to this package's
// source. A nil st makes every page answer 503.
func NewHandler(st store.Store, opts ...Option) http.Handler {
	cfg := config{prefix: DefaultPrefix}
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if cfg.auth == nil {
		hosts := cfg.localHosts
		cfg.auth = func(r *http.Request) bool { return localOnly(r, hosts) }
	}
	if cfg.logger == nil {
		cfg.logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{
		cfg:    cfg,
		st:     st,
		mux:    http.NewServeMux(),
		cop:    http.NewCrossOriginProtection(),
		pages:  mustParseTemplates(),
		assets: newAssetSet(),
	}
	h.bufs.New = func() any { return new(bytes.Buffer) }
	h.src = newSourceViewer(cfg.sourceRoots, cfg.logger.Warn)
	m := h.mux
	m.HandleFunc("GET /{$}", h.dashboard)
	m.HandleFunc("GET /records/{id}", h.details)
	m.HandleFunc("GET /traces/{trace}", h.trace)
	m.HandleFunc("GET /compare", h.compare)
	m.HandleFunc("GET /active", h.active)
	m.HandleFunc("GET /part/active", h.partActive)
	m.HandleFunc("GET /api/active", h.apiActive)
	m.HandleFunc("GET /api/traces/{trace}", h.apiTrace)
	m.HandleFunc("GET /api/compare", h.apiCompare)
	m.HandleFunc("GET /part/stats", h.partStats)
	m.HandleFunc("GET /part/history", h.partHistory)
	m.HandleFunc("GET /part/refresh", h.partRefresh)
	m.HandleFunc("GET /api/records", h.apiRecords)
	m.HandleFunc("GET /api/records/{id}", h.apiRecord)
	m.HandleFunc("GET /api/records/{id}/trace", h.apiExecTrace)
	m.HandleFunc("GET /api/stats", h.apiStats)
	m.HandleFunc("GET /api/series", h.apiSeries)
	m.HandleFunc("GET /api/health", h.apiHealth)
	m.HandleFunc("GET /events", h.events)
	m.HandleFunc("GET /static/{name}", h.static)
	m.HandleFunc("GET /source/{file...}", h.source)
	m.HandleFunc("POST /clear", h.clear)
	m.HandleFunc("POST /pause", h.pause)
	m.HandleFunc("POST /resume", h.resume)
	// The same paths with other methods: 405, not 404.
	for path, allow := range map[string]string{
		"/{$}": "GET, HEAD", "/records/{id}": "GET, HEAD", "/part/stats": "GET, HEAD", "/part/history": "GET, HEAD",
		"/part/refresh": "GET, HEAD",
		"/api/records":  "GET, HEAD", "/api/records/{id}": "GET, HEAD", "/api/records/{id}/trace": "GET, HEAD",
		"/api/stats":  "GET, HEAD",
		"/api/series": "GET, HEAD", "/api/health": "GET, HEAD", "/events": "GET, HEAD", "/static/{name}": "GET, HEAD",
		"/clear": "POST", "/pause": "POST", "/resume": "POST",
		"/traces/{trace}": "GET, HEAD", "/compare": "GET, HEAD", "/active": "GET, HEAD", "/part/active": "GET, HEAD",
		"/api/active": "GET, HEAD", "/api/traces/{trace}": "GET, HEAD", "/api/compare": "GET, HEAD",
		"/source/{file...}": "GET, HEAD",
	} {
		m.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			h.fail(w, r, http.StatusMethodNotAllowed, "method not allowed")
		})
	}
	notFound := func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, http.StatusNotFound, "page not found")
	}
	m.HandleFunc("/", notFound)
	// Without it the router would redirect to source/, a path it knows
	// without the prefix.
	m.HandleFunc("/source", notFound)
	return h
}

// forbidden is the default authorizer's refusal.
const forbidden = "access denied: by default the appstats dashboard admits only local clients: " +
	"a request from a loopback address, to localhost or a loopback IP (more names: Config.LocalHosts, " +
	"or ui.WithLocalHosts), without proxy headers (Forwarded, X-Forwarded-*, X-Real-IP, Via, …). " +
	"A reverse proxy on the same host that adds no such header cannot be told from a local client, " +
	"so do not rely on this check behind one: set Config.Auth (ui.WithAuth with the ui package), " +
	"for instance to ui.BasicAuth, to decide who may see the dashboard."

// authRefusal is the refusal of a request an authorizer of one's own
// (WithAuth) refused: it says so, and whether the request carried
// credentials, which is all the handler knows of why.
func authRefusal(r *http.Request) string {
	const msg = "authorization required: the dashboard's authorizer (Config.Auth, ui.WithAuth) refused this request"
	if r.Header.Get("Authorization") == "" {
		return msg + ", which carries no Authorization header"
	}
	return msg + "'s credentials"
}

// crossOriginRefusal is the refusal of a request http.CrossOriginProtection
// refused: it says which of the request's headers showed it cross-origin.
func crossOriginRefusal(r *http.Request) string {
	const msg = "cross-origin request refused: the dashboard's POST routes take only its own pages' requests, and "
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "":
		return msg + "this request has no Sec-Fetch-Site, and its Origin does not match its Host"
	case "cross-site", "same-site":
		return msg + "this request's Sec-Fetch-Site is " + site
	default:
		return msg + "this request's Sec-Fetch-Site is not same-origin"
	}
}

// noStore is the Cache-Control of every answer but the static files': the
// dashboard's data is admin-only, so no cache may keep it, shared (a proxy,
// a CDN, which would hand it to anyone) or not. ServeHTTP sets it before
// anything else, so that redirects, 204s and the mux's own errors carry it
// too.
const noStore = "private, no-store"

// baseCSP is the policy of every response; HTML pages add a nonce, for
// their scripts (the charts') and styles (the refused page's inline
// stylesheet). style-src has no 'unsafe-inline': the pages have no style
// attribute (bars are SVG rects, depths classes), app.js sets styles only
// through elements' style objects (not governed by style-src), and the
// charts' tooltips are elements app.js builds (echarts' own markup has
// style attributes, which would be blocked).
const baseCSP = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func pageCSP(nonce string) string {
	return "default-src 'none'; script-src 'self' 'nonce-" + nonce + "'; style-src 'self' 'nonce-" + nonce + "'; " +
		"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", baseCSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cache-Control", noStore)

	// Strip the prefix first, so that refusals are rendered for the right
	// path (JSON for the API); nothing is served before the authorizer says
	// yes.
	if !strings.HasPrefix(r.URL.Path, "/") {
		// http.StripPrefix("/stats/", h), the form of net/http's own
		// example, leaves "api/stats", and "" for the prefix itself
		// (which the redirect below would send to the site's root): the
		// path below where the handler is mounted.
		r = withRootedPath(r)
	}
	p := r.URL.Path
	prefix := h.cfg.prefix
	under := strings.HasPrefix(p, prefix)
	r2 := r
	if under {
		r2 = new(http.Request)
		*r2 = *r
		u := *r.URL
		r2.URL = &u
		r2.URL.Path = "/" + p[len(prefix):]
		r2.URL.RawPath = ""
		r2.Pattern = ""
	}

	if h.cfg.customAuth {
		if !h.cfg.auth(r) {
			hd.Set("WWW-Authenticate", `Basic realm="appstats", charset="UTF-8"`)
			h.refuse(w, r2, http.StatusUnauthorized, authRefusal(r), "")
			return
		}
	} else if why := localRefusal(r, h.cfg.localHosts); why != "" {
		h.refuse(w, r2, http.StatusForbidden, forbidden, why)
		return
	}

	if p+"/" == prefix {
		// "/stats" → "/stats/", relative to the last path element and
		// left relative: http.Redirect would make it absolute from
		// r.URL.Path, which a handler in front (http.StripPrefix) may have
		// cut, sending the browser out of where the dashboard is mounted.
		w.Header().Set("Location", "./"+p[strings.LastIndex(p, "/")+1:]+"/")
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	if !under {
		// Mounted at another path than the prefix, or behind a
		// StripPrefix: a newcomer's mistakes, named.
		msg := "page not found: the dashboard serves the paths below " + prefix + " (appstats' Config.UIPrefix, ui.WithPrefix)"
		if stripped(r) {
			msg = "page not found: the dashboard serves the paths below " + prefix +
				" (appstats' Config.UIPrefix, ui.WithPrefix), and this request's path had a prefix stripped" +
				" in front of it (by http.StripPrefix?): mount the dashboard at that path without" +
				" http.StripPrefix; or, for a ui.NewHandler behind http.StripPrefix, pass ui.WithPrefix(\"/\")"
		}
		h.fail(w, r, http.StatusNotFound, msg)
		return
	}
	if !cleanPath(r.URL) {
		// The router would answer with a redirect to the cleaned path,
		// which it knows without the prefix: /etc/passwd for
		// /stats/api/records/..%2f..%2fetc%2fpasswd.
		h.fail(w, r2, http.StatusNotFound, "page not found")
		return
	}
	if msg := checkQuery(r.URL.RawQuery); msg != "" {
		h.fail(w, r2, http.StatusBadRequest, msg)
		return
	}

	if h.st == nil && !strings.HasPrefix(r2.URL.Path, "/static/") {
		h.fail(w, r2, http.StatusServiceUnavailable, "no store is configured")
		return
	}
	if err := h.cop.Check(r2); err != nil {
		h.fail(w, r2, http.StatusForbidden, crossOriginRefusal(r2))
		return
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.cfg.logger.Error("appstats ui: handler panicked", "path", r2.URL.Path, "panic", fmt.Sprint(v))
			h.fail(w, r2, http.StatusInternalServerError, "internal error")
		}
	}()
	h.mux.ServeHTTP(w, r2)
}

// withRootedPath returns a shallow copy of r whose path (and raw path)
// starts with "/".
func withRootedPath(r *http.Request) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	r2.URL = &u
	u.Path = "/" + u.Path
	if u.RawPath != "" {
		u.RawPath = "/" + u.RawPath
	}
	return r2
}

// stripped reports whether r's path is a strict end of the path it was
// sent with, as when a handler in front of this one (http.StripPrefix)
// took a prefix off.
func stripped(r *http.Request) bool {
	if r.RequestURI == "" {
		return false
	}
	u, err := url.ParseRequestURI(r.RequestURI)
	return err == nil && len(u.Path) > len(r.URL.Path) && strings.HasSuffix(u.Path, r.URL.Path)
}

// cleanPath reports whether u's path is one the handler's router takes as
// it is: no empty, "." or ".." segment (also percent-encoded) and no
// encoded slash or backslash. No page of the dashboard has such a path,
// and the router would answer one with a redirect to a path it cleaned
// without knowing the prefix.
func cleanPath(u *url.URL) bool {
	raw := strings.ToLower(u.EscapedPath())
	if strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") {
		return false
	}
	segs := strings.Split(u.Path, "/")
	for i, seg := range segs {
		last := i == len(segs)-1
		switch {
		case i == 0 && seg == "":
		case seg == "" && last: // a trailing slash
		case seg == "", seg == ".", seg == "..":
			return false
		}
	}
	return true
}

// checkQuery returns what is wrong with a raw query, or "": it must parse,
// name each parameter at most once (API.md promises 400 for a repeated
// one; which of two values counts would otherwise depend on the reader)
// and keep names and values within maxParamLen bytes.
func checkQuery(raw string) string {
	if raw == "" {
		return ""
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		return "malformed query string"
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name := k
		if len(name) > 64 {
			name = name[:64] + "..."
		}
		switch {
		case len(k) > maxParamLen:
			return "parameter name too long"
		case len(v[k]) > 1:
			return fmt.Sprintf("%s: given more than once", name)
		case len(v[k][0]) > maxParamLen:
			return fmt.Sprintf("%s: too long", name)
		}
	}
	return ""
}

// base returns the relative path from the page at p (a path relative to the
// prefix, starting with "/") back to the prefix: "./" or a series of "../".
func base(p string) string {
	n := strings.Count(p, "/") - 1
	if n <= 0 {
		return "./"
	}
	return strings.Repeat("../", n)
}

// newNonce returns a fresh random CSP nonce.
func newNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// isAPI reports whether p (relative to the prefix) is a JSON API path.
func isAPI(p string) bool { return strings.HasPrefix(p, "/api/") }

// fail reports an error: JSON for the API, a short HTML page otherwise. Only
// messages the handler wrote itself reach the client, escaped, and the
// error of a store whose server is away ([store.ErrUnavailable]), which
// api/health shows too.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if isAPI(r.URL.Path) {
		writeJSON(w, code, map[string]string{"error": msg})
		return
	}
	h.failPage(w, r, code, msg, nil)
}

// refuse answers a request the authorizer refused, as fail does, but its
// page does not link back to the dashboard, which would refuse the same.
// why, if not "", is which of the default authorizer's checks the request
// failed (msg being forbidden).
func (h *handler) refuse(w http.ResponseWriter, r *http.Request, code int, msg, why string) {
	if isAPI(r.URL.Path) {
		if why != "" {
			msg += " This request was refused because " + why + "."
		}
		writeJSON(w, code, map[string]string{"error": msg})
		return
	}
	h.writeErrorPage(w, r, errorView{Code: code, Message: msg, Refused: true, LocalOnly: msg == forbidden, Why: why})
}

// failPage writes fail's HTML page, with the store's condition when sh is
// not nil.
func (h *handler) failPage(w http.ResponseWriter, r *http.Request, code int, msg string, sh *store.Health) {
	h.writeErrorPage(w, r, errorView{Code: code, Message: msg, Store: sh})
}

// writeErrorPage writes an error page; it fills v's page fields and status.
func (h *handler) writeErrorPage(w http.ResponseWriter, r *http.Request, v errorView) {
	nonce := newNonce()
	w.Header().Set("Content-Security-Policy", pageCSP(nonce))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", noStore)
	w.WriteHeader(v.Code)
	v.pageMeta = pageMeta{Base: base(r.URL.Path), Nonce: nonce, Title: http.StatusText(v.Code), Page: "error"}
	if v.Refused {
		v.Inline = h.assets.inline()
	}
	v.Status = http.StatusText(v.Code)
	_ = h.pages.errorPage.Execute(w, v)
}

// storeError maps a store error to a response.
func (h *handler) storeError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrInvalidCursor):
		// The only cursor the handlers give a store is the before
		// parameter (their own paging passes the store's Next on).
		c := r.URL.Query().Get("before")
		if len(c) > 64 { // longer than any store's (48 hex digits)
			c = c[:64] + "..."
		}
		h.fail(w, r, http.StatusBadRequest, fmt.Sprintf(
			"before %q: not a cursor this store gives: pass the next of a previous page, unchanged", c))
	case errors.Is(err, store.ErrInvalidQuery):
		h.fail(w, r, http.StatusBadRequest, err.Error())
	case errors.Is(err, store.ErrNotFound):
		h.fail(w, r, http.StatusNotFound, "record not found")
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		h.fail(w, r, http.StatusServiceUnavailable, "request cancelled")
	case errors.Is(err, store.ErrClosed):
		h.fail(w, r, http.StatusServiceUnavailable, "store closed")
	case errors.Is(err, store.ErrUnavailable):
		// The store's server is away: its error (which api/health shows
		// too) says why, and the request may succeed later.
		h.cfg.logger.Warn("appstats ui: store unavailable", "path", r.URL.Path, "err", err)
		h.storeFail(w, r, http.StatusServiceUnavailable, "store unavailable: "+err.Error())
	case errors.Is(err, store.ErrNewerVersion):
		h.cfg.logger.Error("appstats ui: store failed", "path", r.URL.Path, "err", err)
		h.storeFail(w, r, http.StatusInternalServerError, "stored data "+store.ErrNewerVersion.Error()+": upgrade this dashboard's appstats (a fleet upgraded one instance at a time: the dashboard's first)")
	default:
		h.cfg.logger.Error("appstats ui: store failed", "path", r.URL.Path, "err", err)
		h.storeFail(w, r, http.StatusInternalServerError, "store error")
	}
}

// getError answers the error of the store's Get of record id. A record
// whose stored data is damaged ([store.ErrCorrupt], not of a newer version:
// its value, or what would locate it, does not decode) is the server's
// data at fault, not the request: 500, with a message that says so and
// names the record (the store's error, with what is wrong, goes to the
// log). badgerstore's error says [store.ErrNotFound] too (its reads skip
// such a record as missing), redisstore's not: both are answered so. Other
// errors are storeError's.
func (h *handler) getError(w http.ResponseWriter, r *http.Request, id recording.ID, err error) {
	if errors.Is(err, store.ErrCorrupt) && !errors.Is(err, store.ErrNewerVersion) {
		h.cfg.logger.Error("appstats ui: stored record damaged", "path", r.URL.Path, "id", id.String(), "err", err)
		h.storeFail(w, r, http.StatusInternalServerError, "record "+id.String()+
			": its stored data is damaged and cannot be read (the store skips it and counts it in api/health; this server's log says what is wrong)")
		return
	}
	h.storeError(w, r, err)
}

// storeFail answers a store's failure as fail does; a page also says
// what the store reports, as the dashboard's health panel would, since
// the dashboard cannot be shown.
func (h *handler) storeFail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if hr, ok := h.st.(store.HealthReporter); ok && !isAPI(r.URL.Path) {
		sh := hr.Health()
		h.failPage(w, r, code, msg, &sh)
		return
	}
	h.fail(w, r, code, msg)
}

// render executes a page template into a buffer, then writes it, so that a
// template error is reported before any byte of the body.
func (h *handler) render(w http.ResponseWriter, r *http.Request, t *template.Template, name string, nonce string, data any) {
	buf := h.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 4<<20 {
			h.bufs.Put(buf)
		}
	}()
	if err := t.ExecuteTemplate(buf, name, data); err != nil {
		h.cfg.logger.Error("appstats ui: rendering failed", "template", name, "err", err)
		h.fail(w, r, http.StatusInternalServerError, "rendering failed")
		return
	}
	if nonce != "" {
		w.Header().Set("Content-Security-Policy", pageCSP(nonce))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", noStore)
	_, _ = w.Write(buf.Bytes())
}

// clear deletes every record (POST).
func (h *handler) clear(w http.ResponseWriter, r *http.Request) {
	if err := h.st.Clear(r.Context()); err != nil {
		h.storeError(w, r, err)
		return
	}
	h.cfg.logger.Info("appstats ui: store cleared", "remote", r.RemoteAddr)
	if h.cfg.live != nil {
		h.cfg.live.notify(0, recording.ID{}, false)
	}
	h.afterPost(w, r)
}

func (h *handler) pause(w http.ResponseWriter, r *http.Request)  { h.setPaused(w, r, true) }
func (h *handler) resume(w http.ResponseWriter, r *http.Request) { h.setPaused(w, r, false) }

func (h *handler) setPaused(w http.ResponseWriter, r *http.Request, p bool) {
	if h.cfg.rec == nil {
		h.fail(w, r, http.StatusNotFound, "no recorder is attached to this dashboard")
		return
	}
	h.cfg.rec.SetPaused(p)
	h.cfg.logger.Info("appstats ui: recording paused", "paused", p, "remote", r.RemoteAddr)
	h.afterPost(w, r)
}

// afterPost answers a successful POST: 204 for scripts (they send
// Accept: application/json), otherwise a redirect back to the dashboard.
func (h *handler) afterPost(w http.ResponseWriter, r *http.Request) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	// A relative Location resolves against the URL the browser asked for,
	// whatever prefix the handler is mounted at.
	w.Header().Set("Location", "./")
	w.WriteHeader(http.StatusSeeOther)
}
