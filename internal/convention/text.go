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
//   - the value of a secret name written "name=value", "name: 'value'",
//     name:"value" (Go's and protobuf's text forms) or "name": value (JSON);
//   - the password of "user:password@host" written without a scheme;
//   - the credential written after an HTTP authentication scheme that takes
//     a single token, as an Authorization header's value is: "Bearer
//     <token>", "Basic <base64>" (see [authCredential]), in a header map
//     printed by fmt, a curl command or an error message as much as after
//     a secret name ("Authorization=Bearer <token>" hides both words);
//   - when r hides values, every word that looks secret ([SecretValue]),
//     and card numbers written in groups ("4111 1111 1111 1111").
//
// A text with nothing to hide is returned as it is, without allocating.
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
		if vs, ve, ok := valueAfter(s, i, j); ok && r.SecretName(pathUnescape(atom)) {
			if _, ce, ok := authCredential(s, vs, ve); r.schemes && ok {
				ve = ce // "Authorization=Bearer <token>": the scheme and its credential
			}
			if v := s[vs:ve]; v != "" && v != Redacted && !isPlaceholder(v) {
				t.replace(vs, ve, Redacted)
			}
			i = max(ve, j)
			continue
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
			if len(atom) >= minSecretWord && SecretValue(pathUnescape(s[i:k])) {
				t.replace(i, k, Redacted)
				i = k
				continue
			}
		}
		i = j
	}
	return t.String()
}

// textScrub builds a scrubbed copy of s, allocating only once something is
// replaced.
type textScrub struct {
	s    string
	out  []byte
	last int // s[:last] is in out
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
// name:"value", name: 'value', "name": value or "name":"value". ok is false
// when s[j:] gives no value; vs and ve bound the value, inside its quotes.
func valueAfter(s string, i, j int) (vs, ve int, ok bool) {
	quotedName := false
	if j < len(s) && (s[j] == '"' || s[j] == '\'') && i > 0 && s[i-1] == s[j] {
		quotedName = true
		j++
	}
	k := j
	for k < len(s) && s[k] == ' ' && (quotedName || k+1 < len(s) && s[k+1] == ':') {
		k++
	}
	if k >= len(s) {
		return 0, 0, false
	}
	sep := s[k]
	switch {
	case sep == '=' && !quotedName:
		if k != j || k+1 < len(s) && (s[k+1] == '=' || s[k+1] == '>') {
			return 0, 0, false
		}
	case sep == ':':
		if k+1 < len(s) && (s[k+1] == ':' || s[k+1] == '/') {
			return 0, 0, false
		}
	default:
		return 0, 0, false
	}
	k++
	if sep == ':' {
		for k < len(s) && s[k] == ' ' {
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
	if sep == ':' && !quotedName {
		return 0, 0, false // prose: "auth: failed"
	}
	e := k
	for e < len(s) && !valueDelim(s[e]) {
		e++
	}
	return k, e, true
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
