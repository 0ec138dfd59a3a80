package convention

import (
	"net/url"
	"slices"
	"strings"
)

// Redacted replaces a value that redaction hid. It is written as it is
// everywhere — in queries, URLs, headers, error messages — and never
// percent-encoded.
const Redacted = "[REDACTED]"

// minLong is the length from which a secret word also matches as the end of
// a longer word ("accesstoken", "xapikey") and as a run of several words
// ("api_key", "creditCard"). Shorter secret words ("pw", "pin", "cc", "sig",
// "auth") match whole words only, so that "spin", "design" and "author" do
// not.
const minLong = 5

// maxRun bounds the bytes of a run of words compared with the secret words.
const maxRun = 64

// Rules are compiled redaction rules: which names are secret (by word), and
// whether values that look like secrets are hidden whatever their name. A
// nil *Rules hides nothing. Rules are immutable and safe for concurrent use.
type Rules struct {
	words  []string            // as given to NewRules
	exact  map[string]struct{} // normalized secret words
	long   [256][]string       // the secret words of minLong bytes or more, by their last byte
	lens   [256]uint64         // by first byte, the lengths (< 64) of the secret words: skips most lookups
	values bool
	// schemes: the credential after "Bearer " or "Basic " is hidden in
	// texts, when "Authorization" is a secret name.
	schemes bool
	// oauth: OAuth authorization codes ("code=…") are hidden, when
	// "access_token" is a secret name (see oauthCode).
	oauth bool
	// key: a query parameter named "key" is hidden, when "api_key" is a
	// secret name: it is an API key's usual name in a URL (Google's
	// ?key=…), and a key of 32 hexadecimal digits looks like a hash.
	key bool
	// headers: the names of headers hidden whole, as given to
	// WithHeaders; texts hide the values of those of them that are no
	// secret names (SecretName) too, listed in extra.
	headers, extra []string
}

// NewRules compiles secret words (matched as words, see [Rules.SecretName])
// and, if values is set, the detection of secret-looking values
// ([SecretValue]).
func NewRules(words []string, values bool) *Rules {
	r := &Rules{words: slices.Clone(words), exact: make(map[string]struct{}, len(words)), values: values}
	for _, w := range words {
		n := normalizeWord(w)
		if n == "" {
			continue
		}
		if _, dup := r.exact[n]; dup {
			continue
		}
		r.exact[n] = struct{}{}
		r.lens[n[0]] |= 1 << min(len(n), 63)
		if len(n) >= minLong {
			r.long[n[len(n)-1]] = append(r.long[n[len(n)-1]], n)
		}
	}
	r.schemes = r.SecretName("Authorization")
	r.oauth = r.SecretName("access_token")
	r.key = r.SecretName("api_key")
	return r
}

// WithHeaders returns a copy of r that also takes the names of headers
// hidden whole (a recorder's Redaction.Headers: Ocp-Apim-Subscription-Key,
// X-Functions-Key…) as secret names in texts ([Rules.Text]): their values
// are hidden where a text quotes the header ("X-Functions-Key: …", a
// header map printed by fmt, curl's -H '…'), whether or not the name holds
// a secret word. Names compare without regard to case. A nil r stays nil.
func (r *Rules) WithHeaders(names []string) *Rules {
	if r == nil {
		return nil
	}
	c := *r
	c.headers, c.extra = slices.Clone(names), nil
	for _, n := range names {
		if !r.SecretName(n) {
			c.extra = append(c.extra, n)
		}
	}
	return &c
}

// For reports whether r was compiled from these words, values flag and
// headers (see [Rules.WithHeaders]), so that a caller holding r for a
// configuration that may have changed can tell whether it is still good.
func (r *Rules) For(words []string, values bool, headers []string) bool {
	return r != nil && r.values == values && slices.Equal(r.words, words) && slices.Equal(r.headers, headers)
}

// header reports whether name is one of the headers r hides whole (see
// [Rules.WithHeaders]) whose name is no secret name.
func (r *Rules) header(name string) bool {
	for _, h := range r.extra {
		if len(h) == len(name) && strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

// normalizeWord lowercases a secret word and drops what separates its parts:
// "API key", "api_key" and "apiKey" all give "apikey".
func normalizeWord(w string) string {
	var b strings.Builder
	for i := 0; i < len(w); i++ {
		if c := w[i]; isAlnum(c) {
			b.WriteByte(lowerASCII(c))
		}
	}
	return b.String()
}

// Values reports whether r hides values that look secret whatever their name.
func (r *Rules) Values() bool { return r != nil && r.values }

// SecretName reports whether a name (of a query parameter, a header, an SQL
// argument, an attribute) is secret. The name is split into words — at
// anything that is not a letter or a digit, between a lowercase and an
// uppercase letter (camelCase), before the last capital of an acronym
// (APIKey), and between letters and digits — and compared without regard to
// case:
//
//   - a word equal to a secret word, or to its plural, is secret: "pass",
//     "X-Pass", "pin", "tokens", but not "spin", "author" or "keyword";
//   - a word that ends with a secret word of five letters or more is secret:
//     "accesstoken", "clientsecret";
//   - two or three adjacent words that spell a secret word of five letters
//     or more together are secret: "api_key", "apiKey", "credit-card".
//
// Other spellings of the same letters are folded to ASCII first (see
// [foldName]): fullwidth forms ("ｐａｓｓｗｏｒｄ"), characters that are
// not drawn ("pass\u00adword" with a soft hyphen, zero-width spaces) and
// Cyrillic or Greek letters drawn as Latin ones ("раssword").
func (r *Rules) SecretName(name string) bool {
	if r == nil || len(r.exact) == 0 {
		return false
	}
	if hasHigh(name) {
		var buf [128]byte
		name = foldName(name, buf[:0])
	}
	var w [3][2]int // the last three words: start and end in name
	n := 0
	var buf [maxRun]byte
	for i := 0; ; {
		s, e := nextWord(name, i)
		if s == e {
			return false
		}
		i = e
		w[0], w[1], w[2] = w[1], w[2], [2]int{s, e}
		n = min(n+1, 3)
		for k := 1; k <= n; k++ {
			run := buf[:0]
			for _, ww := range w[3-k:] {
				if len(run)+ww[1]-ww[0] > maxRun {
					run = nil
					break
				}
				for j := ww[0]; j < ww[1]; j++ {
					run = append(run, lowerASCII(name[j]))
				}
			}
			if run != nil && r.matchRun(run, k == 1) {
				return true
			}
		}
	}
}

// matchRun reports whether a run of words, lowercased and joined, is secret.
// A run of several words matches long secret words only.
func (r *Rules) matchRun(run []byte, single bool) bool {
	lens := r.lens[run[0]]
	if lens&(1<<min(len(run), 63)) != 0 {
		if _, ok := r.exact[string(run)]; ok && (single || len(run) >= minLong) {
			return true
		}
	}
	if n := len(run); n > 2 && run[n-1] == 's' && lens&(1<<min(n-1, 63)) != 0 {
		if _, ok := r.exact[string(run[:n-1])]; ok && (single || n-1 >= minLong) {
			return true
		}
	}
	for _, p := range r.long[run[len(run)-1]] {
		if len(run) > len(p) && string(run[len(run)-len(p):]) == p {
			return true
		}
	}
	return false
}

// nextWord returns the bounds of the first word of s at or after i; start ==
// end when there is none.
func nextWord(s string, i int) (start, end int) {
	for i < len(s) && !isAlnum(s[i]) {
		i++
	}
	if i >= len(s) {
		return i, i
	}
	start = i
	j := i + 1
	for ; j < len(s); j++ {
		c, p := s[j], s[j-1]
		if !isAlnum(c) || isDigit(c) != isDigit(p) {
			break
		}
		if isUpper(c) && !isUpper(p) && !isDigit(p) {
			break // camelCase: "apiKey"
		}
		if !isUpper(c) && isUpper(p) && j-1 > start && isUpper(s[j-2]) {
			return start, j - 1 // an acronym ends before its last capital: "APIKey"
		}
	}
	return start, j
}

// Query returns a raw query string with the values of secret parameters
// ([Rules.SecretName], and one named "key" or "subscription-key" when
// "api_key" is secret)
// replaced by [Redacted], as are values that look
// secret ([SecretValue], when r hides values) and the secrets of URLs and
// query strings nested in a value (a redirect target, say), decoded to be
// judged and encoded again around the marker (a value that nests only
// once decoded twice is read so and encoded twice again, and a part
// without "=" that is a URL, a text or encoded, a fragment's, is read as
// a value is, as is a name that is a URL or a text: "#h2://:pw@h/=…"); a value within maxNest (8)
// others that would be read as a text is hidden whole (see maxNest). Both "&" and ";" separate
// parameters, as many servers accept either; a name that does not unescape
// is judged as it is. A query with nothing to hide is returned as it is.
func (r *Rules) Query(raw string) string { return r.query(raw, 0) }

// maxNest is how many query values in one another a text is read through
// (see param). A value within maxNest others — the ninth "next" of
// "?next=https://h/?next=…" nine times — is hidden whole, unread, when it
// would be read as a text (it holds '=', ':', '@', '/', a space or a
// quote once decoded), whatever it holds ("…?next=/home" too): not when a
// secret name or a secret-looking value hides it anyway, nor when it is a
// single word, judged as at any depth. The nine URLs above it are read as
// ever (user information, path, the query's other parameters).
//
// Each level is decoded and read as a text of its own, so that reading n
// levels costs n scans of what they hold: quadratic (BenchmarkQueryNested,
// instructions per op with no bound: 0.18, 0.57, 1.92 M at depth 16, 32,
// 64; with it 0.11, 0.20, 0.41 M). Reading the deeper values flat instead,
// as a path is (URLs' user information hidden, the query read as words),
// is linear but hides less than the query reader — "key=" (an API key by
// [Rules.SecretName]'s "api_key"), kept — and a value encoded again needs
// decoding at each level: round 46 measured it and left the bound.
const maxNest = 8

// query is Query of a query found in depth query values (see param).
func (r *Rules) query(raw string, depth int) string {
	if r == nil || raw == "" {
		return raw
	}
	var out []byte // nil until something changes
	for start := 0; start <= len(raw); {
		end := start
		for end < len(raw) && raw[end] != '&' && raw[end] != ';' {
			end++
		}
		part := raw[start:end]
		if red, ok := r.param(part, depth); ok {
			if out == nil {
				out = append(make([]byte, 0, len(raw)+len(Redacted)), raw[:start]...)
			}
			out = append(out, red...)
		} else if out != nil {
			out = append(out, part...)
		}
		if end < len(raw) && out != nil {
			out = append(out, raw[end])
		}
		start = end + 1
	}
	if out == nil {
		return raw
	}
	return string(out)
}

// param redacts one parameter of a query ("name=value"), found in depth
// query values; ok is false when it has nothing to hide. A value that nests
// (a URL, a query string, a text) is read as a text, unless it is found in
// maxNest values already: then it is hidden whole.
func (r *Rules) param(part string, depth int) (string, bool) {
	key, val, hasValue := strings.Cut(part, "=")
	if !hasValue {
		dec := unescape(key)
		if r.values && len(key) >= 6 && SecretValue(dec) {
			return Redacted, true
		}
		if dec == key && !strings.Contains(dec, "://") && strings.IndexByte(dec, ' ') < 0 {
			return "", false // a word, a path ("#/users/42")
		}
		// A part that is a URL, a text or encoded, not "name=value": a
		// fragment's ("#postgres://u:pw@db/x", "#api_key%3D…"), read as
		// a value is.
		return r.nested(key, dec, depth)
	}
	name := unescape(key)
	// A name that nests is read as a value is: a URL written unencoded
	// as a fragment's or a query's name ("#h2://:pw@h/=…").
	if red, ok := r.nested(key, name, depth); ok {
		return r.paramValue(red, name, val, depth, true)
	}
	return r.paramValue(key, name, val, depth, false)
}

// paramValue redacts the value val of a query's parameter, given the name
// it is written with, key, and name, its name decoded; changed says key was
// redacted (see param). ok is false when neither has anything to hide.
func (r *Rules) paramValue(key, name, val string, depth int, changed bool) (string, bool) {
	// unchanged: the value as it is, the pair written only when its name
	// was redacted (a query with nothing to hide allocates nothing).
	unchanged := func() (string, bool) {
		if !changed {
			return "", false
		}
		return key + "=" + val, true
	}
	if r.SecretName(name) || r.key && isKey(name) || isCode(name) && r.oauthCode(name, unescape(val)) {
		if val == Redacted || val != "" && r.count(name, val) {
			return unchanged()
		}
		return key + "=" + Redacted, true
	}
	if val == "" {
		return unchanged()
	}
	dec := unescape(val)
	if r.values && SecretValue(dec) {
		return key + "=" + Redacted, true
	}
	red, ok := r.nested(val, dec, depth)
	if !ok {
		return unchanged()
	}
	return key + "=" + red, true
}

// nested redacts a query value v, dec once decoded, found in depth query
// values, read as a text when it nests (see param); ok is false when it
// has nothing to hide. A value that nests only once decoded twice
// ("postgres%253A%252F%252Fu%253Apw%2540db", a URL encoded once more by
// each redirect it went through) is read decoded twice and encoded twice
// again.
func (r *Rules) nested(v, dec string, depth int) (string, bool) {
	twice := false
	if !nests(dec) {
		if dec == v || strings.IndexByte(dec, '%') < 0 {
			return "", false // a single word, judged above: nothing nested to look into
		}
		d2 := unescape(dec)
		if d2 == dec || !nests(d2) {
			return "", false
		}
		dec, twice = d2, true
	}
	if depth >= maxNest {
		return Redacted, true
	}
	scrubbed := r.textIn(dec, false, depth+1)
	switch {
	case scrubbed == dec:
		return "", false
	case twice:
		return escapeAround(escapeAround(scrubbed)), true
	case dec == v:
		return scrubbed, true
	}
	return escapeAround(scrubbed), true // the value was encoded: encode it again
}

// isKey reports whether name is "key" or "subscription-key" (Azure API
// Management's query form of Ocp-Apim-Subscription-Key), in any case.
func isKey(name string) bool {
	return len(name) == 3 && strings.EqualFold(name, "key") ||
		len(name) == len("subscription-key") && strings.EqualFold(name, "subscription-key")
}

// nests reports whether a value may hold more than one word: a URL, a
// query string, a text.
func nests(v string) bool {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '=', ':', '@', '/', ' ', '"', '\'':
			return true
		}
	}
	return false
}

// escapeAround query-escapes s except for the [Redacted] markers in it.
func escapeAround(s string) string {
	var b strings.Builder
	for {
		before, after, found := strings.Cut(s, Redacted)
		b.WriteString(url.QueryEscape(before))
		if !found {
			return b.String()
		}
		b.WriteString(Redacted)
		s = after
	}
}

func unescape(s string) string {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s
	}
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// URL returns u as a string with its user information (which holds
// credentials) replaced by [Redacted], secret-looking path segments
// replaced, and its query and fragment redacted by [Rules.Query] (an OAuth
// implicit grant returns its access token in the fragment). u is not
// modified. A nil r gives u.String().
func (r *Rules) URL(u *url.URL) string {
	if r == nil {
		return u.String()
	}
	if u.User == nil {
		return r.urlString(u.String(), 0)
	}
	c := *u
	c.User = nil
	s := c.String()
	if i := strings.Index(s, "//"); i >= 0 {
		s = s[:i+2] + Redacted + "@" + s[i+2:]
	}
	return r.urlString(s, 0)
}

// urlString redacts a URL written out: "scheme://user:pw@host/path?query#frag",
// found in depth query values (see param).
func (r *Rules) urlString(s string, depth int) string {
	head, rest := "", s
	changed := false
	if i := strings.Index(s, "://"); i >= 0 {
		auth := i + 3
		end := len(s)
		if j := strings.IndexAny(s[auth:], "/?#"); j >= 0 {
			end = auth + j
		}
		if strings.IndexByte(s[auth:end], '@') < 0 {
			if c := strings.IndexByte(s[auth:end], ':'); c > 0 && s[auth] != '[' && !IsDigits(s[auth+c+1:end]) {
				// "user:pa/ss@host", "user:p#ss@host": a password that
				// holds "/", "?" or "#" unencoded ends the authority early.
				if at := strings.IndexByte(s[end:], '@'); at >= 0 {
					end = end + at
					if j := strings.IndexAny(s[end:], "/?#"); j >= 0 {
						end += j
					} else {
						end = len(s)
					}
				}
			}
		}
		if amp := indexAmpSemi(s[auth:end]); amp >= 0 && strings.IndexByte(s[auth:end], '@') < 0 {
			end = auth + amp // no host holds "&" nor ";": see below
		}
		head = s[:end]
		if at := strings.LastIndexByte(s[auth:end], '@'); at >= 0 && s[auth:auth+at] != Redacted {
			head = s[:auth] + Redacted + s[auth+at:end]
			changed = true
		} else if at < 0 && end == len(s) && strings.HasSuffix(s, cutMark) && strings.IndexByte(s[auth:end-len(cutMark)], ':') >= 0 {
			// Cut by a byte cap (Truncate) inside the authority, before
			// any "@": what follows "user:" may be a password.
			head = s[:auth] + Redacted + s[end-len(cutMark):end]
			changed = true
		}
		rest = s[end:]
	}
	path, query, frag := rest, "", ""
	hasQuery, hasFrag := false, false
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path, frag, hasFrag = path[:i], path[i+1:], true
	}
	sep := byte('?')
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path, query, hasQuery = path[:i], path[i+1:], true
	} else if i := indexAmpSemi(path); i >= 0 {
		// A URL given unencoded to a parameter, followed by the next
		// parameters: a form's "redirect_uri=https://h/cb&client_secret=…";
		// and the properties of a JDBC URL of SQL Server
		// ("jdbc:sqlserver://h:1433;user=sa;password=…"), or a path's
		// (";jsessionid=…").
		path, query, hasQuery, sep = path[:i], path[i+1:], true, path[i]
	}
	p2, q2, f2 := r.pathText(path, depth), r.query(query, depth), r.query(frag, depth)
	if !changed && p2 == path && q2 == query && f2 == frag {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(Redacted))
	b.WriteString(head)
	b.WriteString(p2)
	if hasQuery {
		b.WriteByte(sep)
		b.WriteString(q2)
	}
	if hasFrag {
		b.WriteByte('#')
		b.WriteString(f2)
	}
	return b.String()
}

// indexAmpSemi returns the index of the first "&" or ";" of s, or -1.
func indexAmpSemi(s string) int {
	i := strings.IndexByte(s, '&')
	if j := strings.IndexByte(s, ';'); j >= 0 && (i < 0 || j < i) {
		return j
	}
	return i
}

// cutMark begins the note [Truncate] leaves where it cut a string: a URL
// in a text, which ends at a space (see urlEnd), ends with it when the
// text was cut inside the URL.
var cutMark = strings.TrimSuffix(TruncatedMarker, " ")

// pathText redacts secret-looking segments of a URL path.
func (r *Rules) pathText(p string, depth int) string {
	if !r.values {
		return p
	}
	return r.textIn(p, true, depth)
}

// isAlnum reports whether c is part of a word: an ASCII letter or digit, or
// a byte of a non-ASCII letter.
func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// DefaultSecretWords returns the words that make a name secret by default
// (see [Rules.SecretName]): passwords, tokens, keys, credentials ("creds"), sessions, signatures,
// certificates, the credentials OAuth and SAML exchange (client_assertion,
// SAMLResponse, code_verifier) and the personal data that must not be stored (card numbers,
// social security numbers, e-mail addresses).
func DefaultSecretWords() []string {
	return []string{
		"password", "passwd", "pwd", "pw", "pass", "passphrase", "secret", "token", "auth", "authorization",
		"credential", "cred", "apikey", "accesskey", "private", "ssn", "pin", "card", "creditcard", "cc", "cvv", "cvc",
		"session", "sessionid", "sessid", "cookie", "signature", "sig", "jwt", "otp", "bearer", "cert",
		"certificate", "email", "csrf", "xsrf", "assertion", "samlresponse", "codeverifier",
	}
}
