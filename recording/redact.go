package recording

import (
	"net/url"
	"strings"
	"unsafe"

	"github.com/goappstats/appstats/internal/convention"
)

// Redacted ("[REDACTED]") replaces a value that redaction hid. It is written
// as it is in every output — records, the dashboard's JSON API, exported
// spans — and never percent-encoded, so that it reads the same in a query
// string as anywhere else. (The exporter writes url.full and url.query with
// OpenTelemetry's "REDACTED" instead, as the conventions ask.)
const Redacted = convention.Redacted

// Redaction says which recorded values are hidden. The zero value hides
// nothing; [DefaultRedaction] is what a [Recorder] uses unless told otherwise.
//
// A Recorder applies its Redaction twice: wrappers redact what they know the
// meaning of as they record it (a URL, SQL arguments), and the recorder's
// background writer redacts every record before any sink sees it — the
// request's query string ([Redaction.Query]), headers, paths, routes, call
// names, request and response summaries, attributes and error messages
// ([Redaction.Text], [Redaction.Error]) — so that nothing a wrapper missed
// reaches a store or an exporter.
type Redaction struct {
	// Headers are header names (any case) whose values are replaced by
	// [Redacted], whatever the words in their names — in a record's
	// headers, and where a text quotes such a header
	// ("X-Functions-Key: …", curl's -H '…', a header map printed by fmt;
	// see [Redaction.Text]).
	Headers []string
	// Params are secret words: a query parameter, header, SQL argument or
	// attribute whose name holds one as a word has its value replaced, and
	// so has a "name=value" written in any recorded text. Names are split
	// into words at punctuation, between camelCase words and between letters
	// and digits, so "token" hides access_token, X-Auth-Token and
	// accessToken; a word of five letters or more also matches as the end
	// of a longer word (csrftoken) and spelled over several words ("apikey"
	// hides api_key and apiKey). Short words match whole words only: "auth"
	// hides X-Auth-Token but not author or :authority.
	Params []string
	// Values hides values that look secret whatever their name: JSON Web
	// Tokens, card numbers, social security numbers, e-mail addresses, long
	// random-looking tokens (see [Redaction.SecretValue]), in query values,
	// paths, summaries, headers, attributes and SQL arguments.
	Values bool
	// Errors replaces the quoted fragments of recorded error messages —
	// drivers and servers quote the values they reject, as SQLite's
	// near "'hunter2'": syntax error does — by [Redacted]. Set it to false
	// to keep error messages as they are (they are still redacted like any
	// text: URLs, secret names' values and, with Values, secret-looking
	// values).
	Errors bool

	rules *convention.Rules // compiled from Params, Values and Headers, if they have not changed since…
	fixed bool              // …unless a Recorder compiled them for its own copy, which never changes
}

// DefaultRedaction hides credentials and personal data: the Authorization,
// Cookie, Set-Cookie and Proxy-Authorization headers (and common token
// headers); names holding one of the words password, passwd, pwd, pw, pass,
// passphrase, secret, token, auth, authorization, credential, cred, apikey,
// accesskey, private, ssn, pin, card, creditcard, cc, cvv, cvc, session,
// sessionid, sessid, cookie, signature, sig, jwt, otp, bearer, cert,
// certificate, email, csrf, xsrf, assertion, samlresponse and codeverifier;
// a query parameter named key (an API key's usual name in a URL) or
// subscription-key (Azure API Management's); OAuth authorization codes
// ("code="); values that look secret; and the quoted fragments of error
// messages.
func DefaultRedaction() Redaction {
	r := Redaction{
		Headers: []string{"Authorization", "Cookie", "Set-Cookie", "Proxy-Authorization", "X-Api-Key", "X-Auth-Token", "X-Csrf-Token",
			"Ocp-Apim-Subscription-Key", "X-Functions-Key"},
		Params: convention.DefaultSecretWords(),
		Values: true,
		Errors: true,
	}
	r.rules = r.newRules()
	return r
}

// compile prepares the rules once, for a Recorder's own copy.
func (r *Redaction) compile() {
	r.rules = r.newRules()
	r.fixed = true
}

// compiled returns the rules of r (nil hides nothing): those compiled
// before, unless Params, Values or Headers changed since.
func (r *Redaction) compiled() *convention.Rules {
	switch {
	case r == nil:
		return nil
	case r.rules != nil && (r.fixed || r.rules.For(r.Params, r.Values, r.Headers)):
		return r.rules
	}
	return r.newRules()
}

// newRules compiles r's Params, Values and Headers into the rules its
// methods apply.
func (r *Redaction) newRules() *convention.Rules {
	return convention.NewRules(r.Params, r.Values).WithHeaders(r.Headers)
}

// empty reports whether r hides nothing at all.
func (r *Redaction) empty() bool {
	return len(r.Headers) == 0 && len(r.Params) == 0 && !r.Values && !r.Errors
}

// SecretName reports whether a parameter called name should be hidden: it
// holds one of r.Params as a word (see [Redaction.Params]).
func (r *Redaction) SecretName(name string) bool { return r.compiled().SecretName(name) }

// SecretValue reports whether v looks like a secret whatever its name, when
// r.Values is set: a JSON Web Token; a payment card number (13 to 19 digits,
// possibly in groups, passing the Luhn check); a US social security number;
// an e-mail address; a token with a well-known prefix (sk_live_, ghp_,
// AKIA…); or a long random-looking token (20 characters or more of base64
// or base64url mixing letters and digits, or both cases, as random strings
// do). Identifiers stay readable: other numbers, UUIDs and hexadecimal
// strings (hashes, object IDs), dates, words and names in camelCase or
// snake_case. A secret written in hexadecimal is hidden only by its name.
func (r *Redaction) SecretValue(v string) bool {
	return r != nil && r.Values && convention.SecretValue(v)
}

// Query returns the raw query with the values of secret parameters
// replaced by [Redacted] (not percent-encoded), as are values that look
// secret and the secrets of URLs and query strings nested in a value. Both
// "&" and ";" separate parameters, as many servers accept either; a name
// that does not unescape is checked as it is.
func (r *Redaction) Query(raw string) string { return r.compiled().Query(raw) }

// URL returns u written out with its user information replaced by
// [Redacted] and its path, query and fragment redacted. u is not modified.
// A nil r gives u.String().
func (r *Redaction) URL(u *url.URL) string {
	if r == nil {
		return u.String()
	}
	return r.compiled().URL(u)
}

// Text returns a free text — a header value, a summary, a path — with its
// secrets replaced by [Redacted]: the user information and secret
// parameters of URLs and query strings found anywhere in it, the value of
// any secret name (or name of r.Headers) written "name=value",
// name:"value", "name": value, as fmt
// prints a struct's or map's field ({Password:hunter2},
// map[token:abc]) or as a header line ("Cookie: sid=…"; after
// "password: " a plain word too), a struct printed with %v without its
// fields' names after a secret name or a login word ("login {bob
// hunter2}: denied"), the credential after an Authorization scheme
// ("Bearer <token>", "Basic <base64>"), Redis' AUTH arguments and its
// other commands' secrets (HSET's secret fields, CONFIG SET requirepass,
// ACL SETUSER's ">password"), a pair that names a secret apart from its
// value ({"name":"DB_PASSWORD","value":"…"}), the
// passwords of connection strings (Oracle's "scott/tiger@orcl", JDBC,
// ODBC), an OAuth authorization code, and, with r.Values, every word that
// looks secret. Counts of secret things ("api.tokens=12") stay.
func (r *Redaction) Text(s string) string { return r.compiled().Text(s) }

// Error returns an error message redacted for storage: with r.Errors, its
// quoted fragments replaced by [Redacted]; then redacted as a text
// ([Redaction.Text]).
func (r *Redaction) Error(msg string) string {
	if msg == "" || r == nil {
		return msg
	}
	if r.Errors {
		msg = convention.ScrubError(msg)
	}
	return r.compiled().Text(msg)
}

// Header returns a copy of h with the values of redacted headers replaced,
// and the other values redacted as texts ([Redaction.Text]). A nil h gives
// nil.
func (r *Redaction) Header(h map[string][]string) map[string][]string {
	if h == nil {
		return nil
	}
	// One backing array for all the values, as http.Header.Clone does: two
	// allocations whatever the number of headers.
	n := 0
	for _, vs := range h {
		n += len(vs)
	}
	all := make([]string, n)
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		if vs == nil {
			out[k] = nil
			continue
		}
		dst := all[:len(vs):len(vs)]
		all = all[len(vs):]
		copy(dst, vs)
		out[k] = r.headerValues(k, dst, r.secretHeader(k))
	}
	return out
}

// headerValues redacts vs, a copy the caller owns, in place: every value of
// a secret header, and the secrets found in the others (a Referer's query,
// an X-Original-URL's token).
func (r *Redaction) headerValues(_ string, vs []string, secret bool) []string {
	s := scrubber{rules: r.compiled()}
	return s.headerValues(vs, secret)
}

// secretHeader reports whether a header is hidden: it is listed, or its
// name holds a secret word the way a parameter's does (X-Access-Token,
// Private-Token, X-Amz-Security-Token…). Header names compare
// case-insensitively, so name need not be canonical.
func (r *Redaction) secretHeader(name string) bool {
	for _, h := range r.Headers {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return r.SecretName(name)
}

// scrubber redacts finished records and their calls, as the recorder's
// writer does before any sink sees them: rules are the redaction's compiled
// rules, secret reports whether an attribute key is secret, and clean, when
// set, remembers the texts the rules leave unchanged (the writer's cache,
// see cleanTexts; nil in any other goroutine).
type scrubber struct {
	red    *Redaction
	rules  *convention.Rules
	secret func(string) bool
	// kind, when set (the writer's), tells at once whether an attribute
	// key is secret, a count or db.query.text, from a cache.
	kind  func(string) keyKind
	clean *cleanTexts
	// queries remembers the query strings the rules leave unchanged, and
	// query is rules.Query; both are set with clean.
	queries *cleanTexts
	query   func(string) string
	// ua is the request's User-Agent value as headerMap met it, and uaRed
	// its redaction, for the record's user_agent.original (the same
	// string, see httpstats): one redaction, one hash at most, for both.
	// prepare empties them once the record is redacted, so that they hold
	// no request's string longer.
	ua, uaRed string
	// uaPlain says user_agent.original's values are redacted as texts:
	// its key is neither secret, a count nor db.query.text (the
	// recorder's redaction never changes).
	uaPlain bool
}

// text returns s redacted as a text.
func (s *scrubber) text(t string) string {
	if s.clean == nil || t == "" {
		return s.rules.Text(t)
	}
	return s.clean.textHashed(s.rules, t)
}

// name is text for the texts that are mostly constants of the code that
// recorded them — a route, a call's method, an attribute's value — which
// the writer's cache also finds, and holds, by their address (see
// cleanTexts). Texts that are parts of what a client or a peer sent — the
// path and query, header values, summaries, errors — are redacted with
// text, looked up by their hash alone: holding one could keep alive the
// larger string it was cut from, and a fresh string a request would never
// be found by its address anyway.
func (s *scrubber) name(t string) string {
	if s.clean == nil || t == "" {
		return s.rules.Text(t)
	}
	if _, ok := s.clean.recentSlot(t); ok {
		return t // known clean by its address
	}
	return s.clean.text(s.rules, t)
}

// requestText is text for an attribute's value that is a request's own
// text (user_agent.original, see keyRequest): looked up by its hash alone,
// never held by its address, or taken from headerMap's redaction of the
// same string.
func (s *scrubber) requestText(t string) string {
	if len(t) == len(s.ua) && unsafe.StringData(t) == unsafe.StringData(s.ua) {
		return s.uaRed
	}
	return s.text(t)
}

// noteUserAgent remembers red, the redaction of v, the value of the
// request's User-Agent header, for requestText.
func (s *scrubber) noteUserAgent(v, red string) { s.ua, s.uaRed = v, red }

// forgetUserAgent empties what noteUserAgent remembered.
func (s *scrubber) forgetUserAgent() { s.ua, s.uaRed = "", "" }

// error returns an error message redacted as [Redaction.Error] does.
func (s *scrubber) error(msg string) string {
	if msg == "" {
		return msg
	}
	if s.red.Errors {
		msg = convention.ScrubError(msg)
	}
	return s.text(msg)
}

// headerValues redacts vs, a copy the caller owns, in place, as
// [Redaction.headerValues] does.
func (s *scrubber) headerValues(vs []string, secret bool) []string {
	if secret {
		for i := range vs {
			vs[i] = Redacted
		}
		return vs
	}
	for i, v := range vs {
		vs[i] = s.text(v)
	}
	return vs
}

// scrubber returns the redaction of r's writer goroutine, with its caches:
// the texts redaction leaves unchanged, the secret header names and
// attribute keys.
func (r *Recorder) scrubber() *scrubber { return &r.writerScrub }

// otherScrubber returns r's redaction for goroutines other than the
// writer: without the writer's caches.
func (r *Recorder) otherScrubber() *scrubber {
	red := &r.cfg.redaction
	return &scrubber{red: red, rules: red.compiled(), secret: red.secretHeader}
}

// scrub redacts a finished record before the sinks see it: its path, route,
// errors and attributes, and its calls' names, summaries, errors and
// attributes. Headers are redacted by headerMap. The request summary of an
// SQL call, normalized by the wrapper that recorded it (it is also the
// call's db.query.text), holds no literal and is left as it is. It runs in
// the writer goroutine, which owns the record.
func (r *Recorder) scrub(rec *Record) { r.scrubber().record(rec) }

// record redacts rec in place, as [Recorder.scrub] describes.
func (s *scrubber) record(rec *Record) {
	// The query, as the server wrapper that set it left it to the writer.
	// The path and the query are parts of the request's URI, which they
	// would keep alive: they are looked up by their hash alone, never
	// held by their address (see cleanTexts), or found equal to the text
	// last seen clean under the record's route (see cleanTexts.byRoute).
	if s.red.empty() {
		if rec.Query != "" {
			rec.Query = s.redactQuery(rec.Query)
		}
		return
	}
	// s.name(rec.Route), its common case here: a route known clean by
	// its address (recentSlot, inlined), without name's call.
	route := rec.Route
	if s.clean == nil || route == "" {
		route = s.name(route)
	} else if _, ok := s.clean.recentSlot(route); !ok {
		route = s.clean.text(s.rules, route)
	}
	if s.clean != nil && route != "" && unsafe.StringData(route) == unsafe.StringData(rec.Route) {
		// The route is clean, held by its address: the path and the
		// query are looked up in its slots first. Mostly both are the
		// texts the slots hold (found clean by their bytes, and left
		// as they are), told here with one place computed for both.
		if !sameByRoute(s.clean, s.queries, rec.Path, rec.Query, route) {
			rec.Path = s.clean.path(s.rules, rec.Path, route)
			if rec.Query != "" {
				rec.Query = s.queries.byRoute(s.query, rec.Query, route)
			}
		}
	} else {
		rec.Path = s.text(rec.Path)
		if rec.Query != "" {
			rec.Query = s.redactQuery(rec.Query)
		}
	}
	rec.Route = route
	if rec.Error != "" {
		rec.Error = s.error(rec.Error)
	}
	if rec.Panic != "" {
		rec.Panic = s.error(rec.Panic)
	}
	if s.clean != nil {
		s.attrsAt(rec.Attrs, s.clean.last[:])
	} else {
		s.attrs(rec.Attrs)
	}
	if len(rec.Calls) > 0 {
		s.calls(rec.Calls)
	}
}

// calls redacts a record's calls in place, as scrub does. Most calls
// carry a method name found clean by its address and nothing else to
// redact (no summaries, error nor attributes): they are passed over
// without a call for each text; a method in the very memory of the one
// before it (a loop) without a look-up (see cleanRun).
func (s *scrubber) calls(calls []Call) {
	var clean *byte // the method of the last call passed over: its bytes
	cleanLen := 0   // and its length
	for i := 0; i < len(calls); i++ {
		// No run before a call was passed over (a record whose calls all
		// carry texts to redact: cleanRun's call would find none, or only
		// calls of an empty method with nothing else, which the test below
		// passes over as well).
		if clean != nil {
			if i += cleanRun(calls[i:], clean, cleanLen); i == len(calls) {
				return
			}
		}
		c := &calls[i]
		if len(c.Request)|len(c.Response)|len(c.Error)|len(c.Attrs) == 0 && s.knownClean(c.Method) {
			clean, cleanLen = unsafe.StringData(c.Method), len(c.Method)
			continue
		}
		if s.clean != nil && i < len(s.clean.calls) {
			s.callAt(c, &s.clean.calls[i])
			continue
		}
		s.call(c)
	}
}

// callAt is call for one of the writer's record's first maxLastCalls
// calls, with last what the writer's cache remembers of the call at its
// place in the records before (see lastCall): a method, a summary or an
// attribute equal to the one remembered there is left as it is without
// a look-up.
func (s *scrubber) callAt(c *Call, last *lastCall) {
	if c.Method != "" && (unsafe.StringData(c.Method) != unsafe.StringData(last.method) || len(c.Method) != len(last.method)) {
		m := s.name(c.Method)
		if m == c.Method {
			last.method = m // held by its address, as name holds it
		}
		c.Method = m
	}
	if c.Request != "" && c.Request != last.request && c.Request != c.Attr(convention.KeyDBQueryText) {
		var held string
		c.Request, held = s.textHeld(c.Request)
		if held != "" {
			last.request = held
		}
	}
	if c.Response != "" {
		c.Response = s.text(c.Response)
	}
	if c.Error != "" {
		c.Error = s.error(c.Error)
	}
	if len(c.Attrs) > 0 {
		s.attrsAt(c.Attrs, last.attrs[:])
	}
}

// textHeld is text for the writer (s.clean set), and also returns the
// copy the cache holds of t when redaction leaves t as it is and the
// cache holds it (else "").
func (s *scrubber) textHeld(t string) (string, string) {
	if len(t) < 6 { // see textHashed
		return s.rules.Text(t), ""
	}
	return s.clean.redactHeld(s.rules.Text, t)
}

// cleanRun returns how many of the calls at the start of calls have
// nothing to redact but a method in the very memory of clean (its bytes)
// and of length n: no summaries, error nor attributes. It is calls' loop
// over a run of calls like the one before (a loop), in a function of its
// own, kept from being inlined, that calls nothing, so that its variables
// stay in registers; a call's four other texts are checked with one test
// of their lengths together.
//
//go:noinline
func cleanRun(calls []Call, clean *byte, n int) int {
	i := 0
	for ; i < len(calls); i++ {
		c := &calls[i]
		if len(c.Request)|len(c.Response)|len(c.Error)|len(c.Attrs) != 0 ||
			unsafe.StringData(c.Method) != clean || len(c.Method) != n {
			break
		}
	}
	return i
}

// sameAttrWords reports whether a and l have the same key and value
// addresses and lengths: their four words are equal (Attr and cleanAttr
// are both two strings, checked below as the package compiles).
func sameAttrWords(a *Attr, l *cleanAttr) bool {
	x, y := (*[4]uintptr)(unsafe.Pointer(a)), (*[4]uintptr)(unsafe.Pointer(l))
	return (x[0]^y[0])|(x[1]^y[1])|(x[2]^y[2])|(x[3]^y[3]) == 0
}

// Each index is a constant out of range, and so fails to compile, unless
// Attr and cleanAttr are four words each, their key first.
var (
	_ = [1]struct{}{}[unsafe.Sizeof(Attr{})-4*unsafe.Sizeof(uintptr(0))]
	_ = [1]struct{}{}[unsafe.Sizeof(cleanAttr{})-4*unsafe.Sizeof(uintptr(0))]
	_ = [1]struct{}{}[unsafe.Offsetof(Attr{}.Value)-unsafe.Offsetof(cleanAttr{}.value)]
)

// redactQuery returns a record's query, not empty, redacted as
// [Redaction.Query] does.
func (s *scrubber) redactQuery(q string) string {
	if s.queries != nil {
		return s.queries.redactHashed(s.query, q)
	}
	return s.rules.Query(q)
}

// knownClean reports whether redaction leaves t as it is, found without
// redacting it: t is empty, or the writer's cache holds it by its address
// (see cleanTexts.recentSlot). A false result says nothing.
func (s *scrubber) knownClean(t string) bool {
	if t == "" {
		return true
	}
	if s.clean == nil {
		return false
	}
	_, ok := s.clean.recentSlot(t)
	return ok
}

// call redacts a call in place, as scrub does.
func (s *scrubber) call(c *Call) {
	if c.Method != "" {
		c.Method = s.name(c.Method)
	}
	if c.Request != "" && c.Request != c.Attr(convention.KeyDBQueryText) {
		c.Request = s.text(c.Request)
	}
	if c.Response != "" {
		c.Response = s.text(c.Response)
	}
	if c.Error != "" {
		c.Error = s.error(c.Error)
	}
	if len(c.Attrs) > 0 {
		s.attrs(c.Attrs)
	}
}

// attrs redacts attributes in place: the value of an attribute whose key
// is secret (it holds a secret word, or names a redacted header), and the
// secrets in the others. db.query.text, normalized by the wrapper that
// recorded it, is left as it is, and so are the numbers of counts whose
// names hold a secret word ("gen_ai.usage.input_tokens", "api.tokens",
// "token_count"; see convention.Rules.CountName and
// convention.IsCountValue).
func (s *scrubber) attrs(attrs []Attr) { s.attrsAt(attrs, nil) }

// attrsAt is attrs for a record's own attributes, with last the
// attributes of the last record redacted so, by their places (the
// writer's cleanTexts.last): a wrapper adds a record's attributes in the
// same order every time, mostly the same constants of its code
// ("url.scheme"="http"), so an attribute in the very memory of the one in
// its place in last is left as it is, without a look-up. last[i] takes
// only an attribute attrSlot holds at the time (found, or entered, left
// as it is), and like attrSlot's entries holds its strings: the same
// addresses and lengths are the same key and value, whose redaction
// leaves them as they are. An attribute whose value is a request's own
// text (url.full) is never held by its address: last[i] takes it with
// the copy of its value the cache's table holds, once it holds one, and
// an attribute of equal bytes is left as it is (redaction is a function
// of the key and the value alone). The writer passes the last record's
// attributes here, and each of its first calls' (see lastCall).
func (s *scrubber) attrsAt(attrs []Attr, last []cleanAttr) {
	if s.kind != nil {
		n := min(len(attrs), len(last))
		for i := 0; i < len(attrs); i++ {
			// The attributes in the very memory of those in their places
			// in last, in a run (mostly all but a request's own text),
			// passed over with a comparison of their words, no branch
			// but the loop's.
			for i < n && sameAttrWords(&attrs[i], &last[i]) {
				i++
			}
			if i == len(attrs) {
				return
			}
			a := &attrs[i]
			var l *cleanAttr // the attribute in a's place in the last record
			if i < len(last) {
				l = &last[i]
				if len(a.Value) == len(l.value) && len(a.Key) == len(l.key) &&
					(unsafe.StringData(a.Value) == unsafe.StringData(l.value) || a.Value == l.value) &&
					(unsafe.StringData(a.Key) == unsafe.StringData(l.key) || a.Key == l.key) {
					// The same addresses, mostly; or the same bytes
					// (a request's own text, which l holds as a copy).
					continue
				}
			}
			if len(a.Value) == len(s.ua) && unsafe.StringData(a.Value) == unsafe.StringData(s.ua) && len(s.ua) > 0 &&
				s.uaPlain && len(a.Key) == len(convention.KeyUserAgentOriginal) &&
				(unsafe.StringData(a.Key) == unsafe.StringData(convention.KeyUserAgentOriginal) || a.Key == convention.KeyUserAgentOriginal) {
				// The request's User-Agent value, which headerMap
				// redacted as a header: no look-up at all. (The key
				// is mostly the constant itself, one string in the
				// binary: told by its data pointer, without a call
				// to compare its bytes.)
				a.Value = s.uaRed
				continue
			}
			// An attribute found left as it is, by the addresses of its
			// key and value (see cleanTexts.attrSlot), is left so.
			var e *[2]cleanAttr
			if s.clean != nil && a.Key != "" && a.Value != "" {
				// s.clean.attrSlot, inlined.
				e = s.clean.attrPair(a.Key, a.Value)
				hit := &e[0]
				if !hit.is(a.Key, a.Value) {
					if hit = &e[1]; !hit.is(a.Key, a.Value) {
						hit = nil
					}
				}
				if hit != nil {
					if l != nil {
						*l = *hit
					}
					continue
				}
			}
			v := a.Value
			switch k := s.kind(a.Key); {
			case k&keyQuery != 0:
			case k&keyCount != 0 && convention.IsCountValue(v):
			case k&keySecret != 0:
				if v != "" {
					v = Redacted
				}
			case k&keyRequest != 0:
				// A request's own text: never held by its address;
				// in its place in last, the copy the cache holds.
				if l == nil || s.clean == nil || len(v) == len(s.ua) && unsafe.StringData(v) == unsafe.StringData(s.ua) {
					a.Value = s.requestText(v)
					continue
				}
				var held string
				if a.Value, held = s.textHeld(v); held != "" {
					*l = cleanAttr{a.Key, held}
				}
				continue
			default:
				v = s.name(v)
			}
			if e != nil && v == a.Value {
				kept := keepAttr(e, cleanAttr{a.Key, a.Value})
				if l != nil {
					*l = *kept
				}
			}
			a.Value = v
		}
		return
	}
	for i := range attrs {
		a := &attrs[i]
		switch {
		case a.Key == convention.KeyDBQueryText:
		case convention.IsCountValue(a.Value) && s.rules.CountName(a.Key):
		case s.secret(a.Key):
			if a.Value != "" {
				a.Value = Redacted
			}
		default:
			a.Value = s.name(a.Value)
		}
	}
}
