package convention

import (
	"net/url"
	"strings"
)

// Text returns s, a free text — a header value, a call's summary, an error
// message, a path — with the secrets found in it replaced by [Redacted]:
//
//   - the user information of a URL ("https://user:pw@host/") and the
//     secrets of its path, query and fragment ([Rules.URL]);
//   - the value of a secret name written "name=value", "name = value",
//     "name: 'value'", name:"value" (Go's and protobuf's text forms),
//     "name": value (JSON, and JSON quoted again by %q: \"name\":\"value\"),
//     "Name":[]string{"value"} (%#v of a header);
//   - the fields of structs and maps printed by fmt, whose strings it does
//     not quote ({User:bob Password:hunter2}, &{Token:abc},
//     map[password:hunter2], a field's value running over spaces to the
//     next field; see [fieldValue]);
//   - the value of a secret name written "Name: value", as a header line
//     ("Cookie: sid=…; theme=dark" to the end of the line), YAML or a log
//     writes it, unless it reads as prose ("auth: failed"; see
//     [Rules.lineValue]); a command line's "--password value"; the
//     arguments of Redis' "AUTH"; a pair written percent-encoded
//     ("password%3Dhunter2");
//   - an OAuth authorization code ("code=…" with a digit, or long; see
//     [Rules.oauthCode]), and the parameters after a URL given unencoded to
//     a form's parameter ("redirect_uri=https://h/cb&client_secret=…");
//   - the password of "user:password@host" written without a scheme, up
//     to the last "@" of the word ("app:pa$$w@rd@tcp(db:3306)/"), and of a
//     URL whose password holds "/", "?" or "#" unencoded;
//   - the text of an XML element named secret (<password>…</password>), and
//     a form's user[password]=…;
//   - the credential written after an HTTP authentication scheme that takes
//     a single token, as an Authorization header's value is: "Bearer
//     <token>", "Basic <base64>" (see [authCredential]), in a header map
//     printed by fmt, a curl command or an error message as much as after
//     a secret name ("Authorization=Bearer <token>" hides both words);
//   - when r hides values, every word that looks secret ([SecretValue]),
//     card numbers written in groups ("4111 1111 1111 1111") and random
//     tokens of standard base64, "/" and "+" included (an AWS secret access
//     key).
//
// A number given to the plural of a secret word ("tokens=5",
// "max_tokens=100") is a count, and stays. A text with nothing to hide is
// returned as it is, without allocating; the scan is linear in the length
// of s.
func (r *Rules) Text(s string) string {
	if r == nil || s == "" || shortPlain(s) {
		return s
	}
	return r.text(s)
}

// minSecretWord is the length of the shortest word [SecretValue] may find
// secret; a card number is longer still (13 digits).
const minSecretWord = 6

// shortPlain reports whether s is too short to hold a word that looks
// secret and has no '=' nor ':', which every other rule of Text needs (a
// URL's scheme, "name=value", name:"value", "user:password@host"): Text
// leaves such a text ("http", "1.1", "*/*", a short method name) as it is.
func shortPlain(s string) bool {
	if len(s) >= minSecretWord {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '=' || s[i] == ':' {
			return false
		}
	}
	return true
}

// text is Text's scan.
func (r *Rules) text(s string) string {
	t := textScrub{s: s}
	// Brackets ("{", "[") opened before depthAt and not closed: inside a
	// struct or map fmt printed. Counted only when a field asks (see
	// nested), from where the last count stopped: the scan stays linear.
	depth, depthAt := 0, 0
	nested := func(i int) bool {
		for ; depthAt < i; depthAt++ {
			switch s[depthAt] {
			case '{', '[':
				depth++
			case '}', ']':
				depth = max(depth-1, 0)
			}
		}
		return depth > 0
	}
	pct := strings.IndexByte(s, '%') >= 0
	for i := 0; i < len(s); {
		if !isAtom(s[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && isAtom(s[j]) {
			j++
		}
		atom := s[i:j]
		if strings.HasPrefix(s[j:], "://") && isScheme(atom) {
			end := urlEnd(s, j+3)
			if u := s[i:end]; true {
				if red := r.urlString(u); red != u {
					t.replace(i, end, red)
				}
			}
			i = end
			continue
		}
		if vs, ve, ok := valueAfter(s, i, j); ok && (r.SecretName(pathUnescape(atom)) || r.oauthCode(atom, s[vs:max(ve, vs)])) {
			if ve < 0 {
				vs, ve = fieldValue(s, vs, nested(i))
				if cs, ok := r.schemeOnly(s, vs, ve); ok {
					vs = cs // Authorization:[Bearer <token>]: the scheme stays readable, as in a header
				}
			}
			if _, ce, ok := authCredential(s, vs, ve); r.schemes && ok {
				ve = ce // "Authorization=Bearer <token>": the scheme and its credential
			}
			if v := s[vs:ve]; v != "" && v != Redacted && !isNil(v) && !isPlaceholder(v) && !r.count(atom, v) {
				t.replace(vs, ve, Redacted)
			}
			i = max(ve, j)
			continue
		}
		if next := s[min(j, len(s)-1)]; next == ':' || next == ' ' && (atom[0] == '-' || atom[0] == 'A' && j-i == 4) || next == '>' || pct {
			if next, ok := r.spaced(&t, s, i, j, pct); ok {
				i = next
				continue
			}
		}
		if n := j - i; (n == 5 || n == 6) && j+1 < len(s) && s[j] == ' ' && r.schemes { // "basic ", "bearer "
			if cs, ce, ok := authCredential(s, i, j); ok {
				t.replace(cs, ce, Redacted) // "Bearer <token>": the scheme stays readable
				i = ce
				continue
			}
		}
		if at := strings.IndexByte(atom, '@'); at > 0 && i >= 2 && s[i-1] == ':' && isAtom(s[i-2]) &&
			atom[:at] != Redacted {
			t.replace(i, i+at, Redacted) // user:password@host
			i = j
			continue
		}
		if r.values {
			if end, ok := cardSpan(s, i); ok {
				t.replace(i, end, Redacted)
				i = end
				continue
			}
			k := j
			for k < len(s) && s[k] == '=' && k-j < 2 { // base64 padding
				k++
			}
			if k > j && k < len(s) && isAtom(s[k]) {
				k = j
			}
			if k == j && j < len(s) && s[j] == '[' && strings.HasSuffix(atom, "…") && strings.HasPrefix(s[j-len("…"):], TruncatedMarker) {
				k -= len("…") // a token cut by a byte cap: what is left of it is judged
			}
			if len(atom) >= minSecretWord && SecretValue(pathUnescape(s[i:k])) {
				t.replace(i, k, Redacted)
				i = k
				continue
			}
			if s[min(j, len(s)-1)] == '/' && k == j && (i == 0 || s[i-1] != '/') {
				// A token of standard base64, whose "/" the scan took
				// for a path's: an AWS secret access key.
				if e := base64End(s, i); e-i >= 20 && !pathLike(s[i:e]) && looksRandom(s[i:e], true) {
					t.replace(i, e, Redacted)
					i = e
					continue
				}
			}
		}
		i = j
	}
	return t.String()
}

// spaced is text's scan for a value written apart from its secret name, at
// the word s[i:j], rarer than "name=value": "Name: value" (lineValue), a
// command line's "--password hunter2", Redis' "AUTH hunter2", and a pair
// written percent-encoded ("password%3Dhunter2", when pct says s holds a
// "%"). ok says it replaced what it found, and next is where the scan goes
// on.
func (r *Rules) spaced(t *textScrub, s string, i, j int, pct bool) (next int, ok bool) {
	if j+1 < len(s) && s[j] == ':' && s[j+1] == ' ' && !isDigit(s[i]) && r.SecretName(pathUnescape(s[i:j])) {
		if vs, ve, ok := r.lineValue(s, j+2, s[i:j]); ok {
			if s[vs:ve] != Redacted {
				t.replace(vs, ve, Redacted)
			}
			return ve, true
		}
	}
	if j+1 < len(s) && s[j] == ':' && j >= t.noAt {
		if _, at, ok := t.userInfo(j + 1); ok {
			if r.values && j-i >= minSecretWord && SecretValue(pathUnescape(s[i:j])) {
				t.replace(i, j, Redacted) // the user name, a word as any other
			}
			if s[j+1:at] != Redacted {
				t.replace(j+1, at, Redacted)
			}
			return at, true
		}
	}
	if j < len(s) && s[j] == '>' && i > 0 && s[i-1] == '<' && r.SecretName(s[i:j]) {
		// XML: <password>hunter2</password>, the element closed (not
		// prose's "AUTH <password> called…").
		e := j + 1
		for e < len(s) && s[e] != '<' {
			e++
		}
		if rest := s[e:]; len(rest) > j-i+2 && rest[1] == '/' && rest[2:j-i+2] == s[i:j] {
			if v := s[j+1 : e]; v != "" && v != Redacted {
				t.replace(j+1, e, Redacted)
			}
			return e, true
		}
	}
	if s[i] == '-' && j+1 < len(s) && s[j] == ' ' && s[j+1] != '-' && secretFlag(r, s[i:j]) {
		e := j + 1
		for e < len(s) && !valueDelim(s[e]) {
			e++
		}
		if e > j+1 && s[j+1:e] != Redacted {
			t.replace(j+1, e, Redacted) // a command line's "--password hunter2"
		}
		return max(e, j+1), true
	}
	if pct && strings.IndexByte(s[i:j], '%') >= 0 {
		// "password%3Dhunter2", "token%22%3A%22abc": a text written
		// percent-encoded, read once decoded.
		if dec := pathUnescape(s[i:j]); dec != s[i:j] && strings.IndexByte(dec, '%') < 0 && !shortPlain(dec) {
			if red := r.text(dec); red != dec {
				t.replace(i, j, escapeAround(red))
				return j, true
			}
		}
	}
	if j-i == 4 && j+1 < len(s) && s[j] == ' ' && s[i:j] == "AUTH" {
		if ve := redisAuth(s, j+1); ve > j+1 {
			t.replace(j+1, ve, Redacted) // Redis: AUTH <password>, AUTH <user> <password>
			return ve, true
		}
	}
	return 0, false
}

// textScrub builds a scrubbed copy of s, allocating only once something is
// replaced.
type textScrub struct {
	s    string
	out  []byte
	last int // s[:last] is in out
	// noAt: the run of s that ends here, without white space, holds no
	// "@" (see userInfo), so that a run of "a:a:a…" is read once.
	noAt int
}

// userInfo finds the password of "user:password@host" written without a
// scheme, from k (after the ":") to at: the run of characters up to white
// space, whose last "@" ends the password, which may hold any character
// but "/" and white space ("app:pa$$word@tcp(db:3306)/", "u:p@ss@host").
// ok is false when there is none: then noAt remembers where the run ends.
func (t *textScrub) userInfo(k int) (from, at int, ok bool) {
	s := t.s
	at = -1
	e := k
	for ; e < len(s); e++ {
		c := s[e]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>' {
			break
		}
		if c == '@' {
			at = e
		}
	}
	if at < 0 {
		t.noAt = e
		return 0, 0, false
	}
	if slash := strings.LastIndexByte(s[k:at], '/'); slash >= 0 {
		t.noAt = k + slash // "h:8080/users/@me": a path; a ":" after its "/" is read again
		return 0, 0, false
	}
	return k, at, at > k
}

func (t *textScrub) replace(from, to int, with string) {
	if t.out == nil {
		t.out = make([]byte, 0, len(t.s)+len(Redacted))
	}
	t.out = append(t.out, t.s[t.last:from]...)
	t.out = append(t.out, with...)
	t.last = to
}

func (t *textScrub) String() string {
	if t.out == nil {
		return t.s
	}
	return string(append(t.out, t.s[t.last:]...))
}

// isAtom reports whether c can be part of a word, a value or a token in a
// text: letters, digits and the characters of base64url, e-mail addresses
// and percent-encoding.
func isAtom(c byte) bool {
	return isAlnum(c) || c == '_' || c == '-' || c == '.' || c == '~' || c == '+' || c == '%' || c == '@'
}

func isScheme(s string) bool {
	if s == "" || len(s) > 32 || !('a' <= lowerASCII(s[0]) && lowerASCII(s[0]) <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// urlEnd returns where a URL written in a text from i ends: at white space,
// a quote or a bracket that closes around it. What follows is scanned as text,
// so ending early hides nothing less.
func urlEnd(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case ' ', '\t', '\n', '\r', '"', '\'', '`', '<', '>', ',', ')', '}', '|', '\\':
			return i
		}
	}
	return i
}

// valueAfter finds the value given to the name s[i:j]: "name=value",
// "name = value", name:"value", name: 'value', "name": value or
// "name":"value", with the quotes escaped too, as %q writes a JSON text
// (\"name\":\"value\"), and the first string of a list (JSON's
// "name":["value"], %#v's "Name":[]string{"value"}). ok is false when s[j:]
// gives no value; vs and ve bound the value, inside its quotes. For
// Name:value written with no space (see fieldValue), ve is -1: its end is
// found only once the name is known secret.
func valueAfter(s string, i, j int) (vs, ve int, ok bool) {
	if j+1 >= len(s) {
		return 0, 0, false
	}
	if c := s[j]; c == ' ' && s[j+1] != ' ' && s[j+1] != ':' && s[j+1] != '=' || c > '=' && c != '\\' && c != ']' {
		return 0, 0, false // prose, a word alone: the common case
	}
	if s[j] == ']' {
		if s[j+1] != '=' || i == 0 || s[i-1] != '[' {
			return 0, 0, false
		}
		j++ // a form's user[password]=…
	}
	quotedName := false
	if j < len(s) && (s[j] == '"' || s[j] == '\'') && i > 0 && s[i-1] == s[j] {
		quotedName = true
		j++
	} else if j+1 < len(s) && s[j] == '\\' && s[j+1] == '"' && i > 1 && s[i-2] == '\\' && s[i-1] == '"' {
		quotedName = true
		j += 2
	}
	k := j
	for k < len(s) && s[k] == ' ' && (quotedName || k+1 < len(s) && (s[k+1] == ':' || s[k+1] == ' ' || s[k+1] == '=')) {
		k++
	}
	if k >= len(s) {
		return 0, 0, false
	}
	sep := s[k]
	switch {
	case sep == '=' && !quotedName:
		if k+1 < len(s) && (s[k+1] == '=' || s[k+1] == '>') || k != j && (k+1 >= len(s) || s[k+1] != ' ') {
			return 0, 0, false // "a == b", "a => b", "a =b"
		}
	case sep == ':':
		if k+1 < len(s) && (s[k+1] == ':' || s[k+1] == '/') {
			return 0, 0, false
		}
	default:
		return 0, 0, false
	}
	k++
	if sep == ':' || k-1 != j { // "name: value", "name = value"
		for k < len(s) && s[k] == ' ' {
			k++
		}
	}
	if quotedName && sep == ':' {
		if strings.HasPrefix(s[k:], "[]string{") {
			k += len("[]string{")
		} else if k+1 < len(s) && s[k] == '[' && (s[k+1] == '"' || s[k+1] == '\'') {
			k++
		}
	}
	if k < len(s) && (s[k] == '"' || s[k] == '\'' || s[k] == '`') {
		q := s[k]
		e := k + 1
		for e < len(s) && s[e] != q {
			if s[e] == '\\' && q != '`' {
				e++
			}
			e++
		}
		return k + 1, min(e, len(s)), true
	}
	if k+1 < len(s) && s[k] == '\\' && s[k+1] == '"' { // \"value\"
		e := strings.Index(s[k+2:], `\"`)
		if e < 0 {
			return k + 2, len(s), true
		}
		return k + 2, k + 2 + e, true
	}
	if sep == ':' && !quotedName {
		if k == j+1 && k < len(s) && s[k] != ' ' && s[k] != '\t' && !isDigit(s[i]) && fieldStart(s, i) {
			return k, -1, true // Name:value, as fmt prints a field: see fieldValue
		}
		return 0, 0, false // prose: "auth: failed"; see lineValue
	}
	e := k
	for e < len(s) && !valueDelim(s[e]) {
		e++
	}
	return k, e, true
}

// fieldStart reports whether a field ("Name:value") may start at s[i]: at
// the start of s, or after what fmt writes before a field (a bracket, a
// space) or a log before a pair. A path's "/v1/tokens:revoke" (a custom
// method, as Google's APIs name them) is no field.
func fieldStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	switch s[i-1] {
	case ' ', '\t', '\n', '{', '[', '(', ',', ';', '|':
		return true
	}
	return false
}

// fieldValue bounds the value of "Name:value", written with no space as fmt
// prints a struct's fields with %+v ({User:bob Password:hunter2},
// &{Token:abc}) and a map's entries with %v (map[password:hunter2]), from
// k, where it starts. A value that opens a bracket is what the bracket
// holds, up to the one that closes it (Authorization:[Bearer …],
// Auth:{User:bob Pass:x}). fmt quotes no string, so inside brackets
// (nested) a value runs over spaces, up to the next field (" Name:") or the
// bracket that closes the struct; elsewhere it is one word, as valueAfter
// reads "name=value".
func fieldValue(s string, k int, nested bool) (vs, ve int) {
	if strings.HasPrefix(s[k:], Redacted) {
		return k, k + len(Redacted) // hidden before: the marker is no list
	}
	if c := s[k]; c == '[' || c == '{' {
		return k + 1, closeBracket(s, k)
	}
	e := k
	if !nested {
		for e < len(s) && !valueDelim(s[e]) {
			e++
		}
		return k, e
	}
	depth := 0
	for ; e < len(s); e++ {
		switch s[e] {
		case cutMark[0]:
			if strings.HasPrefix(s[e:], TruncatedMarker) {
				return k, e // cut by a byte cap: the note stays
			}
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return k, e
			}
			depth--
		case '\n', '\r':
			return k, e
		case ' ':
			if depth == 0 && fieldAt(s, e+1) {
				return k, e
			}
		}
	}
	return k, e
}

// secretFlag reports whether atom is a command line's flag ("--password",
// "-api-key") whose name is secret, and which takes its value as the next
// argument: not one that says where to read it from ("--password-stdin",
// "--token-file").
func secretFlag(r *Rules, atom string) bool {
	name := strings.TrimLeft(atom, "-")
	if len(name) < 2 || len(atom)-len(name) > 2 || !r.SecretName(name) {
		return false
	}
	for _, suffix := range [...]string{"-stdin", "-file", "-env", "-path", "-cmd", "-command"} {
		if len(name) > len(suffix) && strings.EqualFold(name[len(name)-len(suffix):], suffix) {
			return false
		}
	}
	return true
}

// maxBase64 bounds the bytes base64End reads: keys written in base64 are
// shorter, and the scan stays linear.
const maxBase64 = 128

// base64End returns where a run of standard base64 ("A-Za-z0-9+/", "="
// padding) from s[i] ends, read up to maxBase64 bytes.
func base64End(s string, i int) int {
	e := i
	for e < len(s) && e-i < maxBase64 && (isAlnum(s[e]) && s[e] < 0x80 || s[e] == '+' || s[e] == '/') {
		e++
	}
	for n := 0; n < 2 && e < len(s) && s[e] == '='; n++ {
		e++
	}
	if e < len(s) && (isAtom(s[e]) || s[e] == '/' || s[e] == '=') {
		return i // longer than a key, or not base64 at all
	}
	return e
}

// pathLike reports whether v, a run of base64, reads as a path rather than
// a key: more than three "/", or a segment that is a word
// ("api/v1/users/12345"). A key's "/" fall at random, a few in 40
// characters, between segments of mixed letters and digits.
func pathLike(v string) bool {
	n := 0
	for seg := range strings.SplitSeq(v, "/") {
		if n++; n > 4 || len(seg) >= 3 && plainWord(seg) {
			return true
		}
	}
	return false
}

// oauthCode reports whether v, given to name, is an OAuth 2.0
// authorization code ("code=SplxlOBe…", RFC 6749 4.1.2), which trades for
// tokens: "code" hides values of six characters or more that hold a digit,
// or of sixteen or more, when r hides tokens, so that status and country
// codes and names ("code=404", "code=FR", "code=NotFound") stay readable.
func (r *Rules) oauthCode(name, v string) bool {
	if !r.oauth || !isCode(name) || len(v) < 6 || v == Redacted {
		return false
	}
	return len(v) >= 16 || strings.ContainsAny(v, "0123456789")
}

// isCode reports whether name is "code", in any case.
func isCode(name string) bool {
	return len(name) == 4 && name[0]|0x20 == 'c' && strings.EqualFold(name, "code")
}

// schemeOnly reports whether a field's value s[vs:ve] is an authentication
// scheme and its credential ("Bearer <token>", or "Bearer [REDACTED]" once
// hidden), and where the credential starts.
func (r *Rules) schemeOnly(s string, vs, ve int) (cs int, ok bool) {
	if !r.schemes {
		return 0, false
	}
	w := vs
	for w < ve && isAtom(s[w]) {
		w++
	}
	if s[w:ve] == " "+Redacted {
		return w + 1, strings.EqualFold(s[vs:w], "bearer") || strings.EqualFold(s[vs:w], "basic")
	}
	if _, ce, ok := authCredential(s, vs, w); ok && ce == ve {
		return w + 1, true
	}
	return 0, false
}

// closeBracket returns the index of the bracket that closes the one at
// s[k], or len(s) when none does.
func closeBracket(s string, k int) int {
	depth := 0
	for e := k; e < len(s); e++ {
		switch s[e] {
		case '[', '{':
			depth++
		case ']', '}':
			depth--
			if depth == 0 {
				return e
			}
		}
	}
	return len(s)
}

// fieldAt reports whether a field of a struct or map fmt printed, "Name:",
// starts at s[i].
func fieldAt(s string, i int) bool {
	j := i
	for j < len(s) && isAtom(s[j]) {
		j++
	}
	return j > i && j < len(s) && s[j] == ':'
}

// lineValue bounds the value of a secret name written "Name: value" with no
// quotes, from k: a header line quoted in a text ("Set-Cookie: sid=…;
// Path=/", "X-Api-Key: …"), YAML, a log's "password: hunter2". Prose is
// written the same way ("auth: failed", "invalid token: expired", "cert:
// x509: …"), so the value is taken only when its first word is no plain
// word, short number (a status) nor the prefix of a wrapped error; then a
// header's value (its name holds a "-", or its first word a "=", as
// cookies do) runs to the end of the line or of the quote around it, and
// another name's is one word. After "Authorization: " (or
// "Proxy-Authorization: "), a scheme's credential is hidden whatever the
// scheme ("token <credential>", "Digest …" aside), the scheme kept.
func (r *Rules) lineValue(s string, k int, name string) (vs, ve int, ok bool) {
	for k < len(s) && s[k] == ' ' {
		k++
	}
	e := k
	for e < len(s) && !valueDelim(s[e]) {
		e++
	}
	first := s[k:e]
	switch {
	case first == "" || first[len(first)-1] == ':' || len(first) <= 3 && IsDigits(first):
		return 0, 0, false
	case first == Redacted:
		return k, e, true
	case plainWord(first):
		if r.schemes && e+1 < len(s) && s[e] == ' ' && r.SecretName("Authorization") && isAuthorization(name) {
			cs, ce := e+1, e+1
			for ce < len(s) && isToken68(s[ce]) {
				ce++
			}
			for ce < len(s) && s[ce] == '=' {
				ce++
			}
			if ce > cs && (ce == len(s) || valueDelim(s[ce])) && !plainWord(s[cs:ce]) {
				return cs, ce, true
			}
		}
		return 0, 0, false
	}
	if strings.IndexByte(name, '-') >= 0 || strings.IndexByte(first, '=') >= 0 {
		for e < len(s) && s[e] != '\n' && s[e] != '\r' && s[e] != '"' && s[e] != '\'' && s[e] != '`' {
			e++
		}
		for e > k && (s[e-1] == ' ' || s[e-1] == '\t') {
			e--
		}
	}
	return k, e, true
}

// isAuthorization reports whether a header's name is Authorization or
// Proxy-Authorization, in any case.
func isAuthorization(name string) bool {
	const a = "authorization"
	return len(name) >= len(a) && strings.EqualFold(name[len(name)-len(a):], a) &&
		(len(name) == len(a) || strings.EqualFold(name, "proxy-"+a))
}

// redisAuth returns where the arguments of a Redis AUTH command written
// from k end ("AUTH <password>", "AUTH <user> <password>", as a command
// is quoted in an error or a log), or k when what follows reads as prose:
// plain words ("Basic AUTH required", "AUTH failed") are no password.
func redisAuth(s string, k int) int {
	end := k
	for n, w := 0, k; n < 2 && w < len(s); n++ {
		e := w
		for e < len(s) && !valueDelim(s[e]) {
			e++
		}
		if e == w {
			break
		}
		if word := s[w:e]; word != Redacted && !plainWord(word) {
			end = e
		}
		if e >= len(s) || s[e] != ' ' {
			break
		}
		w = e + 1
	}
	return end
}

// count reports whether v, the value of the secret name, is a count: a
// number given to a plural of a secret word ("tokens=5", "max_tokens=100",
// "sessions=3"), which counts secrets rather than being one.
func (r *Rules) count(name, v string) bool {
	if !IsDigits(v) {
		return false
	}
	var last string
	for i := 0; ; {
		s, e := nextWord(name, i)
		if s == e {
			break
		}
		last, i = name[s:e], e
	}
	n := len(last)
	if n < 3 || lowerASCII(last[n-1]) != 's' {
		return false
	}
	_, ok := r.exact[strings.ToLower(last[:n-1])]
	return ok
}

// authCredential reports whether s[i:j] names an HTTP authentication scheme
// whose credential is one token — Bearer (RFC 6750) or Basic (RFC 7617),
// in any case — followed by a space and such a credential, and returns the
// credential's bounds. A credential is a run of token68 characters (letters,
// digits, "-._~+/" and "=" padding) that is not a plain word: "Bearer token
// expired" and "Basic Auth" are prose, and a challenge's parameters
// (Bearer realm="api", error_description="…") are not credentials.
func authCredential(s string, i, j int) (cs, ce int, ok bool) {
	if n := j - i; n != 5 && n != 6 || j+1 >= len(s) || s[j] != ' ' {
		return 0, 0, false
	}
	if !strings.EqualFold(s[i:j], "bearer") && !strings.EqualFold(s[i:j], "basic") {
		return 0, 0, false
	}
	cs = j + 1
	pe := cs
	for pe < len(s) && isToken68(s[pe]) {
		pe++
	}
	ce = pe
	for ce < len(s) && s[ce] == '=' {
		ce++
	}
	if pe == cs || plainWord(s[cs:pe]) {
		return 0, 0, false
	}
	if ce > pe && ce < len(s) && (s[ce] == '"' || isToken68(s[ce])) {
		return 0, 0, false // an auth-param: name="value" or name=value
	}
	return cs, ce, true
}

// isToken68 reports whether c is a character of RFC 9110's token68, the
// "=" padding aside.
func isToken68(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// plainWord reports whether w is a word of prose or a keyword: ASCII
// letters, lower case but for the first, or all upper case ("FROM").
func plainWord(w string) bool {
	lower, upper := 0, 0
	for k := 0; k < len(w); k++ {
		switch c := w[k]; {
		case 'a' <= c && c <= 'z':
			lower++
		case 'A' <= c && c <= 'Z':
			upper++
		default:
			return false
		}
	}
	return lower == 0 || upper == 0 || upper == 1 && 'A' <= w[0] && w[0] <= 'Z'
}

// valueDelim reports whether c ends an unquoted value.
func valueDelim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '&', ';', ',', '"', '\'', '`', '<', '>', '(', ')', '[', ']', '{', '}', '#', '|', '\\':
		return true
	}
	return false
}

// isNil reports whether v is the nil or null fmt and JSON write: no secret.
func isNil(v string) bool { return v == "null" || v == "<nil>" }

// isPlaceholder reports whether v is a statement's placeholder ("?", "$1",
// ":name", "@name"): not a value, and nothing to hide.
func isPlaceholder(v string) bool {
	if v == "?" {
		return true
	}
	if len(v) < 2 || (v[0] != '$' && v[0] != ':' && v[0] != '@') {
		return false
	}
	for i := 1; i < len(v); i++ {
		if !isAlnum(v[i]) && v[i] != '_' {
			return false
		}
	}
	return true
}

func pathUnescape(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

// ScrubError returns an error message with its quoted fragments ('…', "…"
// and `…`) replaced by [Redacted], quotes kept: drivers and servers quote
// the values they reject, as SQLite's near "'hunter2'": syntax error does. A
// quote inside a word (can't, O'Brien) opens nothing, nor does one right
// after the marker, which stands for a word [Rules.Text] hid
// ("token=0\"0…" gives "token=[REDACTED]\"0…", read again the same); an
// unterminated fragment runs to the end of the message.
func ScrubError(msg string) string {
	t := textScrub{s: msg}
	for i := 0; i < len(msg); i++ {
		q := msg[i]
		if q != '\'' && q != '"' && q != '`' || i > 0 && isAlnum(msg[i-1]) ||
			i >= len(Redacted) && msg[i-1] == ']' && msg[i-len(Redacted):i] == Redacted {
			continue
		}
		end := closeQuote(msg, i+1, q)
		if end == i+1 || msg[i+1:end] == Redacted {
			i = end
			continue
		}
		t.replace(i+1, end, Redacted)
		i = end
	}
	return t.String()
}

// closeQuote returns the index of the quote q that closes a fragment opened
// before i — one not followed by a letter or digit, nor doubled — or
// len(s) when there is none.
func closeQuote(s string, i int, q byte) int {
	for ; i < len(s); i++ {
		if s[i] != q {
			continue
		}
		if i+1 < len(s) && s[i+1] == q {
			i++ // doubled: an escaped quote
			continue
		}
		if i+1 < len(s) && isAlnum(s[i+1]) {
			continue
		}
		return i
	}
	return len(s)
}

// Error returns an error message redacted for storage: [ScrubError], then
// [Rules.Text].
func (r *Rules) Error(msg string) string { return r.Text(ScrubError(msg)) }
