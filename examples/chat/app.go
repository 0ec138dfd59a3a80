package main

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	_ "modernc.org/sqlite" // the "sqlite" driver

	"github.com/goappstats/appstats"
	"github.com/goappstats/appstats/middleware/sqlstats"
)

// static holds the page's script and style.
//
//go:embed static
var static embed.FS

//go:embed index.html
var indexHTML string

var page = template.Must(template.New("index").Parse(indexHTML))

// Bounds of a comment.
const (
	maxName   = 40
	maxText   = 500
	listLimit = 20
)

// app is the web app: a page of the latest comments with a form, the
// comments as JSON for the browsers' fetch, and the dashboard.
type app struct {
	as       *appstats.Appstats
	db       *sql.DB
	hubURL   string         // http://host:port the app calls the push hub at
	hubPort  string         // the hub's port, which pages connect to
	appPort  string         // the app's own port (see hubWS)
	hubToken string         // what the hub's POST /notify asks for
	trusted  []netip.Prefix // the proxies whose X-Forwarded-Proto the app believes (-trusted-proxy)
	client   *http.Client
	log      *slog.Logger
}

// newApp opens the comments' database (the SQLite file dbPath, created if
// missing) through sqlstats, so that its statements are calls of the
// requests that make them. The app notifies the hub at hubURL
// (http://host:port) with token, and sends browsers to the hub's port.
// Requests from the proxies trusted may say the page was served over TLS
// (X-Forwarded-Proto: https).
func newApp(as *appstats.Appstats, dbPath, hubURL, token string, trusted []netip.Prefix, logger *slog.Logger) (*app, error) {
	u, err := url.Parse(hubURL)
	if err != nil || u.Port() == "" {
		return nil, fmt.Errorf("the hub's URL %q has no port", hubURL)
	}
	db, err := sqlstats.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)", sqlstats.WithSystem("sqlite"))
	if err != nil {
		return nil, err
	}
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS comments (
		id INTEGER PRIMARY KEY AUTOINCREMENT,
		name TEXT NOT NULL,
		text TEXT NOT NULL,
		created INTEGER NOT NULL)`); err != nil {
		db.Close()
		return nil, fmt.Errorf("create comments table: %w", err)
	}
	return &app{
		as:       as,
		db:       db,
		hubURL:   hubURL,
		hubPort:  u.Port(),
		hubToken: token,
		trusted:  trusted,
		client:   &http.Client{Transport: as.Transport(nil), Timeout: 2 * time.Second},
		log:      logger,
	}, nil
}

func (a *app) close() error { return a.db.Close() }

// handler returns the app's routes, recorded by appstats, with the
// dashboard at /stats/.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.index)
	mux.HandleFunc("GET /comments", a.list)
	// A form of another site may not post in a user's name (a browser says
	// where a request comes from: Sec-Fetch-Site, Origin).
	mux.Handle("POST /comments", http.NewCrossOriginProtection().Handler(http.HandlerFunc(a.post)))
	mux.Handle("GET /static/", http.FileServerFS(static))
	mux.Handle("/stats/", a.as.UI())
	return a.as.Middleware(mux)
}

// A comment as the page and GET /comments show it.
type comment struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Text    string    `json:"text"`
	Created time.Time `json:"created"`
}

// latest reads the newest comments, newest first.
func (a *app) latest(ctx context.Context) ([]comment, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT id, name, text, created FROM comments ORDER BY id DESC LIMIT ?`, listLimit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []comment{}
	for rows.Next() {
		var c comment
		var created int64
		if err := rows.Scan(&c.ID, &c.Name, &c.Text, &created); err != nil {
			return nil, err
		}
		c.Created = time.UnixMilli(created).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// securityHeaders lets the page load only its own script and style, and
// connect only to itself and to the hub's websocket at hubWS.
func (a *app) securityHeaders(w http.ResponseWriter, hubWS string) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self' "+hubWS+"; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
}

// wsURL is the hub's websocket endpoint at the address the app calls it
// at: the one a browser on this machine connects to.
func (a *app) wsURL() string { return "ws" + strings.TrimPrefix(a.hubURL, "http") + "/ws" }

// hubWS is the hub's websocket endpoint for a page served as r: the host
// the browser asked for (r.Host), on the hub's port — not the address the
// hub listens on, which with -hub :8091 is [::]:8091, where no browser
// connects. It is "" when r.Host is not a host name or an IP address.
// It is wss:// for a page served over TLS: by the app (it serves none), or
// by a proxy the operator trusts (-trusted-proxy) that says so with
// X-Forwarded-Proto: https — a browser refuses a ws:// connection from an
// https page. Anyone else's X-Forwarded-Proto is not believed.
//
// Through a trusted proxy that names the host the browser asked for in
// X-Forwarded-Host (see forwardedHost), that host is the page's: on the
// hub's port when the proxy serves the page on the app's own port (the
// proxy keeps the chat's ports), and otherwise at the page's own origin,
// scheme://host[:port]/ws, where a proxy on other ports is to pass /ws on
// to the hub.
func (a *app) hubWS(r *http.Request) string {
	host := hostname(r.Host)
	if host == "" {
		return ""
	}
	scheme := "ws://"
	viaProxy := trusted(a.trusted, remoteIP(r.RemoteAddr))
	https := r.TLS != nil || viaProxy && forwardedHTTPS(r.Header)
	if https {
		scheme = "wss://"
	}
	if viaProxy {
		if fh, fp, ok := forwardedHost(r.Header); ok {
			if fp == a.appPort {
				return scheme + net.JoinHostPort(fh, a.hubPort) + "/ws"
			}
			return scheme + originHost(fh, fp, https) + "/ws"
		}
	}
	return scheme + net.JoinHostPort(host, a.hubPort) + "/ws"
}

// forwardedHost returns the host and port a trusted proxy says the
// browser asked for: the first value of X-Forwarded-Host, a host name or
// an IP address with an optional port and nothing else, and its port, or
// else X-Forwarded-Port's (its first value, a port number; "" when none
// is valid). ok is false when X-Forwarded-Host is missing or not so: the
// headers are then ignored. The caller checks that the request came from
// a proxy it trusts.
func forwardedHost(hd http.Header) (host, port string, ok bool) {
	v, _, _ := strings.Cut(hd.Get("X-Forwarded-Host"), ",")
	v = strings.TrimSpace(v)
	if v == "" || len(v) > 260 {
		return "", "", false
	}
	host = v
	if h, p, err := net.SplitHostPort(v); err == nil {
		if !validPort(p) {
			return "", "", false
		}
		host, port = h, p
	} else if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
		host = v[1 : len(v)-1]
	}
	if strings.ContainsAny(host, "[]") {
		return "", "", false
	}
	if host = hostname(host); host == "" {
		return "", "", false
	}
	if port == "" {
		p, _, _ := strings.Cut(hd.Get("X-Forwarded-Port"), ",")
		if p = strings.TrimSpace(p); validPort(p) {
			port = p
		}
	}
	return host, port, true
}

// validPort reports whether p is a port number, 1 to 65535, in decimal.
func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}

// originHost is host with port as an origin writes it: without the
// port when it is none, or the scheme's default (443 for https, 80 for
// http).
func originHost(host, port string, https bool) string {
	if port == "" || https && port == "443" || !https && port == "80" {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, port)
}

// forwardedHTTPS reports whether X-Forwarded-Proto says https: its first
// value, the scheme the client used with the first proxy.
func forwardedHTTPS(hd http.Header) bool {
	first, _, _ := strings.Cut(hd.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(first), "https")
}

// hostname returns the host of a Host header (without its port; an IPv6
// address without brackets), or "" when it is neither a DNS name nor an IP
// address: it goes into the page and its Content-Security-Policy.
func hostname(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return ""
		}
		return ip.String()
	}
	if host == "" || len(host) > 253 {
		return ""
	}
	for _, c := range host {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return ""
		}
	}
	return strings.ToLower(host)
}

func (a *app) index(w http.ResponseWriter, r *http.Request) {
	hub := a.hubWS(r)
	if hub == "" {
		http.Error(w, "the request's Host is not a host name or an IP address", http.StatusBadRequest)
		return
	}
	cs, err := a.latest(r.Context())
	if err != nil {
		a.log.Error("chat: list comments", "err", err)
		http.Error(w, "the comments cannot be read now", http.StatusInternalServerError)
		return
	}
	a.securityHeaders(w, hub)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := page.Execute(w, struct {
		Comments []comment
		Hub      string
	}{cs, hub}); err != nil {
		a.log.Warn("chat: render page", "err", err)
	}
}

// list serves GET /comments, the browsers' fetch after "UPDATED".
func (a *app) list(w http.ResponseWriter, r *http.Request) {
	cs, err := a.latest(r.Context())
	if err != nil {
		a.log.Error("chat: list comments", "err", err)
		http.Error(w, "the comments cannot be read now", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(cs)
}

// post saves a comment, notifies the hub and redirects to the page.
func (a *app) post(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		// Without this, a form over the bound read as empty, and was
		// refused as "a comment needs a name and a text".
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, fmt.Sprintf("the form is too large: a comment has at most %d characters, a name %d", maxText, maxName),
				http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "the form cannot be read: "+err.Error(), http.StatusBadRequest)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	text := strings.TrimSpace(lineBreaks.Replace(r.PostFormValue("text")))
	if msg := validate(name, text); msg != "" {
		http.Error(w, msg, http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	if _, err := a.db.ExecContext(ctx, `INSERT INTO comments (name, text, created) VALUES (?, ?, ?)`,
		name, text, time.Now().UnixMilli()); err != nil {
		a.log.Error("chat: save comment", "err", err)
		http.Error(w, "the comment could not be saved", http.StatusInternalServerError)
		return
	}
	// The comment is saved: a hub that is down only delays the others'
	// view of it until they reconnect.
	if err := a.notify(ctx); err != nil {
		a.log.Warn("chat: notify the hub", "err", err)
	}
	http.Redirect(w, r, "./", http.StatusSeeOther)
}

// lineBreaks turns a form's line breaks into LF: a browser sends each as
// CR LF, and counts it as one character against the textarea's maxlength,
// as validate does once it is LF.
var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// validate returns why a comment is refused, or "".
func validate(name, text string) string {
	switch {
	case name == "" || text == "":
		return "a comment needs a name and a text"
	case !utf8.ValidString(name) || !utf8.ValidString(text):
		return "a comment must be UTF-8 text"
	case utf8.RuneCountInString(name) > maxName:
		return fmt.Sprintf("a name has at most %d characters", maxName)
	case utf8.RuneCountInString(text) > maxText:
		return fmt.Sprintf("a comment has at most %d characters", maxText)
	}
	return ""
}

// notify tells the hub that the comments changed, with the request's
// context, so that the call is recorded in the request's record and the
// hub's record joins its trace. It is a POST with the hub's token (which
// appstats records as [REDACTED], as it does any Authorization header). As
// in the original, where the webhook was a GET, the URL carries a
// time-stamp, so that no cache on the way answers it.
func (a *app) notify(ctx context.Context) error {
	u := a.hubURL + "/notify?t=" + strconv.FormatInt(time.Now().UnixNano(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.hubToken)
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK {
		return errors.New("hub answered " + resp.Status)
	}
	return nil
}
